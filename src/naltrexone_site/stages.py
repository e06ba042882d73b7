"""Seconds per stage of a build (load, anchor, check, analyse, render, write), for
`build --profile` and the benchmark. Wall time, this process's CPU time, and the CPU time
of the worker processes a stage started."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

ORDER = ("load", "anchor", "check", "analyse", "render", "write")


@dataclass
class Stages:
    wall: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # this process and its workers
    notes: dict[str, str] = field(default_factory=dict)  # what a stage did, in a few words
    memory: dict[str, float] = field(default_factory=dict)  # peak resident MB at its end

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), _cpu()
        try:
            yield
        finally:
            self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - wall
            self.cpu[name] = self.cpu.get(name, 0.0) + _cpu() - cpu
            self.memory[name] = _peak_mb()

    def note(self, name: str, text: str) -> None:
        self.notes[name] = text

    def lines(self) -> list[str]:
        names = [n for n in ORDER if n in self.wall] + [n for n in self.wall if n not in ORDER]
        rows = [
            f"  {name:<8} {self.wall[name]:6.2f} s wall {self.cpu[name]:6.2f} s cpu "
            f"{self.memory[name]:6.0f} MB peak"
            + (f"  {self.notes[name]}" if name in self.notes else "")
            for name in names
        ]
        total_wall, total_cpu = sum(self.wall.values()), sum(self.cpu.values())
        return ["stages:", *rows, f"  {'total':<8} {total_wall:6.2f} s wall {total_cpu:6.2f} s cpu"]


def _peak_mb() -> float:
    """The largest resident set so far of this process or any worker it waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, workers) / 1024  # Linux reports kilobytes


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system
