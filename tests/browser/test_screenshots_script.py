"""scripts/screenshots.py still works: it makes the eight PNGs README.md shows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .site_support import REPO_ROOT, require_chromium


def test_screenshot_script_makes_eight_pngs(built_site: Path, tmp_path: Path) -> None:
    require_chromium()
    done = subprocess.run(
        [
            sys.executable,
            "scripts/screenshots.py",
            "--site",
            str(built_site),
            "--out",
            str(tmp_path),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert names == sorted(
        f"{page}-{width}.png"
        for page in ("home", "mechanism", "dose", "claim")
        for width in ("desktop", "phone")
    )
    for png in tmp_path.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
