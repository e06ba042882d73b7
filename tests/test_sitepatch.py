"""The analysed site kept with the registry's snapshot (sitepatch.py): patched for the
claims whose files changed, it is what analysing the whole registry gives, field by field
and in order, whatever the edit; where it cannot be patched, the whole is analysed."""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

from naltrexone_site import builder, cache, cli, sitepatch, snapshot
from naltrexone_site.history import claim_history
from naltrexone_site.inputs import StatKey
from naltrexone_site.pagekeys import claim_versions
from naltrexone_site.pages import Site, analyse
from naltrexone_site.pipeline import anchor_project, check_project
from naltrexone_site.sitepatch import Analysed
from naltrexone_site.stages import Stages

sys.path.insert(0, str(REPO / "bench"))
from generate import generate  # type: ignore[import-not-found]  # noqa: E402


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A synthetic registry of 200 claims over 6 sources, built once (the analysis kept)."""
    found = tmp_path / "registry"
    generate(found, 200, 6, seed=3)
    for name in ("templates", "schema"):
        shutil.copytree(REPO / name, found / name)
    source = found / "content/sources/source-002.md"  # a dose that a claim may come to quote
    source.write_text(source.read_text("utf-8") + f"\n{AMOUNT}\n", encoding="utf-8")
    builder.build(found, tmp_path / "site")
    return found


def scanned(root: Path) -> dict[str, StatKey]:
    """The inputs as a build sees them (with the code's and the checkout's fingerprints)."""
    return builder._look(root, root / "unused")[0]


def both(root: Path) -> tuple[Analysed | None, Analysed]:
    """The kept analysis patched, and the whole registry analysed, from one loading."""
    with anchor_project(root, Stages(), scanned(root)) as anchored:
        ctx, earlier = anchored.context, anchored.earlier
        assert ctx is not None and earlier is not None  # the registry was patched
        history = claim_history(root)
        patched = sitepatch.patched(earlier, ctx, history)
        site = analyse(ctx, history)
        versions = claim_versions(site.claims.values(), site.marks, ctx.digests, history)
        return patched, Analysed(site, versions)


def assert_same(patched: Analysed | None, fresh: Analysed) -> None:
    assert patched is not None and patched.patched
    for field in fields(Site):
        a, b = getattr(patched.site, field.name), getattr(fresh.site, field.name)
        if isinstance(a, dict):  # in order too: pages list what they hold as it comes
            assert list(a.items()) == list(b.items()), field.name
        else:
            assert a == b, field.name
    assert list(patched.versions.items()) == list(fresh.versions.items())


def base_file(root: Path) -> Path:
    folder = cache.cache_dir(root)
    assert folder is not None
    (found,) = [p for p in folder.glob(f"{snapshot.BASE}-*.pickle") if "changes" not in p.name]
    return found


def claim(root: Path, n: int) -> Path:
    return root / "claims" / f"claim-{n:06d}.yaml"


def sub(path: Path, pattern: str, replacement: str) -> None:
    text = path.read_text(encoding="utf-8")
    changed = re.sub(pattern, replacement, text, count=1, flags=re.M)
    assert changed != text, pattern
    path.write_text(changed, encoding="utf-8")


def with_field(path: Path, name: str, value: str) -> None:
    """Set a top-level field, adding it before `reviewed` if the claim has none."""
    text = path.read_text(encoding="utf-8")
    if re.search(rf"^{name}: ", text, flags=re.M):
        text = re.sub(rf"^{name}: .*$", f"{name}: {value}", text, count=1, flags=re.M)
    else:
        text = text.replace("\nreviewed: ", f"\n{name}: {value}\nreviewed: ", 1)
    path.write_text(text, encoding="utf-8")


def contradicting(root: Path) -> tuple[int, int]:
    """A claim that names another it contradicts, and that other."""
    for path in sorted((root / "claims").glob("*.yaml")):
        found = re.search(r"^contradicts: \[claim-(\d+)", path.read_text("utf-8"), flags=re.M)
        if found:
            return int(path.stem.split("-")[1]), int(found.group(1))
    raise AssertionError("the generator made no contradiction")


def _statement(root: Path) -> None:
    sub(claim(root, 7), r"^(statement: .*)$", r"\1 Edited.")


def _mechanism(root: Path) -> None:  # into other groups, rows and sources' tallies
    with_field(claim(root, 7), "mechanism", "[serotonin, mood]")


def _dose(root: Path) -> None:  # one column to two: the dose view's sides
    with_field(claim(root, 8), "dose", "both")


def _strength(root: Path) -> None:  # the order within its groups, the map's mix
    text = claim(root, 9).read_text("utf-8")
    grade = "anecdotal" if "strength: established" in text else "established"
    with_field(claim(root, 9), "strength", grade)


def _contradiction_added(root: Path) -> None:  # the other claim's marks change too
    with_field(claim(root, 10), "contradicts", "[claim-000011, claim-000150]")


def _contradiction_removed(root: Path) -> None:
    first, _ = contradicting(root)
    sub(claim(root, first), r"^contradicts: .*\n", "")


def _related(root: Path) -> None:
    with_field(claim(root, 12), "related", "[claim-000013]")


def _disputed(root: Path) -> None:  # contested, and listed among the disputes
    sub(claim(root, 14), r"stance: supports", "stance: disputes")


def _quote_lost(root: Path) -> None:  # no longer on its source's page
    sub(claim(root, 15), r"^(    quote: )Claim 15 says", r"\1Nothing like it says")


AMOUNT = "Most people take 4.5 mg at night."


def _dosing(root: Path) -> None:  # a low-dose dosing claim quoting an amount: a range stated
    path = claim(root, 16)  # low dose; its first quote is from source-002
    with_field(path, "kind", "dosing")
    sub(path, r"^(    quote: )Claim 16 says .*$", rf"\1{AMOUNT}")


def _item_removed(root: Path) -> None:  # an anchor fewer
    sub(claim(root, 2), r"^  - source: source-005\n    quote: .*\n    stance: supports\n", "")


def _added(root: Path) -> None:  # a new claim, in the middle of the id order
    text = claim(root, 7).read_text("utf-8").replace("id: claim-000007", "id: claim-000007-b")
    (root / "claims/claim-000007-b.yaml").write_text(text, encoding="utf-8")


def _added_naming(root: Path) -> None:  # one that contradicts another: both marks change
    _added(root)
    with_field(root / "claims/claim-000007-b.yaml", "contradicts", "[claim-000011]")


def _added_last(root: Path) -> None:  # after every other, by id and by file name
    text = claim(root, 7).read_text("utf-8").replace("id: claim-000007", "id: claim-999999")
    (root / "claims/claim-999999.yaml").write_text(text, encoding="utf-8")


def _removed(root: Path) -> None:  # its groups, source lists and tallies without it
    claim(root, 9).unlink()


def _removed_contradicted(root: Path) -> None:  # the claim that named it is marked again
    first, other = contradicting(root)
    sub(claim(root, first), r"^contradicts: .*\n", "")
    claim(root, other).unlink()


def _moved(root: Path) -> None:  # the same claim in a file of another name
    claim(root, 12).rename(root / "claims/claim-000012-moved.yaml")


def _two(root: Path) -> None:
    _statement(root)
    _contradiction_added(root)


def _undone(root: Path) -> None:  # edited and put back: nothing differs from the base
    path = claim(root, 7)
    text = path.read_text("utf-8")
    _statement(root)
    path.write_text(text, encoding="utf-8")


EDITS: list[Callable[[Path], None]] = [
    _statement,
    _mechanism,
    _dose,
    _strength,
    _contradiction_added,
    _contradiction_removed,
    _related,
    _disputed,
    _quote_lost,
    _dosing,
    _item_removed,
    _two,
    _undone,
    _added,
    _added_naming,
    _added_last,
    _removed,
    _removed_contradicted,
    _moved,
]


@pytest.mark.parametrize("edit", EDITS, ids=lambda f: f.__name__.strip("_"))
def test_the_patched_analysis_is_the_whole_analysis(
    root: Path, edit: Callable[[Path], None]
) -> None:
    edit(root)
    assert_same(*both(root))


def test_edits_since_the_base_are_patched_together(root: Path, tmp_path: Path) -> None:
    """Each build patches the base's analysis for every claim changed since it, not only
    for the last edit."""
    for edit in (_statement, _dose, _contradiction_added):
        edit(root)
        builder.build(root, tmp_path / "site")
    assert_same(*both(root))


def test_claims_added_and_removed_since_the_base_are_patched_together(
    root: Path, tmp_path: Path
) -> None:
    """A claim added, edited, another removed, the first removed again, one put back: each
    build patches the base's analysis for all of it."""
    kept = claim(root, 9).read_text("utf-8")
    for edit in (_added, _statement, _removed, _added_last):
        edit(root)
        builder.build(root, tmp_path / "site")
        assert_same(*both(root))
    (root / "claims/claim-000007-b.yaml").unlink()
    claim(root, 9).write_text(kept, encoding="utf-8")
    assert_same(*both(root))


def test_check_and_build_patch_one_kept_registry(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`check` looks at fewer inputs than a build (not the templates, nor the checkout):
    after an edit each patches the registry the other kept, rather than loading it all
    again (an editor's "edit, check, build"), and finds what a run without a cache finds."""
    taken: list[bool] = []
    patch = snapshot.patched

    def recorded(*args: Any) -> Any:
        found = patch(*args)
        taken.append(found is not None)
        return found

    monkeypatch.setattr(snapshot, "patched", recorded)
    for edit in (_statement, _added, _dose):
        edit(root)
        checked = cli.checked_project(root)
        with monkeypatch.context() as m:
            m.setenv("NALTREXONE_SITE_CACHE", "0")
            fresh = check_project(root)
        assert sorted(map(str, checked.problems)) == sorted(map(str, fresh.problems))
        assert builder.build(root, tmp_path / "site").built
    assert taken == [True, False, True] * 3  # check, the cache-less check, build
    assert_same(*both(root))


def test_a_second_file_of_an_id_is_not_patched(root: Path) -> None:
    """(Its checks find the clash; the whole analysis is tried and its error caught, as
    for any registry with errors: builder._guessed_plan.)"""
    text = claim(root, 7).read_text("utf-8")
    (root / "claims/claim-000007-copy.yaml").write_text(text, encoding="utf-8")
    with anchor_project(root, Stages(), scanned(root)) as anchored:
        assert anchored.context is not None and anchored.earlier is not None
        history = claim_history(root)
        assert sitepatch.patched(anchored.earlier, anchored.context, history) is None


def test_an_id_changed_is_analysed_whole(root: Path) -> None:
    sub(claim(root, 20), r"^id: claim-000020$", "id: claim-000020-renamed")
    patched, _ = both(root)
    assert patched is None


def test_a_build_that_analysed_the_whole_keeps_a_new_base(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that patched the kept analysis leaves the base as it is; one that could not
    keeps its own analysis with a new base, from which the next build patches."""
    results: list[bool] = []
    original = sitepatch.patched

    def recorded(*args: object) -> object:
        found = None if len(results) == 1 else original(*args)  # type: ignore[arg-type]
        results.append(found is not None)
        return found

    monkeypatch.setattr(sitepatch, "patched", recorded)
    stamp = base_file(root).stat().st_mtime_ns
    for edit in (_statement, _dose):
        edit(root)
        builder.build(root, tmp_path / "site")
    assert results == [True, False]  # the second as if it could not be patched
    assert base_file(root).stat().st_mtime_ns != stamp
    stamp = base_file(root).stat().st_mtime_ns
    _contradiction_added(root)
    builder.build(root, tmp_path / "site")
    assert results == [True, False, True] and base_file(root).stat().st_mtime_ns == stamp
    monkeypatch.setattr(sitepatch, "patched", original)
    assert_same(*both(root))


def test_check_keeps_no_analysis_and_the_next_build_keeps_one(root: Path, tmp_path: Path) -> None:
    from naltrexone_site.pipeline import check_project

    _strength(root)
    for path in (cache.cache_dir(root) or tmp_path).glob(f"{snapshot.BASE}*.pickle"):
        path.unlink()
    check_project(root, scanned=scanned(root))  # a base without an analysis
    with anchor_project(root, Stages(), scanned(root)) as anchored:
        assert anchored.earlier is not None and anchored.earlier.analysed() is None
    builder.build(root, tmp_path / "site")  # analyses the whole, keeps it
    _statement(root)
    assert_same(*both(root))


def test_a_damaged_analysis_only_makes_the_whole_analysed(root: Path) -> None:
    folder = cache.cache_dir(root)
    assert folder is not None
    (base,) = [
        p for p in folder.glob(f"{snapshot.BASE}-*.pickle") if snapshot.CHANGES not in p.name
    ]
    data = base.read_bytes()
    base.write_bytes(data[: len(data) - 200])  # the site's part cut short
    _statement(root)
    with anchor_project(root, Stages(), scanned(root)) as anchored:
        assert anchored.context is not None and anchored.earlier is not None  # still patched
        assert sitepatch.patched(anchored.earlier, anchored.context, claim_history(root)) is None


def test_a_large_registry_keeps_no_analysis(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above ANALYSED_UP_TO claims the base is kept as soon as the registry is anchored,
    without an analysis, and a build that analysed the whole does not keep a new one."""
    monkeypatch.setattr(snapshot, "ANALYSED_UP_TO", 100)  # the registry has 200
    source = root / "content/sources/source-001.md"
    source.write_text(source.read_text("utf-8") + "\nA sentence more.\n", encoding="utf-8")
    builder.build(root, tmp_path / "site")  # loads everything: a new base
    stamp = base_file(root).stat().st_mtime_ns
    _statement(root)
    with anchor_project(root, Stages(), scanned(root)) as anchored:
        assert anchored.earlier is not None and anchored.earlier.analysed() is None
    builder.build(root, tmp_path / "site")
    assert base_file(root).stat().st_mtime_ns == stamp
