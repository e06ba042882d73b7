"""Stopping on a signal. Ctrl-C (SIGINT), SIGTERM (`kill`, a CI job cancelled) and SIGHUP
(the terminal closed) raise `Interrupted` in the program's process, a KeyboardInterrupt,
so that each is handled where Ctrl-C is: a build undoes what it started on the way out,
as on any error (its staging folder removed, its children stopped, no half-written
cache file left), and `cli.main` prints one line and exits with 128 + the signal number.

Forked children (parallel.py) inherit the handler. One that is not yet in its own code
leaves at once: unwinding there would run the cleanup of the parent's frames it copied
(remove the staging folder the parent writes, stop its siblings). `adopt` marks where
its own code starts, inside the block that catches everything and exits.

A second signal within a second of the first is the same stop reaching the program
twice and is ignored, so that the cleanup runs; a later one stops it at once.

Python swallows an exception raised in a finaliser (a `__del__`, such as a temporary
file's closer, that the signal happened to interrupt) and prints its traceback: the stop
was lost, and the traceback shown. Such an `Interrupted` is given again instead, by a
timer a millisecond later, where the program's own code runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from types import FrameType

SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)  # no SIGHUP on Windows
# the timer that gives again a stop a finaliser swallowed; none on Windows
_TIMER = (signal.SIGALRM,) if hasattr(signal, "setitimer") else ()

_owner = 0  # the process where the handler raises; 0 until `install`
_first = 0.0  # when the first signal came (time.monotonic); 0 before
_changed = False  # the new site is in place: an interruption after it changed something
_swallowed = 0  # the signal whose Interrupted a finaliser swallowed, to be raised again
AGAIN = 1.0  # seconds: a repeat within this is the same stop, one after it forces the exit


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
    if _TIMER:
        signal.signal(signal.SIGALRM, _raise_swallowed)
        sys.unraisablehook = _unraisable


def adopt() -> None:
    """In a forked child, from where it catches everything and exits: a signal raises
    here too, so that the child's own `finally` blocks run (a temporary file removed).
    The SIGTERM its parent stops it with does so even where `install` never ran (the
    package used as a library): its default action would kill it mid-write."""
    global _owner
    _owner = os.getpid()
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _raise)


def finished() -> None:
    """The program's work is done: a signal now changes nothing, and is ignored."""
    for signum in (*SIGNALS, *_TIMER):
        signal.signal(signum, signal.SIG_IGN)


def site_changed() -> None:
    """The new site has taken the old one's place (output.py): from here, an
    interruption no longer leaves everything as it was."""
    global _changed
    _changed = True


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold back the signals that stop the program while a few steps that must not be
    cut apart run (renames, a file written and renamed): they arrive right after."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not (
        threading.main_thread()
    ):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, set(SIGNALS))
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _raise(signum: int, frame: FrameType | None) -> None:
    global _first
    if os.getpid() != _owner:
        os._exit(128 + signum)  # a child not yet in its own code: nothing of its to undo
    if _first:
        if time.monotonic() - _first < AGAIN:
            return  # the same stop twice (Ctrl-C reaches every process of the group)
        os.write(2, b"interrupted again: stopped at once\n")
        os._exit(128 + signum)
    _first = time.monotonic()
    raise Interrupted(signum)


def _unraisable(swallowed: sys.UnraisableHookArgs) -> None:
    """Where Python swallows an exception: an `Interrupted` is raised again later (raised
    here, in the hook, it would be swallowed too); anything else is printed as it was."""
    global _swallowed
    if isinstance(swallowed.exc_value, Interrupted) and os.getpid() == _owner:
        _swallowed = swallowed.exc_value.signum
        signal.setitimer(signal.ITIMER_REAL, 0.001)
        return
    sys.__unraisablehook__(swallowed)


def _raise_swallowed(_: int, frame: FrameType | None) -> None:
    global _first
    _first = 0.0  # not a second stop: the first, which was lost
    _raise(_swallowed, frame)


def report(stop: KeyboardInterrupt) -> int:
    """Say that the program stopped, and what it left; the exit code: 128 + the signal
    number."""
    if _changed:
        print(
            "interrupted after the new site was in place; its cache may be incomplete, "
            "and the next build redoes that work",
            file=sys.stderr,
        )
    else:
        print("interrupted: nothing was changed", file=sys.stderr)
    return 128 + getattr(stop, "signum", signal.SIGINT)
