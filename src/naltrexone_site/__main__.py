"""The program: `python -m naltrexone_site`, build.py and the console script run `entry`.

It imports little (0.01 s), so that the signal handlers are in place before the
package's imports (0.02 s, 0.1 s for a build): Ctrl-C during them then stops the
program as it does later, with one line and no traceback.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import NoReturn

from . import interrupt


def entry() -> NoReturn:
    """`cli.main`, then leave at once. A build holds a few hundred thousand objects at
    10,000 claims (millions at 100,000); freeing them one by one at exit took 0.1 s and
    1.5 s, for nothing. So do those the build's functions let go of as they return
    (0.05 s of a one-claim rebuild at 10,000 claims): the build hands them to
    `cache.held`, which keeps them here. Every file is closed and every worker waited for
    by then.

    The cycle collector stays off: a program that runs once leaves before a reference
    cycle could matter, and the collector's first pass after a build (which runs without
    it, see cache.no_gc) walked every object the build had made: 0.06 to 0.1 s of a
    one-claim rebuild at 10,000 claims. `serve`, which runs on, turns it back on."""
    try:
        interrupt.install()
        gc.disable()
        from . import cache
        from .cli import main

        cache.hold_until_exit(True)
        code = main()
        interrupt.finished()
    except KeyboardInterrupt as stop:  # before `main` could catch it
        code = interrupt.report(stop)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
