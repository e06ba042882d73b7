"""Every internal link and anchor of the built site resolves (scripts/linkcheck.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .site_support import load_script

linkcheck = load_script("linkcheck")


def test_no_broken_links_or_anchors(built_site: Path) -> None:
    report = linkcheck.check_site(built_site)
    assert report.pages > 0
    if report.problems:
        pytest.fail(
            (
                f"{len(report.broken_links)} broken links, {len(report.broken_anchors)} broken "
                f"anchors in {report.pages} pages:\n" + "\n".join(str(p) for p in report.problems)
            ),
            pytrace=False,
        )
