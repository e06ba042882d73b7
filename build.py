#!/usr/bin/env python3
"""Build the naltrexone evidence map: `python build.py [build|check|coverage|serve|new] ...`.

A thin wrapper so the commands work from a fresh clone before (or without) installing.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from naltrexone_site.cli import entry  # noqa: E402

if __name__ == "__main__":
    entry()
