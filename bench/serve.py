"""Benchmark: the preview (`serve`) on a large registry, as an editor meets it.

    python bench/serve.py [--claims 10000] [--idle 10] [--edits 5]

Starts `python build.py serve` on the registry bench/run.py generates (bench/out/reg-N),
then measures
- how busy an idle preview keeps the machine: its CPU time over --idle seconds;
- one look at the inputs (serve.snapshot, in this process), against a walk with
  pathlib's rglob and a stat per file as the preview made before, in the same run;
- from saving an edit of one claim to the preview printing "built:" (median of --edits),
  in three parts: until it prints "changed:" (the wait for its next look, the look, the
  0.1 s let for the editor to finish and a second look), from then until "built:", and
  the build's own time as the preview reports it.
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from run import PYTHON, REPO, edit, registry, restore, set_aside  # noqa: E402

from naltrexone_site.serve import WATCHED, snapshot  # noqa: E402


def rglob_walk(root: Path) -> dict[str, tuple[int, int]]:
    """The preview's look before: pathlib's rglob and a stat per file (the peer)."""
    found = {}
    for folder in WATCHED:
        for path in sorted((root / folder).rglob("*")):
            stat = path.stat()
            if path.is_file():
                found[path.relative_to(root).as_posix()] = (stat.st_mtime_ns, stat.st_size)
    return found


def median_time(func: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:  # utime and stime, after the command's name
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle measured")
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "out")
    args = parser.parse_args()
    root = registry(args.work, args.claims)
    restore(root, args.claims)
    look, walk = median_time(lambda: snapshot(root)), median_time(lambda: rglob_walk(root))
    print(f"{args.claims:,} claims: one look {look:.3f} s (pathlib walk {walk:.3f} s, "
          f"{walk / look:.1f}x)")  # fmt: skip

    scratch = Path(tempfile.mkdtemp(prefix="bench-serve-", dir=args.work))
    env = {**os.environ, "XDG_CACHE_HOME": str(scratch / "cache")}
    command = [PYTHON, str(REPO / "build.py"), "--root", str(root), "serve", "--port", "0",
               "--out", str(scratch / "site")]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    lines: queue.Queue[tuple[float, str]] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put((time.perf_counter(), line))

    def wait_for(pattern: str) -> tuple[float, str]:
        while True:
            at, line = lines.get(timeout=600)
            if re.search(pattern, line):
                return at, line

    threading.Thread(target=read, daemon=True).start()
    try:
        wait_for("^serving ")
        time.sleep(2)  # the first looks, before idling is measured
        before = cpu_seconds(process.pid)
        time.sleep(args.idle)
        busy = (cpu_seconds(process.pid) - before) / args.idle
        print(f"idle preview: {100 * busy:.0f}% of a core over {args.idle:.0f} s")
        totals, seen, rest, builds = [], [], [], []
        for turn in range(args.edits):
            time.sleep(1.5)  # idle again, so the edit lands anywhere between two looks
            saved = time.perf_counter()
            edit(root, args.claims, turn)
            noticed, _ = wait_for(r"^changed: ")
            at, line = wait_for(r"\] (built|not rebuilt):")
            reported = re.search(r" in ([0-9.]+) s$", line.strip())
            totals.append(at - saved)
            seen.append(noticed - saved)
            rest.append(at - noticed)
            builds.append(float(reported.group(1)) if reported else float("nan"))
            print(f"  edit {turn + 1}: {totals[-1]:.2f} s = seen after {seen[-1]:.2f} s, "
                  f"built {rest[-1]:.2f} s later (the build {builds[-1]:.2f} s)")  # fmt: skip
        print(f"edit to built: median {statistics.median(totals):.2f} s; seen after "
              f"{statistics.median(seen):.2f} s, built {statistics.median(rest):.2f} s "
              f"later, the build {statistics.median(builds):.2f} s")  # fmt: skip
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        restore(root, args.claims)
        set_aside(scratch)  # deleted by the next bench/run.py, at its end (see there)
    return 0


if __name__ == "__main__":
    sys.exit(main())
