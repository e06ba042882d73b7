"""`python build.py build`: what it promises about the site as a whole.

Every page kind exists; the build is deterministic and atomic; links are relative; no
page asks another host for anything; the map counts what the registry holds; a claim's
passage link lands on the highlighted passage; one summary line is printed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import zlib
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml
from conftest import (
    DEMO_ARTICLE,
    OTHER_ARTICLE,
    REPO,
    MakeSite,
    RunBuild,
    claim_yaml,
    rewrite,
    snapshot,
)

from naltrexone_site import output, render
from naltrexone_site.models import Claim, Evidence
from naltrexone_site.output import OutputError, collect
from naltrexone_site.pages import Contradiction

SUMMARY = re.compile(r"^built (\d+) pages \((\d+) claims?, (\d+) warnings?\) in \d+\.\d\d s$")


def html_pages(site: Path) -> dict[str, str]:
    return {
        p.relative_to(site).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(site.rglob("*.html"))
    }


class Links(HTMLParser):
    """Every URL-valued attribute on a page: (tag, attribute, value, rel)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("href", "src", "srcset", "action", "poster", "data"):
            if values.get(name) is not None:
                self.found.append((tag, name, values[name] or "", values.get("rel") or ""))


def links(page: str) -> list[tuple[str, str, str, str]]:
    parser = Links()
    parser.feed(page)
    return parser.found


def siblings(out: Path) -> list[str]:
    """Anything the build left next to the output folder (temporary folders)."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(out.name + "."))


# ---------------------------------------------------------------------------- the pages


def test_every_page_kind_exists(make_site: MakeSite, run_build: RunBuild) -> None:
    root = make_site({"schema/claim.schema.json": '{"title": "claim"}\n'})
    run = run_build(root)
    assert run.code == 0, run.out + run.err
    site = run.site
    claims = sorted(p.stem for p in (root / "claims").glob("*.yaml"))
    mechanisms = [
        t["id"]
        for t in yaml.safe_load(
            (root / "content/taxonomy/mechanisms.yaml").read_text(encoding="utf-8")
        )
    ]
    expected = [
        "index.html",
        "dose.html",
        "conflicts.html",
        "browse.html",
        "sources.html",
        "methodology.html",
        "404.html",
        "sitemap.xml",
        "robots.txt",
        "claims.json",
        "claims.csv",
        "search-index.js",
        "static/site.css",
        "static/search.js",
        "schema/claim.schema.json",
        "sources/demo-article.html",
        "sources/other-article.html",
        *(f"claims/{c}.html" for c in claims),
        *(f"mechanisms/{m}.html" for m in mechanisms),
    ]
    missing = [path for path in expected if not (site / path).is_file()]
    assert missing == []
    assert (site / "schema/claim.schema.json").read_text() == '{"title": "claim"}\n'
    not_found = (site / "404.html").read_text(encoding="utf-8")
    assert '<link rel="stylesheet"' not in not_found  # served at any depth: inline style
    assert "<style>\n/* Naltrexone evidence map." in not_found


def test_summary_line_counts_pages_claims_and_warnings(
    make_site: MakeSite, run_build: RunBuild
) -> None:
    run = run_build(make_site())
    assert run.code == 0
    lines = run.out.splitlines()
    assert len(lines) == 1, run.out
    match = SUMMARY.match(lines[0])
    assert match, lines[0]
    pages, claims, warnings = map(int, match.groups())
    assert pages == len(html_pages(run.site))
    assert claims == 9
    assert warnings == 1  # the demo article's coverage is under the minimum
    assert run.err == ""


def test_every_page_has_navigation_skip_link_disclaimer_and_language(
    make_site: MakeSite, run_build: RunBuild
) -> None:
    run = run_build(make_site())
    disclaimer = "It is not medical advice."
    for path, page in html_pages(run.site).items():
        assert page.startswith('<!DOCTYPE html>\n<html lang="en">'), path
        assert '<a class="skip-link" href="#main">' in page, path
        assert '<main id="main"' in page, path
        assert '<nav aria-label="Site">' in page, path
        assert disclaimer in page, path
        assert page.count("<h1") == 1, path


# ------------------------------------------------------------------ deterministic, atomic


def test_two_builds_give_identical_bytes_whatever_the_hash_seed(make_site: MakeSite) -> None:
    root = make_site()
    sites = []
    for seed in ("1", "2"):
        out = root / f"site-{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [
                sys.executable,
                str(REPO / "build.py"),
                "--root",
                str(root),
                "build",
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        sites.append(snapshot(out))
    assert sites[0].keys() == sites[1].keys()
    different = [path for path in sites[0] if sites[0][path] != sites[1][path]]
    assert different == []


def test_a_registry_error_writes_nothing_and_keeps_the_old_site(
    make_site: MakeSite, run_build: RunBuild
) -> None:
    root = make_site()
    first = run_build(root)
    assert first.code == 0
    before = snapshot(first.site)
    (root / "claims" / "broken.yaml").write_text(
        claim_yaml(
            "broken", "A claim whose quote is nowhere.", quote="Naltrexone cures everything."
        ),
        encoding="utf-8",
    )
    run = run_build(root)
    assert run.code == 1
    assert "claims/broken.yaml:9:5: error: evidence[0].quote: the quote is not in source" in run.out
    assert "not built" in run.out
    assert "built 0 pages" not in run.out
    assert snapshot(first.site) == before
    assert siblings(first.site) == []


def test_an_interrupted_write_keeps_the_old_site_and_leaves_no_temporary_folder(
    make_site: MakeSite, run_build: RunBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_site()
    first = run_build(root)
    before = snapshot(first.site)
    (root / "claims" / "sleep-better.yaml").write_text(
        claim_yaml(
            "sleep-better",
            "Changed statement.",
            quote="Some users report better sleep.",
            mechanism="mood",
        ),
        encoding="utf-8",
    )
    real_write_tree = output.write_tree
    written: list[int] = []

    def write_half_then_stop(folder: Path, files: dict[str, bytes]) -> None:
        if not any(path.endswith(".html") for path in files):  # a download, written alone
            real_write_tree(folder, files)
            return
        half = dict(sorted(files.items())[: len(files) // 2])
        real_write_tree(folder, half)
        written.append(len(list(folder.rglob("*.html"))))
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C midway

    monkeypatch.setattr(output, "write_tree", write_half_then_stop)
    with pytest.raises(KeyboardInterrupt):
        run_build(root)
    assert written and written[0] > 0  # the new site was really half written
    assert snapshot(first.site) == before
    assert siblings(first.site) == []


def test_a_failed_swap_puts_the_old_site_back(
    make_site: MakeSite, run_build: RunBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NALTREXONE_SITE_CACHE", "0")  # a full build: swap the whole folder
    root = make_site()
    first = run_build(root)
    before = snapshot(first.site)
    real_rename = Path.rename

    def rename(self: Path, target: str | os.PathLike[str]) -> Path:
        if ".building-" in self.name:
            raise PermissionError(13, "Permission denied", str(target))
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    run = run_build(root)
    assert run.code == 1
    assert "cannot write the site" in run.err
    assert snapshot(first.site) == before
    assert siblings(first.site) == []


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("<h1>{{ no_such_value }}</h1>", "'no_such_value' is undefined"),
        ("<h1>{% if %}</h1>", "Expected an expression, got 'end of statement block'"),
    ],
    ids=["undefined", "syntax"],
)
def test_a_template_error_is_reported_with_its_line_and_writes_nothing(
    broken: str, message: str, make_site: MakeSite, run_build: RunBuild
) -> None:
    root = make_site()
    first = run_build(root)
    before = snapshot(first.site)
    template = root / "templates" / "methodology.html"
    rewrite(template, "<h1>Methodology and legend</h1>", broken)
    run = run_build(root)
    assert run.code == 1
    where = r"^templates/methodology\.html:\d+: error: "
    assert re.search(where + re.escape(message) + "$", run.err, re.M), run.err
    assert "Traceback" not in run.err + run.out
    assert snapshot(first.site) == before


def test_refuses_to_replace_a_folder_that_is_not_a_built_site(
    make_site: MakeSite, run_build: RunBuild, tmp_path: Path
) -> None:
    root = make_site()
    out = tmp_path / "documents"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    run = run_build(root, out)
    assert run.code == 1
    assert "does not look like a built site" in run.err
    assert snapshot(out) == {"notes.txt": b"mine"}
    run = run_build(root, root)
    assert run.code == 1
    assert "it holds the project itself" in run.err


def test_an_output_folder_under_a_file_is_refused_naming_the_file(
    make_site: MakeSite, run_build: RunBuild, tmp_path: Path
) -> None:
    """`--out notes.txt/site` read "cannot write the site: notes.txt: File exists"."""
    root = make_site()
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    run = run_build(root, tmp_path / "notes.txt" / "site")
    assert (run.code, run.out) == (1, "")
    assert run.err == (
        f"error: cannot write the site into '{tmp_path / 'notes.txt' / 'site'}': "
        f"'{tmp_path / 'notes.txt'}' is a file, not a folder\n"
        f"not built: {tmp_path / 'notes.txt' / 'site'} was left as it was\n"
    )
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


@pytest.mark.parametrize("fails", ["the folder", "a page"])
def test_a_file_that_cannot_be_written_is_named_in_the_output_folder(
    make_site: MakeSite,
    run_build: RunBuild,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fails: str,
) -> None:
    """A folder the system refused (not writable, a full disk) was named as the staging
    folder the build writes first, `site.building-k3j2`, which the user never made."""
    root, out = make_site(), tmp_path / "site"
    if fails == "the folder":

        def refused(*args: object, prefix: str = "", dir: str = "", **kwargs: object) -> str:
            raise PermissionError(13, "Permission denied", os.path.join(dir, prefix + "k3j2"))

        monkeypatch.setattr(tempfile, "mkdtemp", refused)
        named = out
    else:
        opened = os.open

        def full(path: str, *args: object, **kwargs: object) -> int:
            if str(path).endswith("robots.txt"):
                raise OSError(28, "No space left on device", path)
            return opened(path, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "open", full)
        named = out / "robots.txt"
    run = run_build(root, out)
    strerror = "Permission denied" if fails == "the folder" else "No space left on device"
    assert (run.code, run.err) == (
        1,
        f"error: cannot write the site: {named}: {strerror}\nnot built: {out} was left as it was\n",
    )
    assert not out.exists()


def _file_system(path: Path) -> str:
    """The type of the file system `path` is on, from /proc/mounts (longest mount point)."""
    best, kind = "", ""
    for line in Path("/proc/mounts").read_text().splitlines():
        _, point, fs = line.split()[:3]
        if (str(path) + "/").startswith(point.rstrip("/") + "/") and len(point) >= len(best):
            best, kind = point, fs
    return kind


@pytest.mark.skipif(not Path("/proc/mounts").is_file(), reason="Linux only")
def test_the_staging_folder_asks_ext4_to_spread_its_folders(tmp_path: Path) -> None:
    import array
    import fcntl

    staging = output.Staging(tmp_path / "site")
    try:
        fd = os.open(staging.folder, os.O_RDONLY | os.O_DIRECTORY)
        flags = array.array("i", [0])
        try:
            fcntl.ioctl(fd, 0x80086601, flags, True)  # FS_IOC_GETFLAGS
        finally:
            os.close(fd)
        if _file_system(tmp_path) == "ext4":
            assert flags[0] & 0x00020000, "FS_TOPDIR_FL (chattr +T) is not set"
        staging.write({"claims/a.html": b"a"})  # and writing still works
        assert (staging.folder / "claims" / "a.html").read_bytes() == b"a"
    finally:
        staging.discard()
    # where the flag is refused (tmpfs), the staging folder is made all the same
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        elsewhere = output.Staging(shm / f"site-{os.getpid()}")
        elsewhere.discard()


def test_refuses_two_pages_at_one_path() -> None:
    with pytest.raises(
        OutputError, match="two pages at one path: 'claims/a.html' and 'claims/A.html'"
    ):
        collect([("claims/a.html", b"1"), ("claims/A.html", b"2")])
    with pytest.raises(OutputError, match="two pages at one path"):
        collect([("index.html", b"1"), ("index.html", b"1")])
    with pytest.raises(OutputError, match="not a path inside the site"):
        collect([("../escape.html", b"")])
    with pytest.raises(OutputError, match="not a path inside the site"):
        collect([("/etc/passwd", b"")])


# ------------------------------------------------------------------- links and requests


def test_links_are_relative(make_site: MakeSite, run_build: RunBuild) -> None:
    root = make_site()
    run = run_build(root)
    settings = yaml.safe_load((root / "content/site.yaml").read_text(encoding="utf-8"))
    edit = f"{settings['repository_url']}/edit/{settings['branch']}/claims/"
    pages = html_pages(run.site)
    bad = []
    for path, page in pages.items():
        for tag, attr, value, rel in links(page):
            if value.startswith(edit) and tag == "a":
                continue  # "edit this claim": a link to the repository, followed only on click
            if rel == "icon" and value.startswith("data:image/svg+xml,"):
                continue  # inline, so no request at all
            if (
                value.startswith(("/", "http:", "https:", "//", "file:", "data:"))
                or ":" in (value.split("/")[0].split("#")[0])
            ):
                bad.append(f"{path}: <{tag} {attr}={value!r}>")
    assert bad == []
    edit_links = sum(page.count(f'href="{edit}') for page in pages.values())
    assert edit_links == 9  # one per claim page


def broken_links(site: Path) -> list[str]:
    """Relative links whose file or #anchor does not exist in the built site."""
    pages = html_pages(site)
    ids = {path: set(re.findall(r'\sid="([^"]+)"', page)) for path, page in pages.items()}
    broken = []
    for path, page in pages.items():
        for _, _, value, _ in links(page):
            if value.startswith(("https:", "data:")):
                continue
            target, _, anchor = value.partition("#")
            resolved = (
                os.path.normpath(os.path.join(os.path.dirname(path), target)) if target else path
            )
            if not (site / resolved).is_file():
                broken.append(f"{path}: {value}")
            elif anchor and resolved.endswith(".html") and anchor not in ids[resolved]:
                broken.append(f"{path}: {value} (no such anchor)")
    return broken


def test_relative_links_resolve_to_files_and_anchors_in_the_site(
    make_site: MakeSite, run_build: RunBuild
) -> None:
    run = run_build(make_site())
    assert broken_links(run.site) == []


def test_no_page_requests_anything_from_another_host(
    make_site: MakeSite, run_build: RunBuild
) -> None:
    run = run_build(make_site())
    requests = []
    for path, page in html_pages(run.site).items():
        for tag, attr, value, rel in links(page):
            loads = tag in {
                "script",
                "img",
                "iframe",
                "source",
                "video",
                "audio",
                "embed",
                "object",
                "track",
                "input",
            } or (tag == "link" and rel != "")
            if loads and re.match(r"^([a-z][a-z0-9+.-]*:)?//", value):
                requests.append(f"{path}: <{tag} {attr}={value!r}>")
        assert "@import" not in page and "url(http" not in page, path
    css = (run.site / "static/site.css").read_text(encoding="utf-8")
    assert "@import" not in css
    assert re.findall(r"url\(", css) == []
    assert "http" not in (run.site / "static/search.js").read_text(encoding="utf-8").replace(
        "http://www.w3.org", ""
    )
    assert requests == []


# ------------------------------------------------------------------------- the content


def test_the_map_counts_what_the_registry_holds(make_site: MakeSite, run_build: RunBuild) -> None:
    root = make_site()
    run = run_build(root)
    expected: dict[tuple[str, str], int] = {}
    rows = [
        t["id"]
        for t in yaml.safe_load(
            (root / "content/taxonomy/mechanisms.yaml").read_text(encoding="utf-8")
        )
    ]
    for row in rows:
        for column in ("standard", "low", "unspecified"):
            expected[(row, column)] = 0
    for path in (root / "claims").glob("*.yaml"):
        claim = yaml.safe_load(path.read_text(encoding="utf-8"))
        columns = ("standard", "low") if claim["dose"] == "both" else (claim["dose"],)
        for row in set(claim["mechanism"]):
            for column in columns:
                expected[(row, column)] += 1
    page = (run.site / "index.html").read_text(encoding="utf-8")
    shown: dict[tuple[str, str], int] = {}
    for row, column, count in re.findall(
        r'<a href="mechanisms/([a-z0-9-]+)\.html#dose-([a-z]+)">'
        r'(?:<span class="count">(\d+) claims?</span>|<span class="sym" aria-hidden="true">'
        r"&#8212;</span> No claims)",
        page,
    ):
        shown[(row, column)] = int(count or 0)
    assert shown == expected
    assert page.count("No claims<span") == sum(1 for n in expected.values() if n == 0)
    # strength letters: the dopamine LDN cell holds one unsupported claim, contested
    cell = map_cell(page, "dopamine")
    assert (
        '<span class="letter" aria-hidden="true">U</span><span class="vh">Unsupported:</span>'
        "&#8239;1" in cell
    )
    assert '1<span class="wide-only"> contested</span>' in cell


def map_cell(page: str, mechanism: str) -> str:
    """The evidence map's low-dose cell of a mechanism's row, from index.html."""
    return page.split(f'href="mechanisms/{mechanism}.html#dose-low">', 1)[1].split("</td>", 1)[0]


def with_claim(
    make_site: MakeSite, run_build: RunBuild, claim_id: str, statement: str, **fields: str
) -> tuple[str, str]:
    """index.html and the claim's page, of the test site built with one claim more."""
    text = claim_yaml(claim_id, statement, **fields)
    site = run_build(make_site({f"claims/{claim_id}.yaml": text})).site
    return (
        (site / "index.html").read_text(encoding="utf-8"),
        (site / f"claims/{claim_id}.html").read_text(encoding="utf-8"),
    )


def test_background_claims_are_counted_but_kept_out_of_the_strength_mix(
    make_site: MakeSite, run_build: RunBuild
) -> None:
    """The map's serotonin row showed four Established marks, all of them an article's
    textbook background (what serotonin does), none about naltrexone."""
    page, claim_page = with_claim(
        make_site,
        run_build,
        "opioids-block-pain",
        "Opioid drugs relieve pain by acting at opioid receptors.",
        quote="Naltrexone blocks opioid receptors in the brain.",
        kind="background",
        dose="both",
        strength="established",
    )
    cell = map_cell(page, "opioid-receptors")
    # ldn-endorphins is filed under endorphin-rebound; blocks-receptors (both doses) and
    # the background claim are the low-dose opioid-receptor cell's two claims
    assert '<span class="count">2 claims</span>' in cell
    assert (
        '<span class="letter" aria-hidden="true">E</span><span class="vh">Established:</span>'
        "&#8239;1</span>" in cell
    )
    assert '<span class="background-count">+1<span class="wide-only"> background</span>' in cell
    assert 'href="../methodology.html#claim-kind-background">Background</a>' in claim_page


def test_status_claims_are_counted_but_kept_out_of_the_strength_mix(
    make_site: MakeSite, run_build: RunBuild
) -> None:
    """The mood row showed two Established marks: that its use for bipolar disorder and for
    depression is off-label. They read as an established effect on mood."""
    page, claim_page = with_claim(
        make_site,
        run_build,
        "sleep-use-off-label",
        "Using low-dose naltrexone for sleep is off-label.",
        quote="Some users report better sleep.",
        kind="status",
        mechanism="endorphin-rebound",
        dose="low",
        strength="unsupported",
    )
    cell = map_cell(page, "endorphin-rebound")
    mix = re.findall(r'<span class="vh">([A-Za-z ]+):</span>&#8239;(\d+)', cell)
    found = re.search(r'<span class="count">(\d+) claims?</span>', cell)
    assert found is not None
    count = int(found.group(1))
    assert sum(int(n) for _, n in mix) == count - 1  # all but the status claim
    assert '<span class="background-count">+1<span class="wide-only"> status</span>' in cell
    assert 'href="../methodology.html#claim-kind-status">Status and use</a>' in claim_page
    assert "Overstated" not in claim_page.split("<h1", 1)[1].split("</p>", 1)[0]


@pytest.mark.parametrize(("kind", "overstated"), [("safety", True), ("advice", False)])
def test_advice_stated_flatly_is_never_marked_overstated(
    kind: str, overstated: bool, make_site: MakeSite, run_build: RunBuild
) -> None:
    """ "Should be used only under medical supervision", graded unsupported, read as
    "Overstated": as if the need for supervision were what the source overstates."""
    claim = claim_yaml(
        "ldn-supervision-advice",
        "One article says low-dose naltrexone should be taken only under medical supervision.",
        quote="Doses of 1.5 to 4.5 mg a day are typical.",  # no hedge
        kind=kind,
        dose="low",
    )
    run = run_build(make_site({"claims/ldn-supervision-advice.yaml": claim}))
    claim_page = (run.site / "claims/ldn-supervision-advice.html").read_text(encoding="utf-8")
    badges = claim_page.split("<h1", 1)[1].split("</p>", 1)[0]
    assert ("Overstated" in badges) is overstated
    assert ("Stated as fact" in claim_page) is overstated
    records = json.loads((run.site / "claims.json").read_text(encoding="utf-8"))
    assert {r["id"]: r["overstated"] for r in records}["ldn-supervision-advice"] is overstated


def sid(sentence: str) -> str:
    """A sentence's id on its source page: from its words, not its place."""
    return f"s-{zlib.crc32(' '.join(sentence.split()).encode()):08x}"


def test_a_claims_passage_link_lands_on_the_highlighted_passage(
    make_site: MakeSite, run_build: RunBuild
) -> None:
    run = run_build(make_site())
    claim = (run.site / "claims/ldn-endorphins.html").read_text(encoding="utf-8")
    targets = re.findall(
        r'class="passage-link" href="\.\./sources/([a-z0-9-]+)\.html#([a-z0-9-]+)"', claim
    )
    ldn = "Low-dose naltrexone is thought to raise endorphin levels after a brief blockade."
    other = "Naltrexone does not raise endorphin levels at any dose."
    assert targets == [("demo-article", sid(ldn)), ("other-article", sid(other))]
    source = (run.site / "sources/demo-article.html").read_text(encoding="utf-8")
    passage = re.search(rf'<span class="s" id="{sid(ldn)}">(.*?)</span>', source)
    assert passage is not None
    assert passage.group(1) == (
        "<mark>Low-dose naltrexone is thought to raise endorphin levels after a brief "
        "blockade.</mark>"
    )
    css = (run.site / "static/site.css").read_text(encoding="utf-8")
    assert ".article-body .s:target {" in css
    # the claim page shows the quote with the sentence around it
    assert (
        "<mark>Low-dose naltrexone is thought to raise endorphin levels after a brief "
        "blockade.</mark> Doses of 1.5 to 4.5 mg a day are typical."
    ) in claim
    # a quote inside a table cell is found and marked too
    fibro = (run.site / "claims/fibro-pain.html").read_text(encoding="utf-8")
    target = re.search(r'href="\.\./sources/demo-article\.html#(s-[0-9a-f-]+)"', fibro)
    assert target and f'id="{target.group(1)}">Fibromyalgia' in source
    assert (
        '<td><span class="s"><mark>Low-dose naltrexone may reduce pain</mark></span></td>' in source
    )


def test_a_passage_link_keeps_its_sentence_when_the_source_changes_elsewhere(
    make_site: MakeSite, run_build: RunBuild
) -> None:
    """A shared link to a passage must not land on another sentence after the source is
    edited (as a numbered id would once a sentence is added before it)."""
    root = make_site()
    ldn = "Low-dose naltrexone is thought to raise endorphin levels after a brief blockade."

    def linked() -> str:
        run = run_build(root)
        assert run.code == 0, run.out + run.err
        claim = (run.site / "claims/ldn-endorphins.html").read_text(encoding="utf-8")
        found = re.search(r'href="\.\./sources/demo-article\.html#(s-[0-9a-f-]+)"', claim)
        assert found is not None
        source = (run.site / "sources/demo-article.html").read_text(encoding="utf-8")
        assert re.search(rf'id="{found.group(1)}"><mark>{re.escape(ldn)}</mark>', source)
        return found.group(1)

    before = linked()
    article = root / "content" / "sources" / "demo-article.md"
    rewrite(article, "## How it works\n", "## How it works\n\nA sentence added. And one more.\n")
    assert linked() == before == sid(ldn)


def test_a_source_page_lists_its_claims_in_the_order_of_the_text(
    make_site: MakeSite, run_build: RunBuild
) -> None:
    run = run_build(make_site())
    page = (run.site / "sources/demo-article.html").read_text(encoding="utf-8")
    listed = page.split('<h2 id="claims">', 1)[1]
    order = re.findall(r'class="claim-link" href="\.\./claims/([a-z0-9-]+)\.html"', listed)
    assert order == [
        "blocks-receptors",
        "standard-stops-high",
        "ldn-endorphins",
        "ldn-range-demo",
        "sleep-better",
        "fibro-pain",
    ]
    assert "75% of its 8 substantive sentences" in page
    assert "1 sentence excluded as boilerplate" in page
    assert '<li id="ref-1">Doe, J. (2020)' in page
    assert "A newsletter sign-up box." in page
    thanks = sid("Thanks for reading.")
    assert f'<span class="s boilerplate" id="{thanks}">Thanks for reading.</span>' in page


def test_the_literature_badge_tells_a_reference_list_from_citations(
    make_site: MakeSite, run_build: RunBuild
) -> None:
    """The vendor's post ends with ten references that its text never points to: it read
    "Cites no literature" beside them."""
    listed = DEMO_ARTICLE.replace("cites_literature: true", "cites_literature: false")
    run = run_build(make_site({"content/sources/demo-article.md": listed}))
    badges = {
        sid: re.findall(r'class="badge literature"[^>]*>([^<]+)<', page.read_text("utf-8"))
        for sid, page in ((p.stem, p) for p in (run.site / "sources").glob("*-article.html"))
    }
    assert badges == {
        "demo-article": ["Lists references, cites none"],
        "other-article": ["Cites no literature"],
    }
    page = (run.site / "sources/demo-article.html").read_text(encoding="utf-8")
    assert "a list of 1 reference that the text never points to" in page
    listed_on = (run.site / "sources.html").read_text(encoding="utf-8")  # the list of sources
    assert re.findall(r'class="badge literature"[^>]*>([^<]+)<', listed_on) == [
        "Lists references, cites none",
        "Cites no literature",
    ]


def test_the_dose_view_marks_where_the_doses_differ_and_lists_stated_ranges(
    make_site: MakeSite, run_build: RunBuild
) -> None:
    run = run_build(make_site())
    page = (run.site / "dose.html").read_text(encoding="utf-8")
    sections = dict(
        re.findall(
            r'<section class="comparison[^"]*" aria-labelledby="cmp-([a-z-]+)">'
            r"(.*?)</section>",
            page,
            re.S,
        )
    )
    assert "The doses are said to act oppositely" in sections["dopamine"]
    assert "Said for low dose only" in sections["endorphin-rebound"]
    assert "Said for the standard dose only" in sections["addiction"]
    assert 'class="difference"' not in sections["opioid-receptors"]  # both doses have claims
    # a claim that states no dose is on neither side, but counted and linked: the view read
    # as if nothing were known about safety (the label's facts state no dose); "about
    # naltrexone": the linked section also lists background, which the count leaves out
    assert (
        '<p class="unstated-note">Not on either side: <a href="mechanisms/mood.html#dose-'
        'unspecified">1 claim about naltrexone whose source states no dose</a>.</p>'
    ) in sections["mood"]
    assert "unstated-note" not in sections["dopamine"]
    ranges = page.split('<h2 id="ranges">', 1)[1]
    assert "<q>Doses of 1.5 to 4.5 mg a day are typical.</q>" in ranges
    assert "<q>Low-dose naltrexone means 0.5 to 1 mg a day.</q>" in ranges


def test_the_stated_ranges_hold_only_passages_that_give_a_number(
    make_site: MakeSite, run_build: RunBuild
) -> None:
    """A low-dose dosing claim's quote that states no amount ("in a much smaller dose")
    read as that source's range."""
    vague = claim_yaml(
        "ldn-is-a-small-dose",
        "The demo article says low-dose naltrexone is a small dose.",
        quote="Low-dose naltrexone is thought to raise endorphin levels after a brief blockade.",
        kind="dosing",
        mechanism="dosing",
        dose="low",
    )
    run = run_build(make_site({"claims/ldn-is-a-small-dose.yaml": vague}))
    assert run.code == 0, run.out
    ranges = (run.site / "dose.html").read_text("utf-8").split('<h2 id="ranges">', 1)[1]
    assert "<q>Doses of 1.5 to 4.5 mg a day are typical.</q>" in ranges
    assert "raise endorphin levels" not in ranges


def test_the_stated_ranges_continue_on_pages_of_their_own(
    make_site: MakeSite, run_build: RunBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A source is an article, so their number grows with the registry: the dose view's
    table of stated ranges holds RANGE_SOURCES sources and RANGE_LIMIT quotes of each, and
    continues on dose-ranges-N.html, so no page grows with the registry."""
    monkeypatch.setattr(render, "RANGE_SOURCES", 1)
    monkeypatch.setattr(render, "RANGE_LIMIT", 1)
    second = claim_yaml(
        "ldn-range-demo-again",
        "The demo article says 1.5 to 4.5 mg a day is a typical low dose.",
        quote="Doses of 1.5 to 4.5 mg a day are typical.",
        kind="dosing",
        mechanism="dosing",
        dose="low",
    )
    run = run_build(make_site({"claims/ldn-range-demo-again.yaml": second}))
    assert run.code == 0
    dose = (run.site / "dose.html").read_text("utf-8").split('<h2 id="ranges">', 1)[1]
    # sources by title: "A demo article about naltrexone", then "Another article"
    assert dose.count("<q>Doses of 1.5 to 4.5 mg a day are typical.</q>") == 1
    assert "All 2 passages in the source's claims" in dose
    assert "Low-dose naltrexone means 0.5 to 1 mg a day." not in dose
    assert '<nav class="pager" aria-label="Pages of stated ranges">' in dose
    assert '<a href="dose-ranges-2.html">2</a>' in dose
    assert sorted(p.name for p in run.site.glob("dose*.html")) == [
        "dose-ranges-2.html",
        "dose.html",
    ]
    more = (run.site / "dose-ranges-2.html").read_text("utf-8")
    assert "<q>Low-dose naltrexone means 0.5 to 1 mg a day.</q>" in more
    assert "Source 2 of 2, continued from" in more
    assert '<a href="dose.html#ranges">1</a>' in more
    assert '<a href="dose-ranges-2.html" aria-current="page">2</a>' in more
    assert '<a href="dose-ranges-2.html">' not in dose.split('aria-label="Pages')[0]
    assert broken_links(run.site) == []
    assert "dose-ranges-2.html" in (run.site / "sitemap.xml").read_text("utf-8")


def test_the_source_list_continues_on_numbered_pages(
    make_site: MakeSite, run_build: RunBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The source list grows with the sources (articles, as many as the registry draws
    on): SOURCE_LIST_LIMIT of them to a page, the rest on sources-N.html."""
    monkeypatch.setattr(render, "SOURCE_LIST_LIMIT", 1)
    run = run_build(make_site())
    assert run.code == 0
    first = (run.site / "sources.html").read_text("utf-8")
    second = (run.site / "sources-2.html").read_text("utf-8")
    assert 'href="sources/demo-article.html">A demo article about naltrexone</a>' in first
    assert "other-article.html" not in first
    assert 'href="sources/other-article.html">Another article</a>' in second
    assert "<title>Sources, page 2" in second and "(page 2 of 2)" in second
    assert '<nav class="pager" aria-label="Pages of sources">' in first
    assert '<a href="sources.html">1</a>' in second
    assert broken_links(run.site) == []


def test_a_large_registry_loads_its_search_index_on_demand(
    make_site: MakeSite, run_build: RunBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small index comes with the browse page; from INDEX_ON_DEMAND_FROM claims the
    page names it in the form instead, for search.js to load on the form's first use."""
    tag = '<script src="search-index.js" defer></script>'
    small = run_build(make_site())
    page = (small.site / "browse.html").read_text("utf-8")
    assert tag in page and "data-index=" not in page
    monkeypatch.setattr(render, "INDEX_ON_DEMAND_FROM", 2)
    large = run_build(make_site(name="large"))
    page = (large.site / "browse.html").read_text("utf-8")
    assert tag not in page and (large.site / "search-index.js").is_file()
    form = '<form id="claim-search" class="search-form" role="search" aria-label="Claims"'
    assert f'{form} data-root="" data-index="search-index.js" hidden>' in page
    assert '<script src="static/search.js" defer></script>' in page


def test_the_conflicts_page_shows_both_sides(make_site: MakeSite, run_build: RunBuild) -> None:
    run = run_build(make_site())
    page = (run.site / "conflicts.html").read_text(encoding="utf-8")
    assert "1 pair of contradicting claims and 1 passage disputing a claim" in page
    contradiction = page.split('<h2 id="contradictions">', 1)[1].split('<h2 id="disputes">', 1)[0]
    assert "At low dose naltrexone raises dopamine release." in contradiction
    assert "At the standard dose naltrexone lowers dopamine release." in contradiction
    # both claims come from one article: said, and named; not called at odds with itself,
    # as it was, for here it explains the difference by the dose
    assert (
        '<p class="within-note">Both claims come from one article, '
        '<a href="sources/other-article.html">Another article</a>: it says both, so this is '
        "not two sources disagreeing. Its quotes above show whether it explains the "
        "difference (a dose, the people treated) or contradicts itself.</p>"
    ) in contradiction
    dispute = page.split('<h2 id="disputes">', 1)[1]
    assert (
        "Low-dose naltrexone is thought to raise endorphin levels after a brief blockade."
        in dispute
    )
    assert "Naltrexone does not raise endorphin levels at any dose." in dispute


def test_a_contradiction_is_within_one_article_only_when_both_claims_come_from_it() -> None:
    def claim(cid: str, *sources: str, disputed_by: str = "") -> Claim:
        items = [Evidence(s, "a passage", "supports") for s in sources]
        items += [Evidence(disputed_by, "a passage", "disputes")] if disputed_by else []
        return Claim(cid, "", "", (), "", "", tuple(items), path=f"claims/{cid}.yaml")

    assert Contradiction(claim("a", "one"), claim("b", "one")).within == "one"
    assert Contradiction(claim("a", "one", "one"), claim("b", "one", disputed_by="two")).within
    assert Contradiction(claim("a", "one"), claim("b", "two")).within == ""
    assert Contradiction(claim("a", "one", "two"), claim("b", "one")).within == ""


def test_a_weak_grade_on_a_claim_page_says_it_is_no_verdict_on_the_claim(
    make_site: MakeSite, run_build: RunBuild
) -> None:
    """ "Unsupported (GRADE: Very low)" beside a risk read as "this is not a risk"."""
    run = run_build(make_site())
    said = "it is not a finding that the claim is false"
    weak = (run.site / "claims/sleep-better.html").read_text(encoding="utf-8")
    strong = (run.site / "claims/blocks-receptors.html").read_text(encoding="utf-8")
    assert said in weak
    assert said not in strong
    home = (run.site / "index.html").read_text(encoding="utf-8")
    assert "not whether a claim is true: an unsupported claim may be true" in home


def test_a_claim_page_has_badges_relations_note_and_json_ld(
    make_site: MakeSite, run_build: RunBuild
) -> None:
    run = run_build(make_site())
    page = (run.site / "claims/ldn-dopamine-up.html").read_text(encoding="utf-8")
    for anchor in ("dose-low", "strength-unsupported", "corroboration", "contested", "overstated"):
        assert f'href="../methodology.html#{anchor}"' in page
    assert "Contradicting claims" in page and "claims/std-dopamine-down.html" in page
    assert "Related claims" in page and "claims/ldn-endorphins.html" in page
    assert "Stated as fact (without a hedge" in page
    data = json.loads(page.split('<script type="application/ld+json">', 1)[1].split("</script>")[0])
    web_page, claim = data["@graph"]
    assert web_page["@type"] == "MedicalWebPage"
    assert web_page["lastReviewed"] == "2026-11-21"
    assert (
        web_page["url"] == "https://example.org/naltrexone-evidence-map/claims/ldn-dopamine-up.html"
    )
    assert claim["@type"] == "Claim"
    assert claim["text"] == "At low dose, naltrexone is said to raise dopamine release."
    assert claim["appearance"] == [
        {
            "@type": "CreativeWork",
            "name": "Another article",
            "url": "https://example.org/naltrexone-evidence-map/sources/other-article.html",
        }
    ]
    fibro = (run.site / "claims/fibro-pain.html").read_text(encoding="utf-8")
    assert (
        '<h1 class="statement">Low-dose naltrexone <em>may</em> reduce fibromyalgia pain.</h1>'
        in fibro
    )
    assert '<a href="../claims/blocks-receptors.html">the blockade claim</a>' in fibro
    assert '<a href="../sources/demo-article.html#ref-1">[1]</a> Doe, J. (2020)' in fibro
    mechanism = (run.site / "mechanisms/opioid-receptors.html").read_text(encoding="utf-8")
    assert '<a href="../claims/blocks-receptors.html">block opioid receptors</a>' in mechanism
    for dose in ("standard", "low", "unspecified"):
        assert f'<h2 id="dose-{dose}">' in mechanism


# Two claims beside the small registry's: one two sources support (three items, both
# kinds), one a source only disputes.
SUPPORTED_TWICE_AND_DISPUTED = {
    "claims/both-articles.yaml": claim_yaml(
        "both-articles",
        "Naltrexone lowers dopamine release at the standard dose.",
        quote="At the standard dose naltrexone lowers dopamine release.",
        source="other-article",
        mechanism="dopamine",
        dose="standard",
        extra=(
            "  - source: demo-article\n"
            '    quote: "At the standard dose it stops opioids from producing a high."\n'
            "    stance: supports\n"
            "  - source: other-article\n"
            '    quote: "At low dose naltrexone raises dopamine release."\n'
            "    stance: supports\n"
        ),
    ),
    "claims/only-disputed.yaml": claim_yaml(
        "only-disputed",
        "Naltrexone raises endorphin levels at every dose.",
        quote="Naltrexone does not raise endorphin levels at any dose.",
        source="other-article",
        mechanism="endorphin-rebound",
    ).replace("stance: supports", "stance: disputes"),
}


def test_every_listed_claim_shows_the_kind_of_each_source_that_supports_it(
    make_site: MakeSite, run_build: RunBuild
) -> None:
    """A list showed dose and strength but not whether a claim rests on a vendor's page
    or an SEO article; the kinds were on the claim page only. Each kind shows once, in
    the taxonomy's order; a source that only disputes or qualifies the claim is not one
    it rests on."""
    run = run_build(make_site(SUPPORTED_TWICE_AND_DISPUTED))
    assert run.code == 0, run.out + run.err
    expected = {
        "both-articles": ["SEO content", "Health blog"],  # the taxonomy's order
        "only-disputed": [],
        "ldn-endorphins": ["Health blog"],  # the other article disputes it
        "std-dopamine-down": ["SEO content"],
        "blocks-receptors": ["Health blog"],
    }
    badge = re.compile(
        r'<a class="badge kind" href="(?:\.\./)?methodology\.html#kind-([a-z-]+)">'
        r'<span class="vh">Source: </span>([^<]+)</a>'
    )
    seen: dict[str, set[tuple[str, ...]]] = {}
    for page in html_pages(run.site).values():
        for item in re.findall(r'<li class="claim-item">.*?</a></span>', page, flags=re.S):
            link = re.search(r'href="[^"]*claims/([^"/]+)\.html"', item)
            assert link, item
            claim_id = link.group(1)
            found = badge.findall(item)
            assert all(kind == label.lower().replace(" ", "-") for kind, label in found), item
            seen.setdefault(claim_id, set()).add(tuple(label for _, label in found))
    for claim_id, kinds in expected.items():
        assert seen[claim_id] == {tuple(kinds)}, claim_id
    legend = (run.site / "methodology.html").read_text(encoding="utf-8")
    assert "include the kind of each source that supports it" in legend
    conflicts = (run.site / "conflicts.html").read_text(encoding="utf-8")
    assert '<span class="vh">Source: </span>SEO content</a>' in conflicts


def test_sources_say_how_many_claims_rest_on_each_alone(
    make_site: MakeSite, run_build: RunBuild
) -> None:
    """A source's "46 claims drawn from it" did not say how many the map would lose
    without it: those it supports and no other source does. A source that only disputes a
    claim does not count; a claim two sources support counts for neither. An edit that
    gives a claim a second source changes both pages on the next (warm) build."""
    unquoted = OTHER_ARTICLE.replace("id: other-article", "id: unquoted-article")
    root = make_site(
        {**SUPPORTED_TWICE_AND_DISPUTED, "content/sources/unquoted-article.md": unquoted}
    )

    def said(site: Path) -> dict[str, tuple[int, int]]:
        """Per source, (resting on it alone, drawn from it), from its page; checked
        against the list of sources."""
        listing = (site / "sources.html").read_text(encoding="utf-8")
        found = {}
        for source in ("demo-article", "other-article"):
            page = (site / "sources" / f"{source}.html").read_text(encoding="utf-8")
            fact = re.search(
                r"<dt>Claims resting on it alone</dt><dd>(\d+) of the (\d+) claims? drawn "
                r"from it: no other source supports (?:it|them) \(<a href=\"\.\./methodology\.html"
                r"#resting-alone\">what this counts</a>\)\.</dd>",
                page,
            )
            assert fact, f"{source}.html does not say how many claims rest on it alone"
            alone, total = int(fact[1]), int(fact[2])
            assert f"{total} claims drawn from it, {alone} resting on it alone;" in listing
            found[source] = (alone, total)
        return found

    def expected(site: Path) -> dict[str, tuple[int, int]]:
        """The same, worked out from the claims download."""
        records = json.loads((site / "claims.json").read_text("utf-8"))
        counts = {}
        for source in ("demo-article", "other-article"):
            drawn = [r for r in records if any(e["source"] == source for e in r["evidence"])]
            alone = [
                r
                for r in drawn
                if {e["source"] for e in r["evidence"] if e["stance"] == "supports"} == {source}
            ]
            counts[source] = (len(alone), len(drawn))
        return counts

    run = run_build(root)
    assert run.code == 0, run.out + run.err
    page = (run.site / "sources" / "unquoted-article.html").read_text(encoding="utf-8")
    assert "<dd>None: no claim is drawn from it yet (<a " in page
    listing = (run.site / "sources.html").read_text(encoding="utf-8")
    assert "0 claims drawn from it; " in listing  # not "0 of the 0"
    counts = said(run.site)
    assert counts == expected(run.site)
    # demo-article: all but both-articles (ldn-endorphins is only disputed by the other);
    # other-article: not both-articles, only-disputed or ldn-endorphins
    assert counts == {"demo-article": (6, 7), "other-article": (3, 6)}

    # blocks-receptors, until now on demo-article alone, gains other-article's support
    path = root / "claims" / "blocks-receptors.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "evidence:\n",
            "evidence:\n  - source: other-article\n"
            '    quote: "At low dose naltrexone raises dopamine release."\n'
            "    stance: supports\n",
            1,
        ),
        encoding="utf-8",
    )
    run = run_build(root)
    assert run.code == 0, run.out + run.err
    counts = said(run.site)
    assert counts == expected(run.site)
    assert counts == {"demo-article": (5, 7), "other-article": (3, 7)}


def test_downloads_hold_every_claim_with_its_derived_marks(
    make_site: MakeSite, run_build: RunBuild
) -> None:
    run = run_build(make_site())
    records = {r["id"]: r for r in json.loads((run.site / "claims.json").read_text("utf-8"))}
    assert len(records) == 9
    assert records["ldn-endorphins"]["contested"] is True
    assert records["ldn-endorphins"]["corroboration"] == 1
    assert records["std-dopamine-down"]["in_conflict_with"] == ["ldn-dopamine-up"]
    assert records["ldn-dopamine-up"]["overstated"] is True
    assert records["blocks-receptors"]["contested"] is False
    assert records["fibro-pain"]["evidence"][0]["cites"] == [1]
    csv_lines = (run.site / "claims.csv").read_text("utf-8").splitlines()
    assert csv_lines[0].startswith("id,statement,kind,mechanism,dose,strength,corroboration,")
    assert len(csv_lines) == 10
    index = (run.site / "search-index.js").read_text("utf-8")
    assert index.startswith("// Generated")
    data = json.loads(index.split("window.NALTREXONE_SEARCH = ", 1)[1].rstrip(";\n"))
    assert len(data["claims"]) == 9


def test_sitemap_lists_every_page_with_an_absolute_url(
    make_site: MakeSite, run_build: RunBuild
) -> None:
    run = run_build(make_site())
    sitemap = (run.site / "sitemap.xml").read_text("utf-8")
    urls = re.findall(r"<loc>([^<]+)</loc>", sitemap)
    base = "https://example.org/naltrexone-evidence-map/"
    pages = sorted(p for p in html_pages(run.site) if p != "404.html")
    assert sorted(base if p == "index.html" else base + p for p in pages) == sorted(urls)
    assert (run.site / "robots.txt").read_text("utf-8").endswith(f"Sitemap: {base}sitemap.xml\n")


def test_build_base_url_is_the_address_every_page_and_file_gives(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Pages workflow passes the address GitHub serves the site from: a fork publishes
    at its own, whatever content/site.yaml says. Each address is a build of its own."""
    from naltrexone_site import cli

    root = make_site()
    out = root / "_site"

    def built(*extra: str) -> dict[str, str]:
        assert cli.main(["--root", str(root), "build", "--out", str(out), *extra]) == 0
        return {
            p.relative_to(out).as_posix(): p.read_text("utf-8")
            for p in out.rglob("*")
            if p.suffix in {".html", ".xml", ".txt", ".json", ".js"}
        }

    given = "https://owner.github.io/evidence"  # as GitHub may give it: no final slash
    site = built("--base-url", given)
    urls = re.findall(r"<loc>([^<]+)</loc>", site["sitemap.xml"])
    assert urls and all(url.startswith(f"{given}/") for url in urls)
    assert site["robots.txt"].endswith(f"Sitemap: {given}/sitemap.xml\n")
    assert f'"url":"{given}/claims/fibro-pain.html"' in site["claims/fibro-pain.html"]
    assert "/evidence/" in site["404.html"]  # its links, from any depth
    assert not [path for path, text in site.items() if "example.org" in text]
    site = built()  # site.yaml's address again: not the last build's, kept
    assert re.findall(r"<loc>([^<]+)</loc>", site["sitemap.xml"])[0].startswith(
        "https://example.org/naltrexone-evidence-map/"
    )
    assert not [path for path, text in site.items() if "owner.github.io" in text]
    site = built("--base-url", "https://other.example/")
    assert site["robots.txt"].endswith("Sitemap: https://other.example/sitemap.xml\n")
    # the downloads too, whose rows are kept between builds
    assert not [path for path, text in site.items() if "example.org" in text]
    capsys.readouterr()
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    # the last four: a traceback (urlsplit's ValueError), a port past 65535, and a space
    # and a new line, which reached robots.txt ("Disallow: /" as a line of its own)
    bad_ones: tuple[str, ...] = (
        "x.io",
        "https://",
        "https://x.io/?page=1",
        "ftp://x.io/",
        "https://[::1/",
    )
    bad_ones += ("https://x.io:99999/", "https://x .io/", "https://x.io/\nDisallow: /")
    for bad in bad_ones:
        assert cli.main(["--root", str(root), "build", "--out", str(out), "--base-url", bad]) == 2
        assert capsys.readouterr().err == (
            f"error: --base-url: '{bad}' is not the address of a site "
            "(write it in full, such as https://owner.github.io/repo/)\n"
        )
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


def test_past_a_sitemap_file_s_limit_sitemap_xml_is_an_index_of_files_within_it(
    make_site: MakeSite, run_build: RunBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sitemaps.org: one file lists at most 50,000 URLs; 100,000 claims make 102,000 pages.
    The limit is lowered here to split a small site the same way."""
    from naltrexone_site import exports

    root = make_site()
    whole = run_build(root, root / "whole")
    listed = re.findall(r"<loc>([^<]+)</loc>", (whole.site / "sitemap.xml").read_text())
    monkeypatch.setattr(exports, "SITEMAP_URLS", 10)
    run = run_build(root)
    assert run.code == 0, run.err
    base = "https://example.org/naltrexone-evidence-map/"
    index = ElementTree.parse(run.site / "sitemap.xml").getroot()
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    assert index.tag == f"{ns}sitemapindex"
    parts = [loc.text for loc in index.iter(f"{ns}loc")]
    count = -(-len(listed) // 10)
    assert parts == [f"{base}sitemap-{n}.xml" for n in range(1, count + 1)]
    urls = []
    for n in range(1, count + 1):
        part = ElementTree.parse(run.site / f"sitemap-{n}.xml").getroot()
        assert part.tag == f"{ns}urlset"
        found = [loc.text for loc in part.iter(f"{ns}loc")]
        assert 0 < len(found) <= 10
        urls += found
    assert urls == listed  # every page once, in order, as in one file
    assert (run.site / "robots.txt").read_text("utf-8").endswith(f"Sitemap: {base}sitemap.xml\n")

    # one claim more or less moves a site across the limit: the parts come and go
    monkeypatch.setattr(exports, "SITEMAP_URLS", len(listed))
    out = root / "edited"
    assert run_build(root, out).code == 0
    assert not list(out.glob("sitemap-*.xml"))
    extra = root / "claims" / "extra.yaml"
    quote = "Naltrexone blocks opioid receptors in the brain."
    extra.write_text(
        claim_yaml("extra", "Naltrexone acts on opioid receptors.", quote=quote),
        encoding="utf-8",
    )
    assert run_build(root, out).code == 0
    assert sorted(p.name for p in out.glob("sitemap*.xml")) == [
        "sitemap-1.xml",
        "sitemap-2.xml",
        "sitemap.xml",
    ]
    extra.unlink()
    assert run_build(root, out).code == 0
    assert not list(out.glob("sitemap-*.xml"))
    assert (out / "sitemap.xml").read_bytes() == (whole.site / "sitemap.xml").read_bytes()


def test_a_sitemap_file_keeps_within_50_mb_whatever_the_length_of_its_urls() -> None:
    from naltrexone_site.exports import SITEMAP_BYTES, _urls_per_file

    paths = [f"claims/claim-{n:06d}.html" for n in range(100)]
    assert _urls_per_file("https://example.org/", paths) == 50_000
    base = "https://example.org/" + "&" * 2000  # each "&" written as "&amp;"
    per = _urls_per_file(base, paths)
    line = len(f"<url><loc>{base.replace('&', '&amp;')}/{paths[0]}</loc></url>\n")
    assert per < 50_000 and per * line + 200 <= SITEMAP_BYTES


def test_a_long_list_s_pager_links_the_near_pages_and_next_and_previous(
    make_site: MakeSite, run_build: RunBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One claim to a browse page: each page's pager links the first and last pages,
    those next to it, and Previous and Next; following Next reads every page in order."""
    monkeypatch.setattr(render, "LIST_LIMIT", 1)
    monkeypatch.setattr(render, "PAGER_SIDE", 1)
    run = run_build(make_site())
    assert run.code == 0
    pages = len(list(run.site.glob("browse*.html")))
    assert pages == len(list(run.site.glob("claims/*.html"))) >= 8

    def pager(name: str) -> str:
        page = (run.site / name).read_text("utf-8")
        return page.split('<nav class="pager" aria-label="Pages of claims">', 1)[1].split("</nav>")[
            0
        ]

    fifth = pager("browse-5.html")
    assert re.findall(r">(\d+|&hellip;|Previous|Next)<", fifth) == [
        "Previous", "1", "&hellip;", "4", "5", "6", "&hellip;", str(pages), "Next",
    ]  # fmt: skip
    assert '<a href="browse-4.html" rel="prev">Previous<span class="vh"> page</span></a>' in fifth
    assert '<a href="browse-6.html" rel="next">Next<span class="vh"> page</span></a>' in fifth
    assert '<a href="browse-5.html" aria-current="page">5</a>' in fifth
    assert 'rel="prev"' not in pager("browse.html")
    assert 'rel="next"' not in pager(f"browse-{pages}.html")
    read, name = [], "browse.html"
    while name:
        read.append(name)
        found = re.search(r'<a href="([^"]+)" rel="next">', pager(name))
        name = found.group(1) if found else ""
    assert read == ["browse.html", *(f"browse-{n}.html" for n in range(2, pages + 1))]
    assert broken_links(run.site) == []


def test_long_lists_are_split_into_pages(
    make_site: MakeSite, run_build: RunBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render, "LIST_LIMIT", 3)
    monkeypatch.setattr(render, "SECTION_LIMIT", 3)
    extra = {
        f"claims/dream-{n}.yaml": claim_yaml(
            f"dream-{n}",
            f"Dream report number {n} about naltrexone.",
            quote="Some users report vivid dreams.",
            mechanism="mood",
            strength="anecdotal",
        )
        for n in range(5)
    }
    run = run_build(make_site(extra))
    assert run.code == 0
    browse = sorted(p.name for p in run.site.glob("browse*.html"))
    assert browse == [
        "browse-2.html",
        "browse-3.html",
        "browse-4.html",
        "browse-5.html",
        "browse.html",
    ]
    listed = []
    for name in browse:
        page = (run.site / name).read_text("utf-8")
        static = page.split('<div id="static-list">', 1)[1]
        found = re.findall(r'class="claim-link" href="claims/([a-z0-9-]+)\.html"', static)
        assert 0 < len(found) <= 3
        listed += found
        assert '<nav class="pager" aria-label="Pages of claims">' in page
    assert sorted(listed) == sorted(p.stem for p in run.site.glob("claims/*.html"))
    # the mood row holds 6 claims without a dose: 3 on the mechanism page, 3 on page 2
    mood = (run.site / "mechanisms/mood.html").read_text("utf-8")
    assert 'href="../mechanisms/mood/unspecified-2.html"' in mood
    page_two = (run.site / "mechanisms/mood/unspecified-2.html").read_text("utf-8")
    assert len(re.findall(r'class="claim-link"', page_two)) == 3
    assert 'href="../../static/site.css"' in page_two
    # the demo article is quoted by 11 claims: 3 on its page, the rest on pages 2 to 4
    assert sorted(p.name for p in (run.site / "sources/demo-article").iterdir()) == [
        "claims-2.html",
        "claims-3.html",
        "claims-4.html",
    ]
    assert broken_links(run.site) == []


@pytest.mark.parametrize("by_descriptor", [True, False], ids=["from-folder", "by-path"])
def test_files_are_written_into_their_folders_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, by_descriptor: bool
) -> None:
    """Files are opened from their folder's descriptor where the system allows it, else by
    their whole path; either way each is written whole, once, and no descriptor is left
    open."""
    if not by_descriptor:
        monkeypatch.setattr(os, "supports_dir_fd", set())
    before = len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").is_dir() else None
    big = b"x" * (1 << 20)
    files: dict[str, bytes | list[bytes]] = {
        "index.html": b"home",
        "claims/a.html": b"a",
        "claims/b.html": [b"b", b"", big],
    }
    output.write_tree(tmp_path, files)
    assert (tmp_path / "index.html").read_bytes() == b"home"
    assert (tmp_path / "claims" / "a.html").read_bytes() == b"a"
    assert (tmp_path / "claims" / "b.html").read_bytes() == b"b" + big
    with pytest.raises(
        OutputError, match="two pages at one path on this file system: 'claims/a.html'"
    ):
        output.write_tree(tmp_path, {"claims/a.html": b"again"})
    assert (tmp_path / "claims" / "a.html").read_bytes() == b"a"
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) == before
