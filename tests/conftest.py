"""Shared fixtures: a throwaway project (`make_site`) and a build run (`run_build`).

    def test_something(make_site, run_build):
        root = make_site({"claims/extra.yaml": "...", "content/sources/demo-article.md": None})
        run = run_build(root)
        assert run.code == 0

`make_site(files)` writes a small valid project into tmp_path: site settings and taxonomy
(the pinned copies in tests/fixtures/project/content), the repository's templates/ and
schema/ when present, two source articles and eight claims that exercise every page
(both doses, a contradiction across doses, a disputing passage, low-dose ranges, a table
cell quote, an overview with a claim link). `files` maps a project-relative path to its
text, replacing a base file or adding one; None removes a base file.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, FrameType
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

if TYPE_CHECKING:
    from _typeshed import TraceFunction

# The machine CI runs on is shared: a property test must not fail because an example was
# slow, only because it was wrong.
settings.register_profile("shared-machine", deadline=None)
settings.load_profile("shared-machine")

REPO = Path(__file__).resolve().parent.parent
WAIT = 30.0  # seconds; every wait ends as soon as what it waits for happens
sys.path.insert(0, str(REPO / "src"))  # the tests run from a fresh clone without installing
FIXTURE_CONTENT = REPO / "tests" / "fixtures" / "project" / "content"


class Forks:
    """Every child process forked from now on (os.fork patched for the test): its pid, and
    the name of the function that started it, the caller of `parallel.Beside` or
    `parallel.fork_map`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.pids: list[int] = []
        self.starters: list[str] = []
        fork = os.fork

        def recorded() -> int:
            starter = sys._getframe(2).f_code.co_name  # recorded <- Beside or fork_map <- it
            pid = fork()
            if pid:
                self.pids.append(pid)
                self.starters.append(starter)
            return pid

        monkeypatch.setattr(os, "fork", recorded)


DEMO_ARTICLE = """\
---
id: demo-article
title: A demo article about naltrexone
publisher: Demo Health
published: 2025-01-02
kind: health-blog
commercial_interest: null
cites_literature: true
references:
  - "Doe, J. (2020). A trial of low-dose naltrexone in fibromyalgia. Journal, 1, 1-2."
seed: demo.txt
removed:
  - "A newsletter sign-up box."
boilerplate:
  - "Thanks for reading."
note: null
---
## How it works

Naltrexone blocks opioid receptors in the brain.
At the standard dose it stops opioids from producing a high.

## Low dose

Low-dose naltrexone is thought to raise endorphin levels after a brief blockade.
Doses of 1.5 to 4.5 mg a day are typical.

- Some users report better sleep.
- Some users report vivid dreams.

Condition | Effect |
---|---|
Fibromyalgia | Low-dose naltrexone may reduce pain |

Thanks for reading.
"""

OTHER_ARTICLE = """\
---
id: other-article
title: Another article
publisher: null
published: null
kind: seo-content
commercial_interest: "Sells naltrexone powder."
cites_literature: false
references: []
seed: other.txt
removed: []
boilerplate: []
note: null
---
Naltrexone does not raise endorphin levels at any dose.
Low-dose naltrexone means 0.5 to 1 mg a day.

At the standard dose naltrexone lowers dopamine release.
At low dose naltrexone raises dopamine release.
"""


def claim_yaml(
    claim_id: str,
    statement: str,
    *,
    quote: str,
    source: str = "demo-article",
    kind: str = "mechanism",
    mechanism: str = "opioid-receptors",
    dose: str = "unspecified",
    strength: str = "unsupported",
    extra: str = "",
) -> str:
    """The text of a claim file with one supporting evidence item; `extra` adds lines."""
    return (
        f"id: {claim_id}\n"
        f"statement: {_quoted(statement)}\n"
        f"kind: {kind}\n"
        f"mechanism: [{mechanism}]\n"
        f"dose: {dose}\n"
        f"strength: {strength}\n"
        "evidence:\n"
        f"  - source: {source}\n"
        f"    quote: {_quoted(quote)}\n"
        "    stance: supports\n"
        f"{extra}"
    )


def checked_afresh(root: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What `check` finds without any cache: what a check or build with one must find."""
    from naltrexone_site import pipeline
    from naltrexone_site.stages import Stages

    with monkeypatch.context() as m:
        m.setenv("NALTREXONE_SITE_CACHE", "0")
        return sorted(map(str, pipeline.check_project(root, Stages(), None).problems))


def wait_for(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"waited {WAIT} s for {what}"
        time.sleep(0.01)


def interrupting(at: int, traced: Callable[[CodeType], bool]) -> TraceFunction:
    """A trace function that raises KeyboardInterrupt at the `at`-th line event of the code
    `traced` picks, in this process (not in a child it forks): where a signal's handler
    would raise it."""
    seen, pid = 0, os.getpid()

    def local(frame: FrameType, event: str, arg: object) -> TraceFunction:
        nonlocal seen
        if event == "line" and os.getpid() == pid:
            seen += 1
            if seen == at:
                raise KeyboardInterrupt
        return local

    return lambda frame, event, arg: local if traced(frame.f_code) else None


def rewrite(path: Path, old: str, new: str) -> None:
    """Replace `old` with `new` in a UTF-8 text file (an editor's change). `old` must be
    there: a test whose edit no longer applies would test nothing."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} does not contain {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


BASE_CLAIMS: dict[str, str] = {
    "blocks-receptors": claim_yaml(
        "blocks-receptors",
        "Naltrexone blocks opioid receptors in the brain.",
        quote="Naltrexone blocks opioid receptors in the brain.",
        kind="pharmacology",
        dose="both",
        strength="established",
    ),
    "standard-stops-high": claim_yaml(
        "standard-stops-high",
        "At the standard dose, naltrexone stops opioids from producing a high.",
        quote="At the standard dose it stops opioids from producing a high.",
        kind="clinical-effect",
        mechanism="opioid-receptors, addiction",
        dose="standard",
        strength="established",
    ),
    "ldn-endorphins": claim_yaml(
        "ldn-endorphins",
        "Low-dose naltrexone is thought to raise endorphin levels.",
        quote="Low-dose naltrexone is thought to raise endorphin levels after a brief blockade.",
        mechanism="endorphin-rebound",
        dose="low",
        strength="theoretical",
        extra=(
            "  - source: other-article\n"
            '    quote: "Naltrexone does not raise endorphin levels at any dose."\n'
            "    stance: disputes\n"
        ),
    ),
    "ldn-range-demo": claim_yaml(
        "ldn-range-demo",
        "The demo article says low-dose naltrexone means 1.5 to 4.5 mg a day.",
        quote="Doses of 1.5 to 4.5 mg a day are typical.",
        kind="dosing",
        mechanism="dosing",
        dose="low",
    ),
    "ldn-range-other": claim_yaml(
        "ldn-range-other",
        "Another article says low-dose naltrexone means 0.5 to 1 mg a day.",
        quote="Low-dose naltrexone means 0.5 to 1 mg a day.",
        source="other-article",
        kind="dosing",
        mechanism="dosing",
        dose="low",
    ),
    "sleep-better": claim_yaml(
        "sleep-better",
        "Some users report sleeping better on naltrexone.",
        quote="Some users report better sleep.",
        kind="clinical-effect",
        mechanism="mood",
        strength="anecdotal",
    ),
    "std-dopamine-down": claim_yaml(
        "std-dopamine-down",
        "At the standard dose, naltrexone is said to lower dopamine release.",
        quote="At the standard dose naltrexone lowers dopamine release.",
        source="other-article",
        mechanism="dopamine",
        dose="standard",
        extra="contradicts: [ldn-dopamine-up]\n",
    ),
    "ldn-dopamine-up": claim_yaml(
        "ldn-dopamine-up",
        "At low dose, naltrexone is said to raise dopamine release.",
        quote="At low dose naltrexone raises dopamine release.",
        source="other-article",
        mechanism="dopamine",
        dose="low",
        extra="related: [ldn-endorphins]\n",
    ),
    "fibro-pain": claim_yaml(
        "fibro-pain",
        "Low-dose naltrexone *may* reduce fibromyalgia pain.",
        quote="Low-dose naltrexone may reduce pain",
        kind="clinical-effect",
        mechanism="off-label",
        dose="low",
        strength="preliminary",
        extra=(
            "note: >-\n"
            "  One small trial, cited by the article. See also\n"
            "  [the blockade claim](claim:blocks-receptors).\n"
        ),
    ).replace("    stance: supports\n", "    stance: supports\n    cites: [1]\n", 1),
}

OVERVIEW = """\
---
id: opioid-receptors
reviewed: 2026-11-21
---
Naltrexone is said to [block opioid receptors](claim:blocks-receptors) at any dose.
"""

BASE_FILES: dict[str, str] = {
    "content/sources/demo-article.md": DEMO_ARTICLE,
    "content/sources/other-article.md": OTHER_ARTICLE,
    "content/mechanisms/opioid-receptors.md": OVERVIEW,
    **{f"claims/{cid}.yaml": text for cid, text in BASE_CLAIMS.items()},
}

MakeSite = Callable[..., Path]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="write the small site's build to tests/golden/ (then review the diff)",
    )


@pytest.fixture(autouse=True)
def own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets an empty build cache (cache.py), never the user's ~/.cache."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    monkeypatch.delenv("NALTREXONE_SITE_CACHE", raising=False)
    return folder


def make_project(root: Path, files: Mapping[str, str | None] | None = None) -> Path:
    """The small project (BASE_FILES) at `root`, with `files` added or, where None, left out."""
    (root / "claims").mkdir(parents=True)
    shutil.copytree(FIXTURE_CONTENT / "taxonomy", root / "content" / "taxonomy")
    shutil.copy(FIXTURE_CONTENT / "site.yaml", root / "content" / "site.yaml")
    shutil.copytree(REPO / "templates", root / "templates")
    if (REPO / "schema").is_dir():
        shutil.copytree(REPO / "schema", root / "schema")
    for rel, text in {**BASE_FILES, **(files or {})}.items():
        path = root / rel
        if text is None:
            path.unlink(missing_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by its path from there: a built site, to compare."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def make_site(tmp_path: Path) -> MakeSite:
    def make(files: Mapping[str, str | None] | None = None, name: str = "project") -> Path:
        return make_project(tmp_path / name, files)

    return make


@dataclass(frozen=True)
class BuildRun:
    code: int
    out: str  # what the build printed on stdout
    err: str
    site: Path


RunBuild = Callable[..., BuildRun]


@pytest.fixture
def run_build(capsys: pytest.CaptureFixture[str]) -> RunBuild:
    """`build_command` in process, with what it printed."""
    from naltrexone_site.builder import build_command

    def run(root: Path, out: Path | None = None) -> BuildRun:
        site = out or root / "_site"
        code = build_command(root, site)
        captured = capsys.readouterr()
        return BuildRun(code, captured.out, captured.err, site)

    return run
