"""Benchmark: the preview (`serve`) on a large registry, as an editor meets it.

    python bench/serve.py [--claims 10000] [--idle 10] [--edits 5] [--peer DIR]

Starts `python build.py serve` on the registry bench/run.py generates (bench/out/reg-N),
then measures
- how busy an idle preview keeps the machine: its CPU time over --idle seconds;
- from saving an edit of one claim to the preview printing "built:" (median of --edits),
  in three parts: until it prints "changed:" (the wait for the watcher to report the
  change), from then until "built:", and the build's own time as the preview reports it;
- from "built:" to an open page learning of the build, as its reload.js asks: every
  0.5 s until round 12, then held by the server until a build ends (`?since=`).

--peer DIR measures another checkout of this repository the same way in the same run,
first, and prints the ratios: `git worktree add /tmp/peer 031ef81` gives the preview of
round 11, which looked at the stat of every input every 0.5 s (or five times as long as
a look took) instead of being told of changes.
"""

from __future__ import annotations

import argparse
import json
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
import urllib.request
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import PYTHON, REPO, edit, edited_claim, registry, restore, set_aside  # noqa: E402


@dataclass(frozen=True)
class Measured:
    idle: float  # share of a core an idle preview used
    total: float  # medians over the edits, in seconds: from saving to "built:"
    seen: float  # from saving to "changed:"
    rest: float  # from "changed:" to "built:"
    build: float  # the build's own time, as the preview reports it
    page: float  # from "built:" to an open page learning of it


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:  # utime and stime, after the command's name
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=120) as response:
        text: str = response.read().decode("utf-8")
        return text


def follow(url: str, told: dict[int, float], stop: threading.Event) -> None:
    """An open page of the preview: asks whether a build has ended as its reload.js does,
    held (`?since=`) where the script asks so, else every 0.5 s; notes when it learns of
    each build, by the build's counter."""
    held = "since=" in get(url + "__serve/reload.js")
    generation = json.loads(get(url + "__reload"))["generation"]
    while not stop.is_set():
        try:
            if held:
                status = json.loads(get(f"{url}__reload?since={generation}"))
            else:
                time.sleep(0.5)
                status = json.loads(get(url + "__reload"))
        except OSError:  # the preview stopped
            return
        if status["generation"] != generation:
            generation = status["generation"]
            told[generation] = time.perf_counter()


def measure(tree: Path, root: Path, edited: Path, args: argparse.Namespace) -> Measured:
    """One checkout's preview of `root`: idle, then --edits edits of one claim."""
    print(f"{tree}:")
    scratch = Path(tempfile.mkdtemp(prefix="bench-serve-", dir=args.work))
    env = {**os.environ, "XDG_CACHE_HOME": str(scratch / "cache")}
    command = [PYTHON, str(tree / "build.py"), "--root", str(root), "serve", "--port", "0",
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
    told: dict[int, float] = {}
    stop = threading.Event()
    try:
        _, serving = wait_for("^serving ")
        url = serving.split()[1]
        threading.Thread(target=follow, args=(url, told, stop), daemon=True).start()
        time.sleep(2)  # settled, before idling is measured
        before = cpu_seconds(process.pid)
        time.sleep(args.idle)
        idle = (cpu_seconds(process.pid) - before) / args.idle
        print(f"  idle preview: {100 * idle:.0f}% of a core over {args.idle:.0f} s")
        totals, seen, rest, builds, pages = [], [], [], [], []
        for turn in range(args.edits):
            time.sleep(1.5)  # idle again before each edit
            saved = time.perf_counter()
            edit(edited, turn)
            noticed, _ = wait_for(r"^changed: ")
            at, line = wait_for(r"\] (built|not rebuilt):")
            reported = re.search(r" in ([0-9.]+) s$", line.strip())
            totals.append(at - saved)
            seen.append(noticed - saved)
            rest.append(at - noticed)
            builds.append(float(reported.group(1)) if reported else float("nan"))
            deadline = time.perf_counter() + 60
            while turn + 2 not in told and time.perf_counter() < deadline:  # 1: the first
                time.sleep(0.01)
            # the page's answer goes out before the preview prints its line: 0 then
            learnt = told.get(turn + 2)
            pages.append(max(0.0, learnt - at) if learnt is not None else float("nan"))
            print(f"  edit {turn + 1}: {totals[-1]:.2f} s = seen after {seen[-1]:.2f} s, "
                  f"built {rest[-1]:.2f} s later (the build {builds[-1]:.2f} s); "
                  f"the page told {pages[-1]:.2f} s after")  # fmt: skip
    finally:
        stop.set()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        restore(edited)
        set_aside(scratch)  # deleted by the next bench/run.py, at its end (see there)
    median = statistics.median
    found = Measured(
        idle, median(totals), median(seen), median(rest), median(builds), median(pages)
    )
    print(f"  edit to built: median {found.total:.2f} s; seen after {found.seen:.2f} s, "
          f"built {found.rest:.2f} s later, the build {found.build:.2f} s; the page told "
          f"{found.page:.2f} s after")  # fmt: skip
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle measured")
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--peer", type=Path, help="another checkout, measured first")
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "out")
    args = parser.parse_args()
    root = registry(args.work, args.claims)
    edited = edited_claim(root, args.claims)  # found before timing: 0.5 s at 100,000
    restore(edited)
    print(f"{args.claims:,} claims")
    peer = measure(args.peer.resolve(), root, edited, args) if args.peer else None
    this = measure(REPO, root, edited, args)
    if peer is not None:
        print(f"this / peer: edit to built {this.total / peer.total:.2f}, seen after "
              f"{this.seen / peer.seen:.2f}, the build {this.build / peer.build:.2f}; the "
              f"page told {this.page:.2f} s after built against {peer.page:.2f} s; idle "
              f"CPU {100 * this.idle:.0f}% against {100 * peer.idle:.0f}%")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
