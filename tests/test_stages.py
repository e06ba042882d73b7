"""`build --profile` and `check --profile`: the stages of a run follow one another, so each
second is counted in one stage only, on every path (a cold build, a build one edit on,
which patches the kept registry, and `check` one edit on)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from conftest import MakeSite

from naltrexone_site import pipeline
from naltrexone_site.builder import build
from naltrexone_site.inputs import scan_inputs
from naltrexone_site.stages import Stages


@dataclass
class Watched(Stages):
    """Stages that note each one begun while another was still open."""

    open: list[str] = field(default_factory=list)
    nested: list[tuple[str, str]] = field(default_factory=list)  # (open, begun)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        self.nested += [(outer, name) for outer in self.open]
        self.open.append(name)
        try:
            with super().__call__(name):
                yield
        finally:
            self.open.pop()


def _edit(root: Path) -> None:
    path = root / "claims" / "sleep-better.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("sleeping better", "sleeping much better"), encoding="utf-8")


def test_a_builds_stages_do_not_overlap(make_site: MakeSite, tmp_path: Path) -> None:
    root, out = make_site(), tmp_path / "site"
    cold = Watched()
    assert build(root, out, cold).built
    assert cold.nested == []
    assert {"load", "anchor", "check", "analyse", "render", "write"} <= cold.wall.keys()

    _edit(root)
    rebuilt = Watched()
    assert build(root, out, rebuilt).built
    assert "anchor" not in rebuilt.wall  # the kept registry was patched: nothing anchored
    # The patch's `load` once held the checks and the analysis: counted twice in the total
    assert rebuilt.nested == []
    assert {"load", "check", "analyse", "render", "write"} <= rebuilt.wall.keys()


def test_a_checks_stages_do_not_overlap(make_site: MakeSite) -> None:
    root = make_site()
    first = Watched()
    pipeline.check_project(root, first, scan_inputs(root))
    assert first.nested == []

    _edit(root)
    again = Watched()
    pipeline.check_project(root, again, scan_inputs(root))
    assert "anchor" not in again.wall  # patched
    assert again.nested == []
    assert {"load", "check"} <= again.wall.keys()
