"""The input files of a build and their stat: what tells a build that nothing changed.

Kept apart from `load.py` so that a build that finds nothing to do reads no YAML and
imports no parser.
"""

from __future__ import annotations

import os
from pathlib import Path


def rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


# A file's identity for caches: (mtime, ctime, size, inode). Any write changes one of them.
StatKey = tuple[int, ...]


def stat_key(info: os.stat_result) -> StatKey:
    return (info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino)


def scan_inputs(root: Path, folders: tuple[str, ...] = ()) -> dict[str, StatKey]:
    """The stat of every input file (and of every file under `folders`), by path from the
    root: one pass of os.scandir and stat, which is all a build that finds nothing
    changed needs to read."""
    found: dict[str, StatKey] = {}
    places = [("content/", root / "content"), ("claims/", root / "claims")]
    places += [(f"{name}/", root / name) for name in folders]
    while places:
        prefix, folder = places.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            name = prefix + entry.name
            try:
                if entry.is_dir():
                    places.append((name + "/", Path(entry.path)))
                elif entry.is_file():
                    found[name] = stat_key(entry.stat())
            except OSError:  # removed while we looked
                continue
    return found
