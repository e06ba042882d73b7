"""The small test site, built, byte for byte as the copy kept in tests/golden/site/.

Any change to what the site says or how it is written (a template, the renderer, the
exports) shows up here as a diff to review. When the change is meant, write the new copy
with `python -m pytest tests/test_golden.py --update-golden` and commit it with the change:
it is never rewritten silently. The static files and JSON Schemas are copies of
templates/static/ and schema/, checked as such instead of kept twice.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest
from conftest import REPO, MakeSite, snapshot

from naltrexone_site.builder import build

GOLDEN = Path(__file__).parent / "golden" / "site"
COPIED = {"static/": REPO / "templates" / "static", "schema/": REPO / "schema"}


def test_the_small_site_is_its_golden_copy(
    make_site: MakeSite, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    out = tmp_path / "site"
    assert build(make_site(), out).built
    made = snapshot(out)
    for prefix, origin in COPIED.items():
        copies = {p: data for p, data in made.items() if p.startswith(prefix)}
        assert copies == {prefix + p: data for p, data in snapshot(origin).items()}
        made = {p: data for p, data in made.items() if not p.startswith(prefix)}
    if request.config.getoption("--update-golden"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for path, data in made.items():
            (GOLDEN / path).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / path).write_bytes(data)
        pytest.skip("tests/golden/site/ written: review it with `git diff tests/golden`")
    kept = snapshot(GOLDEN)
    assert sorted(made) == sorted(kept), "files added or gone (see --update-golden)"
    for path in sorted(made):
        if made[path] != kept[path]:
            diff = difflib.unified_diff(
                kept[path].decode("utf-8", "replace").splitlines(),
                made[path].decode("utf-8", "replace").splitlines(),
                f"golden/{path}",
                f"built/{path}",
                lineterm="",
            )
            shown = "\n".join(list(diff)[:60])
            pytest.fail(
                f"{path} differs from its golden copy. If the change is meant, run "
                f"`python -m pytest tests/test_golden.py --update-golden` and commit "
                f"tests/golden/ with it.\n{shown}"
            )
