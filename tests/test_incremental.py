"""Incremental builds: a rebuild with a warm cache gives the same bytes as a build from
nothing, so no page is ever stale; changes of templates, taxonomy or code reach every
page; rebuilds write only what changed, and stay atomic.

Every test builds twice into two folders: `warm` (the cache of the earlier builds) and
`cold` (a fresh cache, no previous site), and compares them file by file.
"""

from __future__ import annotations

import os
import random
import re
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, Forks, MakeSite, checked_afresh, claim_yaml, rewrite, snapshot

from naltrexone_site import (
    builder,
    cache,
    cli,
    fragments,
    inputs,
    jobs,
    load,
    markup,
    pagekeys,
    parallel,
    pipeline,
    render,
    sitepatch,
)
from naltrexone_site import snapshot as snapshot_module
from naltrexone_site.builder import Outcome, build
from naltrexone_site.downloads import Downloads
from naltrexone_site.stages import Stages

sys_path_bench = REPO / "bench"


def cold_build(root: Path, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The site built from nothing: an empty cache, no previous output."""
    fresh = tmp / f"cold-cache-{len(list(tmp.glob('cold-cache-*')))}"
    with monkeypatch.context() as m:
        m.setenv("XDG_CACHE_HOME", str(fresh))
        out = fresh / "site"
        assert build(root, out).built
        return snapshot(out)


def children_started(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, the name of the function that started each child process through
    `parallel.Beside` (its caller), in the order they were forked."""
    return Forks(monkeypatch).starters


Warm = Callable[..., tuple[Path, Path]]


@pytest.fixture
def warm(make_site: MakeSite, tmp_path: Path) -> Warm:
    """A project (`make_site`'s files) and its site, built once: where a rebuild starts."""

    def make(files: Mapping[str, str | None] | None = None) -> tuple[Path, Path]:
        root = make_site(files)
        out = tmp_path / "warm-site"
        warm_build(root, out)
        return root, out

    return make


def warm_build(root: Path, out: Path, stages: Stages | None = None) -> Outcome:
    outcome = build(root, out, stages)
    assert outcome.built, [str(p) for p in outcome.checked.problems]
    return outcome


def same_as_cold(root: Path, out: Path, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warm, cold = snapshot(out), cold_build(root, tmp, monkeypatch)
    assert warm.keys() == cold.keys()
    stale = [path for path in cold if warm[path] != cold[path]]
    assert stale == []


def files_made(stages: Stages) -> tuple[int, int] | None:
    """(files made, files of the site) as the render stage noted them; None if it did
    not render."""
    made = re.match(r"(\d+) of (\d+)", stages.notes.get("render", ""))
    return (int(made.group(1)), int(made.group(2))) if made else None


def pages_with(site: dict[str, bytes], text: str) -> set[str]:
    return {path for path, data in site.items() if text.encode() in data}


def rendered_pages(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the pages rendered from now on, in order (clear it between builds)."""
    made: list[str] = []
    render_page = render.Renderer.render

    def recorded(self: render.Renderer, spec: render.Spec) -> str:
        made.append(spec.path)
        return render_page(self, spec)

    monkeypatch.setattr(render.Renderer, "render", recorded)
    return made


# -------------------------------------------------------------------- an edited claim


EDITS: dict[str, Callable[[str], str]] = {
    "statement": lambda t: t.replace(
        "Some users report sleeping better on naltrexone.",
        "Some users report sleeping much better on naltrexone.",
    ),
    "quote moved to another sentence": lambda t: t.replace(
        "Some users report better sleep.", "Some users report vivid dreams."
    ),
    "mechanism": lambda t: t.replace("mechanism: [mood]", "mechanism: [mood, dopamine]"),
    "dose": lambda t: t.replace("dose: unspecified", "dose: low"),
    "strength": lambda t: t.replace("strength: anecdotal", "strength: preliminary"),
    "contradiction added": lambda t: t + "contradicts: [blocks-receptors]\n",
    "relation added": lambda t: t + "related: [fibro-pain]\n",
    "note added": lambda t: t + "note: A *new* note, [linked](claim:fibro-pain).\n",
}


def edit_claim(root: Path, kind: str) -> None:
    """One of EDITS made to the claim they are written for, sleep-better."""
    path = root / "claims" / "sleep-better.yaml"
    path.write_text(EDITS[kind](path.read_text(encoding="utf-8")), encoding="utf-8")


@pytest.mark.parametrize("kind", sorted(EDITS))
def test_every_page_showing_an_edited_claim_shows_the_edit(
    kind: str, warm: Warm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, out = warm()
    edit_claim(root, kind)
    stages = Stages()
    warm_build(root, out, stages)
    made = files_made(stages)
    assert made and made[0] < made[1]  # not a full rebuild
    same_as_cold(root, out, tmp_path, monkeypatch)


def test_a_new_statement_is_on_every_page_that_lists_the_claim_and_the_old_on_none(
    warm: Warm, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, out = warm()
    before = pages_with(snapshot(out), "Some users report sleeping better on naltrexone.")
    assert {"claims/sleep-better.html", "browse.html", "mechanisms/mood.html"} <= before
    edit_claim(root, "statement")
    warm_build(root, out)
    site = snapshot(out)
    assert pages_with(site, "Some users report sleeping better on naltrexone.") == set()
    assert pages_with(site, "Some users report sleeping much better on naltrexone.") == before


def test_the_map_is_made_again_only_when_its_tallies_change(
    warm: Warm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The map shows counts, strength mixes and contested counts, not the claims: its
    key follows those, so a reworded claim does not make it again, and a regraded one
    does."""
    root, out = warm()
    made = rendered_pages(monkeypatch)
    edit_claim(root, "statement")
    warm_build(root, out)
    assert "claims/sleep-better.html" in made and "mechanisms/mood.html" in made
    assert "index.html" not in made
    same_as_cold(root, out, tmp_path, monkeypatch)
    made.clear()
    edit_claim(root, "strength")
    warm_build(root, out)
    assert "index.html" in made  # the strength mix of the claim's cell changed
    same_as_cold(root, out, tmp_path, monkeypatch)


def test_the_dose_view_is_made_again_only_when_a_claim_it_shows_changes(
    warm: Warm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It shows the first claims of each side (25 of them) and how many there are: a
    claim it does not show can be reworded without making it again."""
    monkeypatch.setattr(render, "SIDE_LIMIT", 1)
    quote = "Naltrexone blocks opioid receptors in the brain."
    extra = {
        f"claims/{cid}.yaml": claim_yaml(
            cid, statement, quote=quote, mechanism="immune", dose="standard", strength="anecdotal"
        )
        for cid, statement in (
            ("immune-first", "Naltrexone is said to calm immune cells."),
            ("immune-second", "Naltrexone is said to quiet immune signalling."),
        )
    }
    root, out = warm(extra)
    dose = (out / "dose.html").read_text(encoding="utf-8")
    assert "claims/immune-first.html" in dose and "claims/immune-second.html" not in dose
    made = rendered_pages(monkeypatch)
    for claim, shown in (("immune-second", False), ("immune-first", True)):
        path = root / "claims" / f"{claim}.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace("said to", "reported to"))
        made.clear()
        warm_build(root, out)
        assert f"claims/{claim}.html" in made
        assert ("dose.html" in made) is shown, claim
        same_as_cold(root, out, tmp_path, monkeypatch)


def test_a_claim_page_gets_a_spec_and_a_job_only_when_it_is_to_be_made(
    warm: Warm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a one-claim edit, the claim pages that show nothing new are listed by path
    and key only: no spec, no job (at 10,000 claims those were a twentieth of the
    rebuild). The edited claim's page is made, and those left are the last build's."""
    root, out = warm()
    specs: list[str] = []
    made_spec = render.Spec.__init__

    def counted(self: render.Spec, path: str, *args: Any, **kwargs: Any) -> None:
        specs.append(path)
        made_spec(self, path, *args, **kwargs)

    monkeypatch.setattr(render.Spec, "__init__", counted)
    edit_claim(root, "statement")
    warm_build(root, out)
    claim_specs = [path for path in specs if path.startswith("claims/")]
    assert claim_specs == ["claims/sleep-better.html"]
    same_as_cold(root, out, tmp_path, monkeypatch)


def patched_builds(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, bool]]:
    """From now on, for each build: whether the kept registry was patched (snapshot.py),
    and the kept analysis (sitepatch.py)."""
    taken: list[tuple[bool, bool]] = []
    registry, analysis = snapshot_module.patched, sitepatch.patched

    def loaded(*args: Any) -> Any:
        found = registry(*args)
        taken.append((found is not None, False))
        return found

    def analysed(*args: Any) -> Any:
        found = analysis(*args)
        taken[-1] = (taken[-1][0], found is not None)
        return found

    monkeypatch.setattr(snapshot_module, "patched", loaded)
    monkeypatch.setattr(sitepatch, "patched", analysed)
    return taken


def test_added_and_removed_claims_and_shifted_list_pages(
    warm: Warm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each claim added or removed is patched into the kept registry and analysis (the
    editors' commonest change), and the site is what a cold build makes."""
    monkeypatch.setattr(render, "LIST_LIMIT", 3)  # lists over several pages, which shift
    monkeypatch.setattr(render, "SECTION_LIMIT", 2)
    monkeypatch.setattr(render, "CONFLICT_LIMIT", 1)
    root, out = warm()
    patched = patched_builds(monkeypatch)
    for n in range(4):
        (root / "claims" / f"added-{n}.yaml").write_text(
            claim_yaml(
                f"added-{n}",
                f"Added claim number {n} about sleep and naltrexone.",
                quote="Some users report better sleep.",
                mechanism="mood",
                extra="contradicts: [sleep-better]\n" if n == 2 else "",
            ),
            encoding="utf-8",
        )
        warm_build(root, out)
        same_as_cold(root, out, tmp_path, monkeypatch)
    for name in ("added-1", "sleep-better", "ldn-dopamine-up"):
        (root / "claims" / f"{name}.yaml").unlink()
        if name == "ldn-dopamine-up":  # its partner names it: drop the link too
            partner = root / "claims" / "std-dopamine-down.yaml"
            rewrite(partner, "contradicts: [ldn-dopamine-up]\n", "")
        if name == "sleep-better":
            for other in root.glob("claims/added-2.yaml"):
                rewrite(other, "contradicts: [sleep-better]\n", "")
        warm_build(root, out)
        same_as_cold(root, out, tmp_path, monkeypatch)
    assert not (out / "claims" / "sleep-better.html").exists()
    # every warm build, not the cold ones beside them (which have nothing kept)
    assert patched[::2] == [(True, True)] * 7


def test_a_quote_narrowed_within_its_sentence_is_marked_anew_whatever_page_lists_it(
    warm: Warm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A source page's article marks the quotes of every claim drawn from the source, also
    of those its list leaves to later pages. A quote narrowed within its sentence changes
    neither the coverage nor the claims the page lists: only the marked words."""
    monkeypatch.setattr(render, "SECTION_LIMIT", 1)  # the first page lists one claim
    root, out = warm()
    assert (out / "sources" / "demo-article" / "claims-2.html").exists()
    quoting = [
        path
        for path in sorted((root / "claims").glob("*.yaml"))
        if "source: demo-article" in path.read_text(encoding="utf-8")
    ]
    assert len(quoting) > 2
    for path in quoting:
        text = path.read_text(encoding="utf-8")
        # the quote's first word dropped: the rest is still more than half its sentence
        narrowed = re.sub(r"^(    quote: \"?)\S+ ", r"\1", text, count=1, flags=re.M)
        assert narrowed != text, path.name
        path.write_text(narrowed, encoding="utf-8")
        warm_build(root, out)
        same_as_cold(root, out, tmp_path, monkeypatch)


def test_a_source_page_made_again_takes_its_article_from_the_cache_while_its_marks_hold(
    warm: Warm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A one-claim rebuild makes the page of the claim's source again; its article, as the
    last build rendered it, is reused unless the words it marks or its text changed."""
    root, out = warm()
    articles: list[int] = []
    source_body = markup.source_body

    def counted(body: str, marks: Any) -> Any:
        articles.append(len(body))
        return source_body(body, marks)

    monkeypatch.setattr(markup, "source_body", counted)
    made = rendered_pages(monkeypatch)
    edit_claim(root, "statement")  # listed on the demo article's page, quote as it was
    warm_build(root, out)
    assert "sources/demo-article.html" in made
    assert articles == []
    same_as_cold(root, out, tmp_path, monkeypatch)
    articles.clear()
    edit_claim(root, "quote moved to another sentence")
    warm_build(root, out)
    assert len(articles) == 1  # the demo article's, marked anew
    articles.clear()
    vivid = "- Some users report vivid dreams.\n"
    rewrite(root / "content/sources/demo-article.md", vivid, vivid + "- A new item.\n")
    warm_build(root, out)
    # every page made again (a source changed), the other article as it was
    assert "sources/other-article.html" in made
    assert len(articles) == 1
    same_as_cold(root, out, tmp_path, monkeypatch)


def generated(tmp_path: Path) -> Path:
    """bench/generate.py's registry of 200 claims over 6 sources (near-duplicates,
    contradictions, long lists), with the repository's templates and schemas."""
    sys.path.insert(0, str(sys_path_bench))
    from generate import generate  # type: ignore[import-not-found]

    root = tmp_path / "registry"
    generate(root, 200, 6, seed=3)
    for name in ("templates", "schema"):
        shutil.copytree(REPO / name, root / name)
    return root


def test_the_browse_pages_a_claim_added_moves_take_their_items_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim added moves every later claim of the browse list by one place: the later
    pages are made again, but of their items only the new claim's is made; the others
    are those kept from the last build, as they are. After an edit, only the edited
    claim's is made."""
    monkeypatch.setattr(render, "LIST_LIMIT", 40)
    root = generated(tmp_path)
    out = tmp_path / "warm-site"
    warm_build(root, out)
    made = rendered_pages(monkeypatch)
    items: list[str] = []  # the claims whose browse item was made, not taken
    listed, line = render.Renderer.listed, fragments.Fragments.line
    inside: list[bool] = []

    def listing(self: render.Renderer, *args: Any) -> Any:
        inside.append(True)
        try:
            return listed(self, *args)
        finally:
            inside.pop()

    def making(self: fragments.Fragments, claim: Any, root: str) -> str:
        if inside:
            items.append(claim.id)
        return line(self, claim, root)

    monkeypatch.setattr(render.Renderer, "listed", listing)
    monkeypatch.setattr(fragments.Fragments, "line", making)
    first = root / "claims" / "claim-000040.yaml"
    added = first.with_name("claim-000040-added.yaml")
    added.write_text(
        first.read_text(encoding="utf-8").replace("id: claim-000040", "id: claim-000040-added"),
        encoding="utf-8",
    )
    warm_build(root, out)
    browse = [path for path in made if path.startswith("browse")]
    assert browse == ["browse.html", *(f"browse-{n}.html" for n in range(2, 7))]
    assert items == ["claim-000040-added"]
    same_as_cold(root, out, tmp_path, monkeypatch)
    items.clear()  # and those of the cold build that checks it
    added.unlink()
    warm_build(root, out)
    # Back on page 2 is the claim the added one had moved to page 3, whose item was taken
    # from page 2's: kept again with the added claim's, they hold it no longer (a page's
    # items are kept again only when some are made: 1 ms a page)
    assert items == ["claim-000079"]
    same_as_cold(root, out, tmp_path, monkeypatch)
    made.clear()
    items.clear()
    rewrite(first, "statement: ", "statement: Edited ")
    warm_build(root, out)
    assert [path for path in made if path.startswith("browse")] == ["browse-2.html"]
    assert items == ["claim-000040"]
    same_as_cold(root, out, tmp_path, monkeypatch)


@pytest.mark.parametrize("beside", [False, True], ids=["serial", "beside"])
def test_a_registry_of_200_claims_edited_at_random_stays_identical_to_a_fresh_build(
    beside: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bench/generate.py's registry (near-duplicates, contradictions, long lists), with
    random edits of statements, quotes, grades and links, one build after each; and the
    same with the checks beside the analysis and the downloads beside the pages, as from
    5,000 claims."""
    if beside:
        monkeypatch.setattr(pipeline, "BESIDE_FROM", 1)
        monkeypatch.setattr(jobs, "FORK_COST", 1)
    monkeypatch.setattr(render, "LIST_LIMIT", 40)
    monkeypatch.setattr(render, "SECTION_LIMIT", 15)
    monkeypatch.setattr(render, "CONFLICT_LIMIT", 3)
    root = generated(tmp_path)
    out = tmp_path / "warm-site"
    found = warm_build(root, out).checked.problems
    rng = random.Random(7)
    files = sorted((root / "claims").glob("*.yaml"))
    gone: list[tuple[Path, bytes]] = []
    for step in range(6):
        if step == 5:  # the file removed last put back as it was
            path, data = gone[-1]
            path.write_bytes(data)
            files.append(path)
        elif step % 2:  # a claim added, copied from another with a new id and statement
            source = rng.choice(files)
            path = source.with_name(f"added-{step}.yaml")
            text = source.read_text(encoding="utf-8").replace(
                f"id: {source.stem}", f"id: {path.stem}"
            )
            text = re.sub(r"^(statement: ).*$", rf"\1Added claim {step} here.", text, flags=re.M)
            path.write_text(text, encoding="utf-8")
            files.append(path)
        else:  # one removed that no other claim names
            named = "".join(f.read_text(encoding="utf-8") for f in files)
            some = [f for f in files if named.count(f.stem) == 1]
            if step == 4:  # one that is warned of, to be put back: are its warnings back?
                some = [f for f in some if any(f.name in str(p) for p in found)]
            path = rng.choice(some)
            gone.append((path, path.read_bytes()))
            path.unlink()
            files.remove(path)
        for path in rng.sample(files, 2 if step in (0, 1, 3, 5) else 0):  # or removed only
            text = path.read_text(encoding="utf-8")
            choice = rng.randrange(5)
            if choice == 4:  # a quote narrowed within its sentence: only its marks move
                text = re.sub(r"^(    quote: )\S+ ", r"\1", text, count=1, flags=re.M)
            elif choice == 0:
                text = re.sub(
                    r"^(statement: .*)$", rf"\1 Edited {step}.", text, count=1, flags=re.M
                )
            elif choice == 1:
                text = re.sub(r"^strength: .*$", "strength: theoretical", text, count=1, flags=re.M)
            elif choice == 2:
                other = rng.choice(files).stem
                if other != path.stem and "related:" not in text:
                    text += f"related: [{other}]\n"
            else:
                text = text.replace("stance: qualifies", "stance: disputes")
            path.write_text(text, encoding="utf-8")
        found = warm_build(root, out).checked.problems
        same_as_cold(root, out, tmp_path, monkeypatch)
        assert sorted(map(str, found)) == checked_afresh(root, monkeypatch), step


# ------------------------------------------------------ what invalidates every page


def test_a_template_change_reaches_every_page(
    warm: Warm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, out = warm()
    footer = root / "templates" / "_footer.html"
    rewrite(footer, "</footer>", "<p>Footer v2</p>\n</footer>")
    warm_build(root, out)
    site = snapshot(out)
    html = {p for p in site if p.endswith(".html") and p != "404.html"}
    assert pages_with(site, "Footer v2") >= html
    same_as_cold(root, out, tmp_path, monkeypatch)


def test_a_taxonomy_change_reaches_every_page_that_shows_the_term(
    warm: Warm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, out = warm()
    shown = pages_with(snapshot(out), '<span class="vh">Strength: </span> Anecdotal')
    assert "claims/sleep-better.html" in shown
    strengths = root / "content" / "taxonomy" / "strengths.yaml"
    rewrite(strengths, "label: Anecdotal", "label: Anecdotes only")
    warm_build(root, out)
    site = snapshot(out)
    assert pages_with(site, '<span class="vh">Strength: </span> Anecdotal<') == set()
    assert pages_with(site, '<span class="vh">Strength: </span> Anecdotes only') == shown
    same_as_cold(root, out, tmp_path, monkeypatch)


def test_a_source_change_reaches_its_pages_and_the_claims_that_quote_it(
    warm: Warm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, out = warm()
    source = root / "content" / "sources" / "other-article.md"
    rewrite(source, "title: Another article", "title: Renamed")
    warm_build(root, out)
    same_as_cold(root, out, tmp_path, monkeypatch)


def test_the_build_key_is_kept_while_only_claims_change(
    warm: Warm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build-wide key (code, templates, settings, taxonomy, sources) is read from the
    last build while only claim files changed, and worked out again on any other change."""
    made: list[bytes] = []

    def counted(*args: Any) -> bytes:
        made.append(pagekeys.build_key(*args))
        return made[-1]

    monkeypatch.setattr(jobs, "build_key", counted)
    root, out = warm()
    claim = root / "claims" / "blocks-receptors.yaml"
    rewrite(claim, 'statement: "Naltrexone blocks', 'statement: "It is said that naltrexone blocks')
    warm_build(root, out)
    assert len(made) == 1
    rewrite(root / "content" / "site.yaml", "title: ", "title: New ")
    warm_build(root, out)
    assert len(made) == 2 and made[0] != made[1]
    same_as_cold(root, out, tmp_path, monkeypatch)


def test_new_code_invalidates_everything(
    warm: Warm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, out = warm()
    monkeypatch.setattr(cache, "VERSION", cache.VERSION + 1)
    cache.code_fingerprint.cache_clear()
    try:
        stages = Stages()
        warm_build(root, out, stages)
    finally:
        cache.code_fingerprint.cache_clear()
    made = files_made(stages)
    assert made and made[0] == made[1]  # nothing reused
    same_as_cold(root, out, tmp_path, monkeypatch)


def test_a_library_upgraded_invalidates_everything(
    warm: Warm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new version of a library the build uses (here a stand-in, reinstalled as pip
    does: its files removed and written again) is new code: nothing cached is reused,
    and no page is left as the old version made it."""
    library = tmp_path / "libraries" / "stand_in"
    library.mkdir(parents=True)
    (library / "__init__.py").write_text("VERSION = '1.0'\n")
    monkeypatch.syspath_prepend(str(library.parent))
    monkeypatch.setattr(cache, "LIBRARIES", (*cache.LIBRARIES, "stand_in"))
    cache.code_fingerprint.cache_clear()
    try:
        root, out = warm()
        (library / "__init__.py").unlink()
        (library / "__init__.py").write_text("VERSION = '1.0.1'\n")
        cache.code_fingerprint.cache_clear()
        stages = Stages()
        warm_build(root, out, stages)
        made = files_made(stages)
        assert made and made[0] == made[1], stages.notes  # nothing reused
        cache.code_fingerprint.cache_clear()
        stages = Stages()
        warm_build(root, out, stages)  # the same library again: nothing to do
        assert stages.notes["load"] == "no input changed: nothing to do"
        same_as_cold(root, out, tmp_path, monkeypatch)
    finally:
        cache.code_fingerprint.cache_clear()  # the next test's, without the stand-in


# ----------------------------------------------------------- no-op, writes, atomicity


def test_a_rebuild_with_nothing_changed_writes_nothing(warm: Warm) -> None:
    root, out = warm()
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    stages = Stages()
    outcome = warm_build(root, out, stages)
    assert stages.notes["load"] == "no input changed: nothing to do"
    assert outcome.pages == sum(p.endswith(".html") for p in map(str, before))
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before


def touch_every_input(root: Path) -> None:
    """What a checkout or `git stash` and back does: every input file gets a new time,
    and one a new inode (written anew, with the same bytes), but no file new bytes."""
    for folder in ("content", "claims", "templates", "schema"):
        for path in (root / folder).rglob("*"):
            if path.is_file():
                os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    claim = root / "claims" / "sleep-better.yaml"
    (root / "copy.tmp").write_bytes(claim.read_bytes())
    os.replace(root / "copy.tmp", claim)


def test_a_rebuild_after_only_the_inputs_times_changed_writes_nothing(
    warm: Warm, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, out = warm()
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    touch_every_input(root)
    rendered = rendered_pages(monkeypatch)
    stages = Stages()
    outcome = warm_build(root, out, stages)
    assert stages.notes["load"] == "only the inputs' times changed: nothing to do"
    assert "analyse" not in stages.wall and rendered == []
    assert outcome.pages == sum(p.endswith(".html") for p in map(str, before))
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before
    stages = Stages()
    warm_build(root, out, stages)  # the new times were kept: the quicker no-op
    assert stages.notes["load"] == "no input changed: nothing to do"


def test_the_address_given_in_place_of_the_settings_is_an_input(
    make_site: MakeSite, tmp_path: Path
) -> None:
    """`build --base-url`: the same address again is a build with nothing to do; another,
    or none (site.yaml's), is a build of every page that names it."""
    root = make_site()
    out = tmp_path / "warm-site"
    assert build(root, out, base_url="https://a.test/map/").built
    stages = Stages()
    assert build(root, out, stages, base_url="https://a.test/map/").built
    assert stages.notes["load"] == "no input changed: nothing to do"
    for address in ("https://b.test/", None):
        stages = Stages()
        assert build(root, out, stages, base_url=address).built
        assert "load" not in stages.notes
        robots = (out / "robots.txt").read_text("utf-8")
        assert robots.endswith(
            f"Sitemap: {address or 'https://example.org/naltrexone-evidence-map/'}sitemap.xml\n"
        )


# A new sentence where each kind of input shows it: the claim's statement, the claim
# page's heading, a source's article.
NEW_BYTES = {
    "claims/sleep-better.yaml": (b"sleeping better", b"sleeping NEW better"),
    "templates/claim.html": (b"{{ article }}", b"NEW {{ article }}"),
    "content/sources/demo-article.md": (b"## Low dose", b"NEW sentence.\n\n## Low dose"),
}


@pytest.mark.parametrize("where", sorted(NEW_BYTES))
def test_a_file_with_new_bytes_among_touched_files_is_built(
    where: str, warm: Warm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a rebuild that found only new times (its record then holds the new stats
    and the old digests), an edit is built, alone or among more touched files."""
    root, out = warm()
    touch_every_input(root)
    warm_build(root, out)
    path = root / where
    old, new = NEW_BYTES[where]
    for touched_too in (False, True):
        if touched_too:
            touch_every_input(root)
            new, old = old, new  # and back
        data = path.read_bytes()
        assert old in data
        path.write_bytes(data.replace(old, new, 1))
        stages = Stages()
        warm_build(root, out, stages)
        assert "load" not in stages.notes
        same_as_cold(root, out, tmp_path, monkeypatch)
        assert (b"NEW" in b"".join(snapshot(out).values())) is not touched_too


# ------------------------------------------------ a file system with whole-second times

# Each rewritten in place with the same size (on such a file system, within its second,
# its stat is what it was), and what its pages then show.
SAME_SIZE = {
    "claims/sleep-better.yaml": (b"sleeping better", b"sleeping BETTER", "sleeping BETTER"),
    "templates/claim.html": (b"Claim: {{ title }}", b"CLAIM: {{ title }}", "<title>CLAIM: "),
    "content/sources/demo-article.md": (b"## How it works", b"## HOW IT WORKS", "HOW IT WORKS"),
}


def stamped_long_ago(path: Path) -> None:
    hour_ago = (time.time_ns() // 10**9 - 3600) * 10**9
    os.utime(path, ns=(hour_ago, hour_ago))


def whole_seconds(root: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[Path, bytes], None]:
    """From now on, the stat of a file system that keeps times in whole seconds (the
    ctime as the mtime, as FAT's), where the project's files were written an hour ago,
    and a clock that stays a second past the last whole second; and what writes a file
    there within that second: the same stat at each write."""
    second = time.time_ns() // 10**9 * 10**9
    monkeypatch.setattr(inputs, "time_ns", lambda: second + 10**9)
    for path in root.rglob("*"):
        stamped_long_ago(path)

    def key(info: os.stat_result) -> tuple[int, ...]:
        stamp = info.st_mtime_ns // 10**9 * 10**9
        return (stamp, stamp, info.st_size, info.st_ino)

    def write(path: Path, data: bytes) -> None:
        path.write_bytes(data)
        os.utime(path, ns=(second, second))

    monkeypatch.setattr(inputs, "stat_key", key)
    return write


def looked_at(root: Path, where: str) -> tuple[int, ...]:
    """A file's stat as a build's look finds it, without the look's mark."""
    return inputs.unmarked(inputs.scan_inputs(root, inputs.BUILT_FROM)[where])


def test_only_a_recent_whole_second_stamp_makes_a_key_that_no_other_look_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    second = time.time_ns() // 10**9 * 10**9
    monkeypatch.setattr(inputs, "time_ns", lambda: second)  # the clock, stopped
    stamps = {
        "claims/fine.yaml": second - 123_456_789,  # finer than a second
        "claims/recent.yaml": second - 2 * 10**9,
        "claims/ahead.yaml": second + 60 * 10**9,
        "claims/older.yaml": second - 4 * 10**9,
        "claims/old.yaml": second - 3600 * 10**9,
    }
    for name, stamp in stamps.items():
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_text("id: x\n", encoding="utf-8")
        os.utime(path, ns=(stamp, stamp))
    if (tmp_path / "claims/fine.yaml").stat().st_mtime_ns != stamps["claims/fine.yaml"]:
        pytest.skip("the temporary folder's file system keeps coarser times")
    first, second_look = inputs.scan_inputs(tmp_path), inputs.scan_inputs(tmp_path)
    changed = {name for name in stamps if first[name] != second_look[name]}
    assert changed == {"claims/recent.yaml", "claims/ahead.yaml"}
    for name in stamps:
        info = (tmp_path / name).stat()
        assert inputs.unmarked(first[name]) == inputs.stat_key(info)
        assert inputs.unmarked(second_look[name]) == inputs.stat_key(info)


@pytest.mark.parametrize("where", sorted(SAME_SIZE))
def test_a_file_rewritten_within_its_second_on_a_whole_second_file_system_is_built(
    where: str, warm: Warm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git's "racily clean" files: the stat a build looked at is the stat of the next
    bytes too. The next build reads the file again, and once its stamp is old, the record
    holds its stat and a build with nothing to do is one again."""
    root, out = warm()
    write = whole_seconds(root, monkeypatch)
    path = root / where
    old, new, shown = SAME_SIZE[where]
    data = path.read_bytes()
    write(path, data)
    warm_build(root, out)
    before = looked_at(root, where)
    write(path, data.replace(old, new, 1))
    assert looked_at(root, where) == before
    stages = Stages()
    warm_build(root, out, stages)
    assert "load" not in stages.notes
    assert pages_with(snapshot(out), shown)
    same_as_cold(root, out, tmp_path, monkeypatch)
    stamped_long_ago(path)
    rendered = rendered_pages(monkeypatch)
    warm_build(root, out)
    assert rendered == []
    stages = Stages()
    warm_build(root, out, stages)
    assert stages.notes["load"] == "no input changed: nothing to do"


@pytest.mark.parametrize("where", ["claims/sleep-better.yaml", "content/sources/demo-article.md"])
def test_a_full_load_reads_again_a_file_rewritten_within_its_second(
    where: str, warm: Warm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parsed claims and sources are kept by their stat too: a build that loads the
    whole registry (the settings changed as well) reads the file again."""
    root, out = warm()
    write = whole_seconds(root, monkeypatch)
    path = root / where
    old, new, shown = SAME_SIZE[where]
    data = path.read_bytes()
    settings = root / "content" / "site.yaml"
    for now in (data, data.replace(old, new, 1)):
        write(path, now)
        settings.write_text(settings.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        stages = Stages()
        warm_build(root, out, stages)
        assert "load" not in stages.notes  # loaded whole: the settings changed
    assert pages_with(snapshot(out), shown)
    same_as_cold(root, out, tmp_path, monkeypatch)


def test_a_template_rewritten_within_its_second_after_the_build_read_it_is_built_again(
    warm: Warm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The digest a build keeps of a file outside claims/ is taken when it is done: of
    bytes that may have come after those it read, with the same stat. A recent file's is
    not kept, so the next build, which finds its stat older, does not take it for read."""
    root, out = warm()
    write = whole_seconds(root, monkeypatch)
    path = root / "templates" / "claim.html"
    old, new, shown = SAME_SIZE["templates/claim.html"]
    data = path.read_bytes()
    write(path, data)
    read_as_scanned = inputs.read_as_scanned  # as the builder imported it

    def rewritten_first(*args: Any) -> Any:
        write(path, data.replace(old, new, 1))  # after the pages were made, as they came
        return read_as_scanned(*args)

    edit_claim(root, "statement")  # a build with pages to make
    with monkeypatch.context() as m:
        m.setattr(builder, "read_as_scanned", rewritten_first)
        stages = Stages()
        warm_build(root, out, stages)
    assert files_made(stages) and not pages_with(snapshot(out), shown)
    stamped_long_ago(path)
    warm_build(root, out)
    assert pages_with(snapshot(out), shown)
    same_as_cold(root, out, tmp_path, monkeypatch)


def test_check_reads_again_a_claim_rewritten_within_its_second(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`check`'s kept result is keyed by the stat of every input, as a build's record."""
    root = make_site()
    write = whole_seconds(root, monkeypatch)
    path = root / "claims" / "sleep-better.yaml"
    data = path.read_bytes()
    write(path, data)
    assert cli.checked_project(root).errors == 0
    write(path, data.replace(b"strength: anecdotal", b"strength: anecdotax", 1))
    found = [str(p) for p in cli.checked_project(root).problems]
    assert found == checked_afresh(root, monkeypatch)
    assert any("anecdotax" in line for line in found)


def build_while(
    root: Path, out: Path, monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], object]
) -> None:
    """A build with work to do (a claim edited), `meanwhile` done after its look at the
    files and before it reads any (a checkout or `git stash` while it runs)."""
    anchor_project = pipeline.anchor_project

    def late(*args: Any, **kwargs: Any) -> Any:
        meanwhile()
        return anchor_project(*args, **kwargs)

    edit_claim(root, "statement")
    with monkeypatch.context() as m:
        m.setattr(pipeline, "anchor_project", late)
        warm_build(root, out)


def test_an_input_written_during_a_build_counts_as_changed_even_if_changed_back(
    warm: Warm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`git stash` while a build runs, `git stash pop` after: the build read the stashed
    template, and the file then holds the bytes it held when the build started. Only a
    digest taken of the bytes the build read may say that nothing changed."""
    root, out = warm()
    template = root / "templates" / "claim.html"
    started = template.read_bytes()
    stashed = started.replace(b"{{ article }}", b"STASHED {{ article }}")
    build_while(root, out, monkeypatch, lambda: template.write_bytes(stashed))
    assert b"STASHED" in (out / "claims" / "sleep-better.html").read_bytes()
    template.write_bytes(started)  # popped: the bytes of the start, a new time
    stages = Stages()
    warm_build(root, out, stages)
    assert "load" not in stages.notes
    same_as_cold(root, out, tmp_path, monkeypatch)


def test_an_input_added_during_a_build_and_removed_after_it_is_not_left_published(
    warm: Warm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkout of a branch with one more static file while a build runs, and back: the
    build published the file, and the next one finds the files its look found before."""
    root, out = warm()
    added = root / "templates" / "static" / "added.css"
    build_while(root, out, monkeypatch, lambda: added.write_text("p {}\n", encoding="utf-8"))
    assert (out / "static" / "added.css").exists()
    added.unlink()  # back
    stages = Stages()
    warm_build(root, out, stages)
    assert "load" not in stages.notes
    same_as_cold(root, out, tmp_path, monkeypatch)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_an_input_replaced_by_a_pipe_is_reported_not_waited_for(warm: Warm) -> None:
    """Comparing a touched file's bytes must not read a pipe: it waited for a writer."""
    root, out = warm()
    source = root / "content" / "sources" / "demo-article.md"
    source.unlink()
    os.mkfifo(source)
    done = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--root", str(root), "build", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert (
        "content/sources/demo-article.md: error: cannot read the file: it is not a" in done.stdout
    )


@pytest.mark.skipif(parallel.workers() < 2, reason="needs two cores and fork")
@pytest.mark.parametrize("overlap_from", [1, 1_000_000])
def test_the_files_are_looked_at_in_a_child_only_where_that_hides_the_imports(
    overlap_from: int, warm: Warm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From builder.OVERLAP_FROM input files a build looks at them in a child process while
    it imports the rest; below, it looks itself, and a build with nothing to do starts no
    process at all. Either way it sees the same: nothing changed, then an edit."""
    monkeypatch.setattr(builder, "OVERLAP_FROM", overlap_from)
    root, out = warm()
    starters = children_started(monkeypatch)
    stages = Stages()
    warm_build(root, out, stages)
    assert stages.notes["load"] == "no input changed: nothing to do"
    assert starters == (["_build"] if overlap_from == 1 else [])
    edit_claim(root, "statement")
    stages = Stages()
    warm_build(root, out, stages)
    assert "load" not in stages.notes
    same_as_cold(root, out, tmp_path, monkeypatch)


def test_an_edit_writes_only_the_files_whose_bytes_changed(warm: Warm) -> None:
    root, out = warm()
    before = snapshot(out)
    inodes = {p: p.stat().st_ino for p in out.rglob("*") if p.is_file()}
    edit_claim(root, "statement")
    outcome = warm_build(root, out)
    after = snapshot(out)
    changed = {p for p in after if after[p] != before.get(p)}
    assert outcome.written == len(changed)
    for p in out.rglob("*"):
        if p.is_file() and p.relative_to(out).as_posix() not in changed:
            assert p.stat().st_ino == inodes[p]  # untouched, not even rewritten


def test_a_site_changed_by_hand_is_rebuilt_in_full(
    warm: Warm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, out = warm()
    (out / "browse.html").unlink()
    (out / "claims" / "fibro-pain.html").write_text("mine", encoding="utf-8")  # a new inode
    warm_build(root, out)
    same_as_cold(root, out, tmp_path, monkeypatch)


@pytest.mark.parametrize("fault", [KeyboardInterrupt, PermissionError])
def test_an_interrupted_or_failed_incremental_write_keeps_the_old_site(
    fault: type[BaseException],
    warm: Warm,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Files replaced in place (a small change) are put back if the second move fails."""
    monkeypatch.setattr(builder, "PATCH_SHARE", 1)  # patch in place even for this small site
    root, out = warm()
    before = snapshot(out)
    edit_claim(root, "statement")
    real_replace = os.replace
    moves: list[str] = []

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if str(dst).startswith(str(out) + os.sep):
            moves.append(str(dst))
            if len(moves) == 2:  # the first file is in place: fail on the second
                raise fault(13, "Permission denied") if fault is PermissionError else fault()
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    if fault is KeyboardInterrupt:
        with pytest.raises(KeyboardInterrupt):
            build(root, out)
    else:
        assert builder.build_command(root, out) == 1
    monkeypatch.setattr(os, "replace", real_replace)
    assert len(moves) >= 3  # replaced one, failed on the next, put the first back
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("warm-site.")) == []
    warm_build(root, out)  # and the next build does it
    same_as_cold(root, out, tmp_path, monkeypatch)


@pytest.mark.parametrize(
    "thresholds",
    [
        # split everything: parse, anchor and render in workers, checks beside analysis
        [(jobs, "PARALLEL_FROM"), (load, "PARALLEL_FROM"), (pipeline, "PARALLEL_FROM")]
        + [(pipeline, "BESIDE_FROM")],
        # a few pages here and the downloads in a child, as after a one-claim edit
        [(jobs, "FORK_COST"), (pipeline, "BESIDE_FROM")],
    ],
    ids=["split", "beside"],
)
def test_workers_give_the_same_bytes_as_one_process(
    thresholds: list[tuple[object, str]],
    make_site: MakeSite,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Forked workers parse, anchor, check and render; the result does not depend on it."""
    root = make_site()
    serial = cold_build(root, tmp_path, monkeypatch)
    for module, threshold in thresholds:
        monkeypatch.setattr(module, threshold, 1)
    assert cold_build(root, tmp_path, monkeypatch) == serial


def test_bad_data_that_breaks_the_analysis_begun_beside_the_checks_gets_their_errors(
    make_site: MakeSite,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """From BESIDE_FROM claims the analysis starts while the checks run in a child, on
    the guess that they find no error. A link to a claim that does not exist breaks the
    analysis (a KeyError): the build reports the checks' error, as without the guess."""
    monkeypatch.setattr(pipeline, "BESIDE_FROM", 1)
    failures: list[Exception] = []
    plan = jobs.plan

    def watched(*args: object) -> jobs.Plan:
        try:
            return plan(*args)  # type: ignore[arg-type]
        except KeyError as exc:
            failures.append(exc)
            raise

    monkeypatch.setattr(jobs, "plan", watched)
    quote = "Naltrexone blocks opioid receptors in the brain."
    bad = claim_yaml("bad", "A claim.", quote=quote, extra="contradicts: [nobody]\n")
    root = make_site({"claims/bad.yaml": bad})
    assert builder.build_command(root, tmp_path / "site") == 1
    out, err = capsys.readouterr()
    assert "claims/bad.yaml:11:15: error: contradicts: 'nobody' is not a known claim" in out
    assert "not built" in out and "Traceback" not in out + err
    assert [str(e) for e in failures] == ["'nobody'"]  # the guess was made, and failed
    assert not (tmp_path / "site").exists()


def test_an_analysis_that_fails_on_sound_data_fails_as_it_is(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guess fails but the checks find nothing: the analysis runs again after them,
    so a bug shows its own exception rather than being swallowed."""
    monkeypatch.setattr(pipeline, "BESIDE_FROM", 1)
    calls = []

    def broken(*args: object) -> jobs.Plan:
        calls.append(args)
        raise RuntimeError("a bug in the analysis")

    monkeypatch.setattr(jobs, "plan", broken)
    with pytest.raises(RuntimeError, match="a bug in the analysis"):
        build(make_site(), tmp_path / "site")
    assert len(calls) == 2
    assert not (tmp_path / "site").exists()


def test_a_failing_worker_reports_the_template_error_as_one_process_would(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "PARALLEL_FROM", 1)
    root = make_site()
    template = root / "templates" / "sources.html"
    rewrite(template, '<p class="lead">The articles', '<p class="lead">{{ nope }} The articles')
    code = builder.build_command(root, tmp_path / "site")
    assert code == 1
    assert not (tmp_path / "site").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("site.")) == []


def test_a_claim_template_that_tests_its_values_is_rendered_per_page(
    make_site: MakeSite, tmp_path: Path
) -> None:
    """templates/claim.html is rendered once, as a frame; a template whose output does
    not simply contain the values is noticed and rendered for each claim instead."""
    root = make_site()
    template = root / "templates" / "claim.html"
    rewrite(
        template,
        "{% block title %}Claim: {{ title }}{% endblock %}",
        "{% block title %}{{ 'Claim' if title|length < 50 else 'Long claim' }}: "
        "{{ title|upper }}{% endblock %}",
    )
    out = tmp_path / "site"
    warm_build(root, out)
    page = (out / "claims" / "sleep-better.html").read_text(encoding="utf-8")
    assert "<title>Claim: SOME USERS REPORT SLEEPING BETTER ON NALTREXONE." in page
    page = (out / "claims" / "standard-stops-high.html").read_text(encoding="utf-8")
    assert "<title>Long claim: AT THE STANDARD DOSE, NALTREXONE STOPS" in page


def test_check_run_again_reports_the_same_and_sees_every_edit(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    from naltrexone_site.cli import main

    root = make_site()

    def check() -> str:
        main(["--root", str(root), "check"])
        return capsys.readouterr().out

    first = check()
    assert check() == first  # nothing changed: the kept result
    path = root / "claims" / "sleep-better.yaml"
    rewrite(path, "mechanism: [mood]", "mechanism: [nope]")
    edited = check()
    assert "'nope' is not a known mechanism" in edited
    with pytest.MonkeyPatch.context() as m:
        m.setenv("NALTREXONE_SITE_CACHE", "0")
        assert check() == edited  # the same as checking from nothing


def test_sources_and_overviews_are_parsed_again_only_when_their_file_changed(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Their parse (and its problems) is kept with the file's stat, like a claim's."""
    from naltrexone_site.cli import main

    parsed: list[str] = []
    for name in ("_load_source", "_load_overview"):
        real = getattr(load, name)

        def counted(root: Path, path: Path, problems: list[object], real: Any = real) -> Any:
            parsed.append(path.name)
            return real(root, path, problems)

        monkeypatch.setattr(load, name, counted)
    root = make_site()
    source = root / "content" / "sources" / "other-article.md"
    rewrite(source, "kind: ", "kind: pamphlet-")  # an error, kept with the parse

    def check() -> str:
        main(["--root", str(root), "check"])
        return capsys.readouterr().out

    first = check()
    assert "other-article.md" in first and "is not a known source kind" in first
    assert sorted(parsed) == sorted(p.name for p in load.project_files(root) if p.suffix == ".md")
    parsed.clear()
    rewrite(root / "claims" / "sleep-better.yaml", "stance: supports", "stance: qualifies")
    second = check()
    assert parsed == []  # the claim changed, no source or overview did
    assert "is not a known source kind" in second  # the kept parse's problem, again
    rewrite(source, "kind: pamphlet-", "kind: ")
    fixed = check()
    assert parsed == ["other-article.md"]
    assert "other-article.md" not in fixed


@pytest.mark.parametrize("workers", [False, True], ids=["here", "in-workers"])
def test_a_claim_file_gone_before_it_is_read_is_reported_not_raised(
    workers: bool, make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file listed by the scan but removed before it is read (an editor's tool saving
    by delete-and-rename): its own located error, and the other claims load."""
    if workers:
        monkeypatch.setattr(load, "PARALLEL_FROM", 1)
    root = make_site()
    names = sorted(f"claims/{p.name}" for p in (root / "claims").glob("*.yaml"))
    scanned = {name: (1, 1, 100, 1) for name in [*names, "claims/gone.yaml"]}
    problems: list[object] = []
    claims = load.load_claims(root, sorted(scanned), problems, scanned)  # type: ignore[arg-type]
    assert [str(p) for p in problems] == [
        "claims/gone.yaml: error: cannot read the file: No such file or directory"
    ]
    assert sorted(c.path for c in claims) == names


@pytest.mark.parametrize("change", [-1, 0, 1], ids=["grew", "same", "shrank"])
def test_a_claim_file_is_read_whole_whatever_size_its_stat_said(
    change: int, make_site: MakeSite
) -> None:
    """A file written between the scan and the read: its bytes as they are now."""
    root = make_site()
    names = sorted(f"claims/{p.name}" for p in (root / "claims").glob("*.yaml"))
    sizes = {name: (root / name).stat().st_size for name in names}
    scanned = {name: (1, 1, max(0, size + change * (size // 2)), 1) for name, size in sizes.items()}
    problems: list[object] = []
    claims = load.load_claims(root, names, problems, scanned)  # type: ignore[arg-type]
    assert problems == []
    expected = [load.parse_claim(name, (root / name).read_bytes())[0] for name in names]
    assert [c.statement for c in claims] == [c.statement for c in expected if c is not None]
    assert len(claims) == len(names)


@pytest.mark.skipif(parallel.workers() < 2, reason="needs two cores and fork")
def test_claims_cached_in_the_background_are_all_there_when_the_build_returns(
    warm: Warm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From load.BACKGROUND_FROM parsed claims, a child process writes them to the cache
    while the build goes on; the build waits for it before returning, so the next build
    finds every claim parsed."""
    monkeypatch.setattr(load, "BACKGROUND_FROM", 1)
    starters = children_started(monkeypatch)
    root, out = warm()
    forks = [starter for starter in starters if starter == "save_shards"]
    assert len(forks) == 1 and cache._writers == []  # written beside, and waited for
    parsed: list[str] = []
    parse = load.parse_claim

    def watched(name: str, raw: bytes) -> Any:
        parsed.append(name)
        return parse(name, raw)

    monkeypatch.setattr(load, "parse_claim", watched)
    rewrite(root / "claims" / "sleep-better.yaml", "stance: supports", "stance: qualifies")
    warm_build(root, out)
    assert parsed == ["claims/sleep-better.yaml"]
    same_as_cold(root, out, tmp_path, monkeypatch)


@pytest.mark.skipif(parallel.workers() < 2, reason="compiled in this process on one core")
def test_a_cold_build_compiles_its_templates_beside_and_renders_from_them(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no compiled templates in the cache, a child compiles them into it while the
    build loads and analyses; the build then loads them, compiling none itself."""
    import jinja2

    compiled: list[str] = []
    compile_source = jinja2.Environment.compile

    def counted(self: jinja2.Environment, source: Any, name: Any = None, *args: Any) -> Any:
        compiled.append(name)  # in this process only: the child's list is its own copy
        return compile_source(self, source, name, *args)

    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    root = make_site()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    warm_build(root, tmp_path / "site")
    assert compiled == []
    templates = cache.folder(root, "templates")
    assert templates is not None
    names = render.environment(root / "templates").list_templates(extensions=("html",))
    assert len(list(templates.glob("__jinja2_*.cache"))) == len(names)
    # the cache holds them now: the next build starts no child for them
    monkeypatch.setattr(os, "fork", lambda: pytest.fail("a child was started"))
    with builder.templates_compiled_beside(root) as wait:
        wait()


def test_the_texts_keep_no_index_of_pieces_once_every_quote_is_anchored(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index is four times a body's size, and every process forked later (the
    checks, the renderers, the downloads) would hold it: 100 MB at 100,000 claims."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # cold: every quote found
    root = make_site()
    with pipeline.anchor_project(root, Stages()) as anchored:
        assert anchored.context is not None
        texts = anchored.context.texts
    assert texts and all("_pieces" not in vars(text) for text in texts.values())


# ------------------------------------------------------------- the downloads, started early


@pytest.mark.skipif(parallel.workers() < 2, reason="needs two cores and fork")
def test_the_downloads_start_in_a_child_before_the_pages_are_listed(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As soon as the analysis is done, a child makes the downloads (jobs.Ahead) while
    this process lists and renders the pages: after a one-claim edit as on a cold build.
    The site is byte for byte what one process makes."""
    root = make_site()
    with monkeypatch.context() as m:
        m.setattr(parallel, "workers", lambda: 1)
        alone = cold_build(root, tmp_path, monkeypatch)
    monkeypatch.setattr(jobs, "FORK_COST", 1)
    events: list[object] = []
    pages, start, files = render.Renderer.pages, jobs.Ahead.start, Downloads.files

    def listed(self: render.Renderer) -> render.Pages:
        events.append("pages listed")
        return pages(self)

    def started(self: jobs.Ahead, job: jobs.Job, build: bytes) -> None:
        start(self, job, build)
        events.append(self.job.paths if self.job is job else "not started")

    def made(self: Any) -> Any:
        (tmp_path / "downloads-made-by").write_text(str(os.getpid()))
        return files(self)

    monkeypatch.setattr(render.Renderer, "pages", listed)
    monkeypatch.setattr(jobs.Ahead, "start", started)
    monkeypatch.setattr(Downloads, "files", made)
    assert cold_build(root, tmp_path, monkeypatch) == alone
    downloads = ("claims.json", "claims.csv", "search-index.js")
    assert events == [downloads, "pages listed"]
    assert (tmp_path / "downloads-made-by").read_text() != str(os.getpid())

    out = tmp_path / "site"
    warm_build(root, out)
    events.clear()
    rewrite(root / "claims" / "sleep-better.yaml", "stance: supports", "stance: qualifies")
    outcome = warm_build(root, out)
    assert events == [downloads, "pages listed"]
    assert outcome.written > 3  # the claim's pages and the downloads, moved into the site
    same_as_cold(root, out, tmp_path, monkeypatch)
    events.clear()
    assert warm_build(root, out).written == 0  # nothing changed: no child, nothing made
    assert events == []


@pytest.mark.skipif(parallel.workers() < 2, reason="needs two cores and fork")
def test_downloads_a_child_failed_to_finish_are_made_again_here(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child wrote one file and failed: this process removes what it left and makes
    the downloads itself (they are written with O_EXCL, so a leftover would be taken
    for two pages at one path)."""
    root = make_site()
    expected = cold_build(root, tmp_path, monkeypatch)
    monkeypatch.setattr(jobs, "FORK_COST", 1)
    here, files = os.getpid(), Downloads.files

    def failing(self: Any) -> Any:
        for n, made in enumerate(files(self)):
            if n == 1 and os.getpid() != here:
                raise RuntimeError("the child fails after writing claims.json")
            yield made

    monkeypatch.setattr(Downloads, "files", failing)
    assert cold_build(root, tmp_path, monkeypatch) == expected


@pytest.mark.skipif(parallel.workers() < 2, reason="needs two cores and fork")
def test_pages_a_child_failed_to_finish_are_made_again_here(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages are shared out between processes; a child fails after writing some of its
    own: this process removes what the children left and makes every page itself."""
    root = make_site()
    expected = cold_build(root, tmp_path, monkeypatch)
    monkeypatch.setattr(jobs, "PARALLEL_FROM", 1)
    here, render_page = os.getpid(), render.Renderer.render
    hold, release = os.pipe()
    seen: list[str] = []  # each process its own list

    def failing(self: render.Renderer, spec: Any) -> str:
        seen.append(spec.path)
        if os.getpid() == here and len(seen) == 1:
            select.select([hold], [], [], 60)  # the child takes pieces meanwhile
        elif os.getpid() != here and len(seen) == 2:  # its first page was written
            os.write(release, b"x")
            raise RuntimeError("a child fails at its second page")
        return render_page(self, spec)

    monkeypatch.setattr(render.Renderer, "render", failing)
    made: list[str] = []
    again = jobs._produce_again

    def watched(these: Any, staging: Any, compare: bool) -> list[str]:
        made.extend(path for job in these for path in job.paths)
        return again(these, staging, compare)

    monkeypatch.setattr(jobs, "_produce_again", watched)
    try:
        assert cold_build(root, tmp_path, monkeypatch) == expected
    finally:
        os.close(hold)
        os.close(release)
    assert "index.html" in made and len(made) > 20  # every page made again here


@pytest.mark.skipif(parallel.workers() < 2, reason="needs two cores and fork")
def test_an_error_found_after_the_downloads_started_leaves_no_trace(
    make_site: MakeSite,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The checks run beside the analysis (a source changed: everything is checked
    again); the downloads start when it ends. The checks then find an error: the child is
    stopped, its staging folder removed, the site left as it was."""
    monkeypatch.setattr(pipeline, "BESIDE_FROM", 1)
    monkeypatch.setattr(jobs, "FORK_COST", 1)
    root = make_site()
    out = tmp_path / "site"
    warm_build(root, out)
    before = snapshot(out)
    staged: list[bool] = []
    start = jobs.Ahead.start

    def started(self: jobs.Ahead, job: jobs.Job, build: bytes) -> None:
        start(self, job, build)
        staged.append(self.staging is not None and self.staging.folder.is_dir())

    monkeypatch.setattr(jobs.Ahead, "start", started)
    quote = "Naltrexone blocks opioid receptors in the brain."
    (root / "claims" / "misnamed.yaml").write_text(
        claim_yaml("renamed", "A claim about receptors.", quote=quote), encoding="utf-8"
    )
    with (root / "content" / "sources" / "demo-article.md").open("a", encoding="utf-8") as f:
        f.write("\nA sentence added at the end.\n")
    assert builder.build_command(root, out) == 1
    printed = capsys.readouterr().out
    assert "misnamed.yaml:1:1: error: id: 'renamed' does not match the file name" in printed
    assert staged == [True]  # the child had started, in a staging folder of its own
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir() if ".building-" in p.name) == []
