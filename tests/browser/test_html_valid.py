"""The W3C Nu HTML Checker (npm `vnu-jar`, run with Java) finds zero errors on every page."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .site_support import require_vnu


def test_every_page_is_valid_html(built_site: Path) -> None:
    java, jar = require_vnu()
    done = subprocess.run(
        [
            java,
            "-Xss8m",
            "-jar",
            str(jar),
            "--errors-only",
            "--skip-non-html",
            "--format",
            "json",
            str(built_site),
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=900,
        check=False,
    )
    # vnu writes its JSON report to stderr; exit 1 means "errors found".
    try:
        messages = json.loads(done.stderr or "{}").get("messages", [])
    except json.JSONDecodeError:
        raise AssertionError(
            f"vnu exited {done.returncode} without a JSON report:\n{done.stderr[-4000:]}"
        ) from None
    errors = [m for m in messages if m.get("type") in {"error", "non-document-error"}]
    # one entry per distinct message, with the pages where it occurs
    grouped: dict[str, list[str]] = {}
    extracts: dict[str, str] = {}
    for m in errors:
        where = m.get("url", "?").split(str(built_site), 1)[-1].lstrip("/") or "?"
        text = str(m.get("message"))
        grouped.setdefault(text, []).append(f"{where}:{m.get('lastLine', '?')}")
        extracts.setdefault(text, " ".join((m.get("extract") or "").split())[:160])
    lines = []
    for text, places in sorted(grouped.items(), key=lambda kv: -len(kv[1])):
        more = f" and {len(places) - 6} more" if len(places) > 6 else ""
        lines.append(f"- {text}\n    at {', '.join(places[:6])}{more}")
        if extracts[text]:
            lines.append(f"    extract: {extracts[text]}")
    if errors:
        pytest.fail(
            (
                f"Nu HTML checker: {len(errors)} errors ({len(grouped)} distinct) in "
                f"{len({p.split(':')[0] for ps in grouped.values() for p in ps})} pages\n"
                + "\n".join(lines)
            ),
            pytrace=False,
        )
    assert done.returncode == 0, f"vnu exited {done.returncode}:\n{done.stderr[-4000:]}"
