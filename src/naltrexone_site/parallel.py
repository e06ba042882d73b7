"""Work split across cores by forking: the children inherit everything computed so far
(the registry, the analysis, the templates) without copying or pickling it. The work
comes in pieces: each process does a run of them of its own, then the pieces left in
the others' runs, so no core idles while work is left; the results come back in the
order of the pieces, so the outcome does not depend on which process made what.

Used for what is costly and independent per item (parsing claim files, anchoring,
rendering and writing pages); small jobs run in this process, where starting children
would cost more than it saves. Results come back pickled through a pipe, unpickled as
they arrive. A child that fails reports only that it failed: the caller redoes the
work here, so an error surfaces as the same exception, with the same traceback, as
without children.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Generic, TypeVar

from . import interrupt

T = TypeVar("T")
R = TypeVar("R")

MAX_WORKERS = 4


def workers() -> int:
    """How many processes to use: the cores this process may run on, at most four."""
    if not hasattr(os, "fork") or sys.platform == "win32":
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


class ShareFailed(Exception):
    """A child process could not do its shares (the caller redoes them to see why)."""

    def __init__(self, index: int) -> None:
        super().__init__(f"child process {index} failed at its shares")


def split(weights: Sequence[int], parts: int) -> list[range]:
    """Contiguous ranges of about equal total weight, at most `parts` of them."""
    total = sum(weights)
    if parts <= 1 or not weights:
        return [range(len(weights))]
    ranges: list[range] = []
    start, acc = 0, 0
    for i, w in enumerate(weights):
        acc += w
        if len(ranges) < parts - 1 and acc * parts >= total * (len(ranges) + 1):
            ranges.append(range(start, i + 1))
            start = i + 1
    ranges.append(range(start, len(weights)))
    return [r for r in ranges if len(r)]


# Work is handed out in this many pieces per process: a process whose own pieces are
# done takes the next of another's, so the last to finish waits for one small piece at
# most, whatever the pieces cost and however busy each core is (this machine's cores
# are shared). Each process starts on a run of consecutive pieces of its own: a forked
# child copies each page of memory that it writes to (reference counts included), and
# pieces handed out in turn made both processes copy most of the pages (0.1 to 0.2 s
# more CPU time at 10,000 claims).
PIECES_PER_PROCESS = 64
MAX_PIECES = 1024  # their numbers, two bytes each, must fit in a pipe's buffer at once


def pieces(weights: Sequence[int], processes: int) -> list[range]:
    """Contiguous ranges of about equal weight, for `fork_map` over `processes`."""
    return split(weights, min(processes * PIECES_PER_PROCESS, MAX_PIECES) if processes > 1 else 1)


def fork_pieces(
    func: Callable[[Sequence[T]], list[R]],
    items: Sequence[T],
    weights: Sequence[int],
    processes: int,
) -> list[R]:
    """`func` over `items` cut into `pieces` by their weights, across `processes`
    processes (see `fork_map`): the lists it returns, joined in the order of the items."""
    cut = [items[r.start : r.stop] for r in pieces(weights, processes)]
    return [result for part in fork_map(func, cut, processes) for result in part]


def fork_map(func: Callable[[T], R], shares: Sequence[T], processes: int) -> list[R]:
    """[func(share) for share in shares] across `processes` processes: this one and
    children forked here. Each process has a run of consecutive shares to do in order,
    and when its run is done, takes the next shares of the others' runs; the results
    come in the order of the shares, whichever process made them."""
    count = min(processes, len(shares))
    if count <= 1:
        return [func(share) for share in shares]
    if len(shares) > MAX_PIECES:
        raise ValueError(f"{len(shares)} shares: at most {MAX_PIECES}")
    queues: list[int] = []  # each process's run of shares, as numbers in a pipe
    # (pid, read end of its pipe): -1 once the pipe is handed to `_received`, which
    # closes it however it ends; a pid of 0 once the child is reaped
    children: list[tuple[int, int]] = []
    try:
        for run in split([1] * len(shares), count):
            queues.append(_queue(run))
        for index in range(1, count):
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: take shares until none is left, send the results
                os.close(read)
                _child(partial(_take, func, shares), queues[index:] + queues[:index], write)
            os.close(write)
            children.append((pid, read))
        done = _take(func, shares, queues)
        for index, (pid, read) in enumerate(children, start=1):
            children[index - 1] = (pid, -1)
            found = _received(read)
            _, status = os.waitpid(pid, 0)
            children[index - 1] = (0, -1)
            if status != 0 or found is None:
                raise ShareFailed(index)
            done.update(found[0])
        return [done[i] for i in range(len(shares))]
    except BaseException:
        for pid, read in children:
            if pid:
                _stop(pid, read)
        raise
    finally:
        for queue in queues:
            os.close(queue)


def _queue(numbers: range) -> int:
    """A pipe holding `numbers`, two bytes each, to be read from its returned end."""
    read, write = os.pipe()
    try:
        data = b"".join(i.to_bytes(2, "little") for i in numbers)
        if os.write(write, data) != len(data):
            raise OSError("the pipe took only part of the shares' numbers")
    except BaseException:
        os.close(read)
        raise
    finally:
        os.close(write)
    return read


def _take(func: Callable[[T], R], shares: Sequence[T], queues: Sequence[int]) -> dict[int, R]:
    """Take shares off the queues, in order, until all are empty. A read of two bytes
    from a pipe holding an even number of them takes exactly one number, whoever else
    reads: a process whose run is done takes the next shares of another's run."""
    done: dict[int, R] = {}
    for queue in queues:
        while number := os.read(queue, 2):
            index = int.from_bytes(number, "little")
            done[index] = func(shares[index])
    return done


def _stop(pid: int, read: int) -> None:
    """Stop a child whose result is no longer wanted, and reap it; close the read end
    of its pipe unless it is -1 (closed already)."""
    if read != -1:
        os.close(read)
    try:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
    except (ChildProcessError, ProcessLookupError):
        pass


def _child(func: Callable[[T], R], share: T, write: int) -> None:
    code = 1
    try:
        interrupt.adopt()  # a signal now stops this child's own work (see interrupt.py)
        result = func(share)
        # Pickled into the pipe as it goes, and unpickled from it as it comes: the two
        # overlap (5,000 parsed claims: 3.3 MB, 0.05 s to pickle and as long to unpickle).
        with os.fdopen(write, "wb") as pipe:
            pickle.dump(result, pipe, protocol=pickle.HIGHEST_PROTOCOL)
        code = 0
    except BaseException:  # reported by the exit code; the parent redoes the share
        code = 1
    finally:
        os._exit(code)


def _received(read: int) -> tuple[Any] | None:
    """(the result,) a child sent down its pipe, or None where it sent none whole (it
    failed: its exit code says so too)."""
    with os.fdopen(read, "rb") as pipe:
        try:
            return (pickle.load(pipe),)
        except Exception:  # nothing, or cut short: EOFError, UnpicklingError and others
            return None


class Beside(Generic[R]):
    """`func()` worked out in a child process while this one goes on, for `result()`
    later: a search that needs only what is loaded, run beside the stages that do not
    need it. With one core (or `enabled` false) it is worked out here, when asked for.
    Leaving the `with` block without asking stops the child."""

    def __init__(self, func: Callable[[], R], enabled: bool = True) -> None:
        self._func = func
        self._child: tuple[int, int] | None = None  # (pid, read end of its pipe)
        if enabled and workers() > 1:
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read)
                _child(lambda _: func(), None, write)
            os.close(write)
            self._child = (pid, read)

    def result(self) -> R:
        if self._child is None:
            return self._func()
        pid, read = self._child
        self._child = (pid, -1)  # `_received` closes the pipe; stopped if interrupted
        found = _received(read)
        _, status = os.waitpid(pid, 0)
        self._child = None
        if status != 0 or found is None:
            return self._func()  # see the failure here, as it is
        result: R = found[0]
        return result

    def __enter__(self) -> Beside[R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()  # never asked for: an error or an interruption

    def stop(self) -> None:
        """Stop the child, if it was not asked for its result."""
        if self._child is not None:
            pid, read = self._child
            self._child = None
            _stop(pid, read)
