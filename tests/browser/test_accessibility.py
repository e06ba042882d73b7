"""axe-core (bundled in axe-playwright-python) with the WCAG 2.1 A and AA rules finds zero
violations on every kind of page, in the light and the dark colour scheme."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .site_support import PAGE_KINDS, page_kinds, require_module, url_of

Axe = require_module("axe_playwright_python.sync_playwright", "axe-playwright-python").Axe

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}


def describe(violations: list[dict[str, Any]]) -> str:
    """The violations, one rule at a time, with each offending element."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v.get('impact')}): {v['help']}  [{v['helpUrl']}]")
        for node in v["nodes"][:8]:
            target = " ".join(str(t) for t in node["target"])
            lines.append(f"    at {target}")
            lines.append(f"       {' '.join(node.get('html', '').split())[:200]}")
            summary = node.get("failureSummary") or ""
            for s in summary.splitlines()[1:4]:
                lines.append(f"       {s.strip()}")
        if len(v["nodes"]) > 8:
            lines.append(f"    ... and {len(v['nodes']) - 8} more elements")
    return "\n".join(lines)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("kind", PAGE_KINDS)
def test_axe_wcag21_aa(
    new_context: Any, site_url: str, built_site: Path, kind: str, scheme: str
) -> None:
    kinds = page_kinds(built_site)
    assert kind in kinds, f"the built site has no {kind} page (found: {sorted(kinds)})"
    rel = kinds[kind]
    context = new_context(color_scheme=scheme, bypass_csp=True)
    page = context.new_page()
    page.goto(url_of(site_url, rel), wait_until="load")
    results = Axe().run(page, options=AXE_OPTIONS)
    violations = results.response["violations"]
    if violations:
        engine = results.response.get("testEngine", {}).get("version")
        pytest.fail(
            f"axe-core {engine}: {len(violations)} WCAG 2.1 A/AA rules violated on {rel} "
            f"({kind}, {scheme} scheme):\n" + describe(violations),
            pytrace=False,
        )
