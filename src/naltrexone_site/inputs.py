"""The input files of a build and their stat: what tells a build that nothing changed.

Kept apart from `load.py`, so that a build can look at its files before it imports any
parser (at 10,000 files, in a child process while it imports them: `builder._build`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

TEMPLATES = "templates"  # Jinja templates, and static/ with the CSS, JS and icon
SCHEMAS = "schema"  # JSON Schemas for editors' tools, published under schema/
REGISTRY = ("content", "claims")  # what every command reads
BUILT_FROM = (*REGISTRY, TEMPLATES, SCHEMAS)  # what a build reads: the preview watches it


def rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


# A file's identity for caches: (mtime, ctime, size, inode). Any write changes one of them.
StatKey = tuple[int, ...]


def stat_key(info: os.stat_result) -> StatKey:
    return (info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino)


def scan_inputs(root: Path, folders: tuple[str, ...] = REGISTRY) -> dict[str, StatKey]:
    """The stat of every file under `folders`, by path from the root: one pass of
    os.scandir and stat, which is all a build that finds nothing changed needs to read."""
    found: dict[str, StatKey] = {}
    for name in folders:
        for path, entry in files_under(root / name, f"{name}/", follow_symlinks=True):
            try:  # pipes and devices too: reading them is refused with a located error
                found[path] = stat_key(entry.stat())
            except OSError:  # removed while we looked, or a link to nothing
                continue
    return found


def files_under(
    folder: Path, prefix: str = "", follow_symlinks: bool = False
) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """Every entry under `folder` that is not a folder, with its path (`prefix` + its
    path below `folder`, forward slashes): os.scandir, whose entries carry their type and
    inode without a stat call. A folder that cannot be read, or is gone, has no entries.
    Following links, a folder reached again (`ln -s . claims/a`) is not walked again: two
    such links made the walk exponential."""
    stack = [(prefix, str(folder))]
    seen: set[tuple[int, int]] = set()
    while stack:
        base, path = stack.pop()
        try:
            if follow_symlinks:
                info = os.stat(path)
                if (info.st_dev, info.st_ino) in seen:
                    continue
                seen.add((info.st_dev, info.st_ino))
            entries = list(os.scandir(path))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=follow_symlinks):
                    stack.append((f"{base}{entry.name}/", entry.path))
                    continue
            except OSError:  # removed while we looked
                continue
            yield base + entry.name, entry
