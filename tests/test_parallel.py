"""Work beside the build in a child process (parallel.Beside): the result comes from the
child, a failed child's share is redone here, and an abandoned child is stopped."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from conftest import Forks, wait_for

from naltrexone_site import parallel

needs_cores = pytest.mark.skipif(parallel.workers() < 2, reason="needs two cores and fork")


@needs_cores
def test_the_result_is_worked_out_in_a_child_process() -> None:
    here = os.getpid()
    with parallel.Beside(lambda: (os.getpid(), [1, 2, 3])) as beside:
        pid, value = beside.result()
    assert pid != here
    assert value == [1, 2, 3]


@needs_cores
def test_a_failing_child_is_redone_here_where_its_error_shows() -> None:
    here = os.getpid()

    def work() -> str:
        if os.getpid() != here:
            raise RuntimeError("only in the child")
        return "done here"

    with parallel.Beside(work) as beside:
        assert beside.result() == "done here"

    def broken() -> str:
        raise ValueError("wrong in any process")

    with parallel.Beside(broken) as beside, pytest.raises(ValueError, match="any process"):
        beside.result()


@needs_cores
def test_a_large_result_comes_whole_through_the_pipe() -> None:
    """Results are pickled into the pipe as they are made and unpickled as they come:
    many times the pipe's buffer arrives whole, from fork_map's children too."""
    big = [(str(i) * 5, i, b"x" * (i % 50)) for i in range(200_000)]  # about 8 MB pickled
    with parallel.Beside(lambda: (os.getpid(), big)) as beside:
        pid, value = beside.result()
    assert pid != os.getpid() and value == big
    shares = [big[:1000], big[1000:]]
    assert parallel.fork_map(lambda share: share, shares, 2) == shares


class _CutShort:
    """Pickles in the parent, where the test runs; raises in a child halfway through a
    result, after megabytes of it went down the pipe."""

    def __init__(self, parent: int) -> None:
        self.parent = parent

    def __reduce__(self) -> tuple[object, ...]:
        if os.getpid() != self.parent:
            raise RuntimeError("cannot be sent")
        return (_CutShort, (self.parent,))


@needs_cores
def test_a_result_cut_short_counts_as_a_failed_child() -> None:
    here = os.getpid()
    half = [f"{i:0100d}" for i in range(50_000)]  # 5 MB before what cannot be pickled

    def work() -> list[object]:
        return [*half, _CutShort(here)] if os.getpid() != here else ["done here"]

    with parallel.Beside(work) as beside:
        assert beside.result() == ["done here"]
    hold, release = os.pipe()  # share 0 waits for share 1: each process takes one

    def share(number: int) -> list[object]:
        if number == 0:
            os.read(hold, 1)
        else:
            os.write(release, b"x")
        return work()

    with pytest.raises(parallel.ShareFailed, match="child process 1 failed"):
        parallel.fork_map(share, [0, 1], 2)
    os.close(hold)
    os.close(release)


@needs_cores
def test_each_process_does_its_own_run_then_takes_from_the_others() -> None:
    """Two processes, ten shares: this one's run is 0-4, the child's 5-9. Share 0 holds
    this process until share 4 is done, so the child does its own run in order, then
    takes 1-4 from this one's; the results keep the order of the shares. (Share 5 waits
    until share 0 is taken: on a busy machine the child could otherwise take it first.)"""
    hold, release = os.pipe()
    taken, started = os.pipe()
    order: list[int] = []  # each process's own list: the order it did its shares in

    def work(share: int) -> tuple[int, int, int]:
        order.append(share)
        if share == 0:
            os.write(started, b"x")
            os.read(hold, 1)  # until the child has done every other share
        elif share == 4:
            os.write(release, b"x")
        elif share == 5:
            os.read(taken, 1)
        return share, os.getpid(), len(order)

    try:
        results = parallel.fork_map(work, list(range(10)), 2)
    finally:
        for end in (hold, release, taken, started):
            os.close(end)
    assert [share for share, _, _ in results] == list(range(10))
    assert [pid == os.getpid() for _, pid, _ in results] == [True] + [False] * 9
    child = sorted(results[1:], key=lambda r: r[2])  # by the order the child did them
    assert [share for share, _, _ in child] == [5, 6, 7, 8, 9, 1, 2, 3, 4]


def test_pieces_cover_the_work_in_order() -> None:
    weights = [3, 1, 4, 1, 5, 9, 2, 6] * 100
    found = parallel.pieces(weights, 2)
    assert len(found) == 2 * parallel.PIECES_PER_PROCESS
    assert [i for r in found for i in r] == list(range(len(weights)))
    assert parallel.pieces(weights, 1) == [range(len(weights))]
    assert len(parallel.pieces([1] * 5000, 200)) == parallel.MAX_PIECES


@needs_cores
def test_fork_pieces_joins_each_pieces_results_in_the_order_of_the_items() -> None:
    items = list(range(1000))
    weights = [1 + i % 7 for i in items]

    def work(piece: Sequence[int]) -> list[tuple[int, int]]:
        time.sleep(0.002)  # long enough that the child starts before this one is done
        return [(i, os.getpid()) for i in piece]

    found = parallel.fork_pieces(work, items, weights, 2)
    assert [i for i, _ in found] == items
    assert len({pid for _, pid in found}) == 2  # both processes took pieces
    assert parallel.fork_pieces(work, items, weights, 1) == [(i, os.getpid()) for i in items]


@needs_cores
def test_leaving_without_the_result_stops_the_child() -> None:
    here = os.getpid()

    def slow() -> int:
        if os.getpid() != here:
            time.sleep(60)
        return 1

    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt), parallel.Beside(slow) as beside:
        child = beside._child
        assert child is not None
        pid = child[0]
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C during the build
    assert time.perf_counter() - started < 10
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # stopped and reaped


class _Alarm(KeyboardInterrupt):
    """What a stop signal raises in the program (interrupt.Interrupted is one too)."""


@pytest.fixture
def alarm() -> Iterator[None]:
    """SIGALRM raises `_Alarm` here, as SIGTERM or Ctrl-C raise in the program."""

    def stop(signum: int, frame: object) -> None:
        raise _Alarm(signum)

    before = signal.signal(signal.SIGALRM, stop)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)


@pytest.fixture
def forked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The children forked in the test, to see that each was reaped (others, such as the
    browser tests' server, may run beside the tests)."""
    return Forks(monkeypatch).pids


def _reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True  # not a child of this process any more: reaped
    return False


@needs_cores
def test_a_stop_while_waiting_for_a_child_stops_it_and_is_the_stop(
    alarm: None, forked: list[int]
) -> None:
    """A signal while `fork_map` waits for a child's result is the stop it is: not an
    error closing that child's pipe twice ("Bad file descriptor"), nor a child left."""
    here = os.getpid()

    def work(share: int) -> int:
        if os.getpid() != here:
            time.sleep(60)  # the child's first share: it is still at it when the stop comes
        else:
            time.sleep(0.2)  # time for the child to take the first share of its run
        return share

    signal.setitimer(signal.ITIMER_REAL, 1.0)
    started = time.perf_counter()
    with pytest.raises(_Alarm):
        parallel.fork_map(work, [0, 1, 2, 3], 2)
    assert time.perf_counter() - started < 10
    assert len(forked) == 1 and _reaped(forked[0])


@needs_cores
def test_a_stop_while_waiting_for_the_result_beside_stops_the_child(
    alarm: None, forked: list[int]
) -> None:
    here = os.getpid()

    def slow() -> int:
        if os.getpid() != here:
            time.sleep(60)
        return 1

    signal.setitimer(signal.ITIMER_REAL, 0.5)
    with pytest.raises(_Alarm), parallel.Beside(slow) as beside:
        beside.result()
    assert len(forked) == 1 and _reaped(forked[0])


@needs_cores
def test_a_child_stopped_unwinds_where_the_program_installed_no_handler(
    tmp_path: Path, forked: list[int]
) -> None:
    """The package used as a library, as by the tests: no `interrupt.install`, so SIGTERM
    has its default action, which would kill a child mid-write (a cache entry's `.tmp`
    left). The SIGTERM that stops an abandoned child runs its cleanup all the same."""
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    started, cleaned = tmp_path / "started", tmp_path / "cleaned"

    def writing() -> int:
        try:
            started.touch()
            time.sleep(60)
        finally:
            cleaned.touch()  # where cache.save removes its part
        return 1

    with pytest.raises(KeyboardInterrupt), parallel.Beside(writing):
        wait_for(started.exists, "the child to start")
        raise KeyboardInterrupt
    assert len(forked) == 1 and _reaped(forked[0])
    assert cleaned.exists()
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # this process's unchanged


def test_without_a_second_core_it_is_worked_out_here_when_asked() -> None:
    calls: list[int] = []

    def work() -> int:
        calls.append(os.getpid())
        return 7

    with parallel.Beside(work, enabled=False) as beside:
        assert calls == []  # nothing yet
        assert beside.result() == 7
    assert calls == [os.getpid()]


@needs_cores
def test_a_costly_job_of_its_own_is_made_beside_a_few_pages(tmp_path: Path) -> None:
    """The downloads (a job marked `alone`) go to a child process even when there are too
    few pages to split: after a one-claim edit they are most of the work."""
    from naltrexone_site.jobs import FORK_COST, Job, produce
    from naltrexone_site.output import Staging

    def made_by(path: str) -> Iterator[tuple[str, bytes]]:
        yield path, str(os.getpid()).encode()

    page = Job(("page.html",), b"1", 10, lambda: made_by("page.html"))
    downloads = Job(("claims.json",), b"2", FORK_COST, lambda: made_by("claims.json"), alone=True)
    staging = Staging(tmp_path / "site")
    written = produce([page, downloads], staging, compare=False, prepare=lambda: None)
    assert sorted(written) == ["claims.json", "page.html"]
    assert (staging.folder / "page.html").read_bytes() == str(os.getpid()).encode()
    assert (staging.folder / "claims.json").read_bytes() != str(os.getpid()).encode()

    cheap = Job(("claims.json",), b"2", FORK_COST - 1, lambda: made_by("claims.json"), alone=True)
    staging = Staging(tmp_path / "small")
    produce([page, cheap], staging, compare=False, prepare=lambda: None)
    assert (staging.folder / "claims.json").read_bytes() == str(os.getpid()).encode()
