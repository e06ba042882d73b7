#!/usr/bin/env python3
"""Build the naltrexone evidence map: `python build.py [build|check|coverage|serve|new] ...`.

A thin wrapper so the commands work from a fresh clone before (or without) installing.
"""

import os
import sys

# os.path, not pathlib: as little as possible is imported before the program's signal
# handlers are in place (see naltrexone_site/__main__.py)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "src"))

from naltrexone_site.__main__ import entry  # noqa: E402

if __name__ == "__main__":
    entry()
