"""The W3C Nu HTML Checker (npm `vnu-jar`, run with Java) finds zero errors on every page."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from site_support import require_vnu


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
    lines = []
    for m in errors:
        where = m.get("url", "?").split(str(built_site), 1)[-1].lstrip("/") or "?"
        extract = " ".join((m.get("extract") or "").split())[:160]
        lines.append(
            f"{where}:{m.get('lastLine', '?')}:{m.get('firstColumn', '?')}: "
            f"{m.get('message')}" + (f"\n      {extract}" if extract else "")
        )
    assert not errors, f"Nu HTML checker: {len(errors)} errors\n" + "\n".join(lines)
    assert done.returncode == 0, f"vnu exited {done.returncode}:\n{done.stderr[-4000:]}"
