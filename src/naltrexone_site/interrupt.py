"""Stopping on a signal. Ctrl-C (SIGINT), SIGTERM (`kill`, a CI job cancelled) and SIGHUP
(the terminal closed) raise `Interrupted` in the program's process, a KeyboardInterrupt,
so that each is handled where Ctrl-C is: a build undoes what it started on the way out,
as on any error (its staging folder removed, its children stopped, no half-written
cache file left), and `cli.main` prints one line and exits with 128 + the signal number.

Forked children (parallel.py) inherit the handler. One that is not yet in its own code
leaves at once: unwinding there would run the cleanup of the parent's frames it copied
(remove the staging folder the parent writes, stop its siblings). `adopt` marks where
its own code starts, inside the block that catches everything and exits.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)  # no SIGHUP on Windows

_owner = 0  # the process where the handler raises; 0 until `install`
_stopping = False


class Interrupted(KeyboardInterrupt):
    """The program was asked to stop by a signal (Ctrl-C raises this too, once installed)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def install() -> None:
    """Turn the signals into `Interrupted` in this process. A signal ignored when the
    program started stays ignored (`nohup`, a shell's background job)."""
    global _owner
    _owner = os.getpid()
    for signum in SIGNALS:
        if signal.getsignal(signum) != signal.SIG_IGN:
            signal.signal(signum, _raise)


def adopt() -> None:
    """In a forked child, from where it catches everything and exits: a signal raises
    here too, so that the child's own `finally` blocks run (a temporary file removed)."""
    global _owner
    if _owner:
        _owner = os.getpid()


def _raise(signum: int, frame: FrameType | None) -> None:
    global _stopping
    if os.getpid() != _owner:
        os._exit(128 + signum)  # a child not yet in its own code: nothing of its to undo
    if _stopping:
        return  # on the way out already: a second signal must not cut the cleanup short
    _stopping = True
    raise Interrupted(signum)


def report(stop: KeyboardInterrupt) -> int:
    """Say that the program stopped; the exit code: 128 + the signal number."""
    print("interrupted: nothing was changed", file=sys.stderr)
    return 128 + getattr(stop, "signum", signal.SIGINT)
