"""The input files of a build and their stat: what tells a build that nothing changed.

Kept apart from `load.py`, so that a build can look at its files before it imports any
parser (at 10,000 files, in a child process while it imports them: `builder._build`).
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from time import time_ns  # this machine's clock: a test sets it

TEMPLATES = "templates"  # Jinja templates, and static/ with the CSS, JS and icon
SCHEMAS = "schema"  # JSON Schemas for editors' tools, published under schema/
REGISTRY = ("content", "claims")  # what every command reads
BUILT_FROM = (*REGISTRY, TEMPLATES, SCHEMAS)  # what a build reads: the preview watches it
FRAME = tuple(f for f in BUILT_FROM if f != "claims")  # what a build reads outside claims/
# In a build's record of its inputs, in place of a file's stat: what no look at the files
# gives, so the next build finds its inputs changed, whatever they are
UNSETTLED = ":unsettled"


def rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


# A file's identity for caches: (mtime, ctime, size, inode). Any write changes one of them,
# but for a file whose times are too recent to vouch for it (see `scan_inputs`): its key
# has a fifth number, a mark of the look that found it.
StatKey = tuple[int, ...]


def is_claim_file(path: str) -> bool:
    """A path from the root that is read as a claim file: claims/*.yaml (any other file
    under claims/ is said to be misnamed)."""
    return path[:7] == "claims/" and path[-5:] == ".yaml" and "/" not in path[7:]


def stat_key(info: os.stat_result) -> StatKey:
    return (info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino)


# In place of a folder's stat (its times change with every file saved in it): a folder is
# listed, so that one named like a claim is an error, not a claim silently missing
FOLDER: StatKey = (-1, -1, 0, -1)


# A file system that keeps times in whole seconds (FAT's 2 s, ext3's and HFS+'s 1 s) gives
# a file written again within the second of a look, with the same size, the stat it had:
# git's "racily clean" files. Such a file, stamped less than this before the look, is read
# again by the next run, which compares its bytes instead of trusting its stat. Finer
# times are trusted: their tick (at most 10 ms on Linux) is over long before a build reads
# what its look found changed.
COARSE_RECENT_NS = 3 * 10**9


def scan_inputs(root: Path, folders: tuple[str, ...] = REGISTRY) -> dict[str, StatKey]:
    """The stat of every file under `folders`, by path from the root: one pass of
    os.scandir and stat, which is all a build that finds nothing changed needs to read.
    Every entry is listed, so that loading can say what is wrong with it: pipes and
    devices, links to nothing or in a loop (by their own stat), and folders (`FOLDER`).
    A file stamped in whole seconds, and recently, gets a mark of this look, which no
    other look gives (see COARSE_RECENT_NS)."""
    recent = time_ns() - COARSE_RECENT_NS
    mark = int.from_bytes(os.urandom(8), "big")
    found: dict[str, StatKey] = {}
    inside: list[str] = []
    for name in folders:
        for path, entry in files_under(root / name, f"{name}/", True, inside):
            try:
                key = stat_key(entry.stat())
            except OSError:
                try:
                    key = stat_key(entry.stat(follow_symlinks=False))
                except OSError:  # removed while we looked
                    continue
            if key[0] > recent and key[0] % 10**9 == 0:
                key = (*key, mark)
            found[path] = key
    found.update(dict.fromkeys(inside, FOLDER))
    return found


def unmarked(key: StatKey) -> StatKey:
    """A key as the file's stat gives it, without the mark of a look (see `scan_inputs`)."""
    return key[:4]


def digest(data: bytes) -> bytes:
    """The digest by which caches and the build's record know a file's bytes."""
    return hashlib.blake2b(data, digest_size=16).digest()


def read_regular(path: str, size: int, whole: bool = True) -> bytes:
    """A file's bytes, `size` being what its stat said; with `whole` false, `size` is a
    limit and at most one byte more is read (enough for `decode` to refuse the file).
    os.open and os.read take half the time of open() and read(), which make a buffered
    file object for each file (8 us of the 15 a claim file took to read). Only a regular
    file is read: a pipe waited for a writer forever, and /dev/zero filled the memory."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a pipe opens at once
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise OSError(errno.EISDIR, os.strerror(errno.EISDIR))
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, "it is not a regular file (a pipe, socket or device)")
        data = os.read(fd, size + 1)  # a short read of a regular file is its end
        if len(data) <= size or not whole:
            return data
        parts = [data]  # it grew since its stat: read on to the end
        while parts[-1]:
            parts.append(os.read(fd, 1 << 20))
        return b"".join(parts)
    finally:
        os.close(fd)


DIGEST_LIMIT = 64 << 20  # bytes: past this, a file is not read to be compared


def file_digest(path: Path | str) -> bytes | None:
    """The digest of a regular file's bytes; None when it cannot be read, or is not a
    regular file, or is larger than any input should be. None never matches a digest:
    the file counts as changed, and the build reports what is wrong with it."""
    try:
        size = os.stat(path).st_size
        if size > DIGEST_LIMIT:
            return None
        data = read_regular(str(path), size)
    except OSError:
        return None
    return digest(data) if len(data) <= DIGEST_LIMIT else None  # it may have grown


def same_bytes(
    root: Path,
    inputs: Mapping[str, StatKey],
    built: Mapping[str, StatKey],
    digests: Mapping[str, bytes],
) -> bool:
    """Whether `inputs` differ from those of a build (`built`, with the `digests` of the
    bytes it read) in their stat only: the same files, code and commit, and every file
    whose stat changed holds the bytes that build read (a checkout and back, `git
    stash`, a save with no change). The first file found changed ends the look: an edit
    costs one file read."""
    if inputs.keys() != built.keys():
        return False
    for path, key in inputs.items():
        if built[path] != key:
            known = digests.get(path)  # none for ":code" and the like: they changed
            if known is None or file_digest(root / path) != known:
                return False
    return True


def read_as_scanned(
    root: Path,
    frame: Mapping[str, StatKey],
    built: Mapping[str, StatKey],
    digests: Mapping[str, bytes],
) -> dict[str, bytes] | None:
    """The digests of the input files outside claims/ (`frame`: their stat at the start
    of a build), taken when that build is done; None if any of them was added, removed or
    written since the start (a checkout while it ran): the build may then have read what
    none of its records describes. Where a file's stat is that of the last build
    (`built`), its digest then (`digests`) is not read again."""
    frame = {path: key for path, key in frame.items() if not path.startswith(":")}
    found = {}
    for path, key in frame.items():
        # a folder is listed, not read; a file too recent to vouch for has no digest, so
        # that the next build reads it again rather than trust one taken after it was read
        if key == FOLDER or key != unmarked(key):
            continue
        known = digests.get(path) if built.get(path) == key else None
        if known is None:
            known = file_digest(root / path)
        if known is not None:
            found[path] = known
    # looked at after the digests: the same files with the same stats (every write changes
    # the ctime) mean that no file was written before or while they were taken
    if _unmarked_all(scan_inputs(root, FRAME)) != _unmarked_all(frame):
        return None
    return found


def _unmarked_all(keys: Mapping[str, StatKey]) -> dict[str, StatKey]:
    """Two looks' stats, comparable: a mark tells the look apart, not the file."""
    return {path: unmarked(key) for path, key in keys.items()}


def files_under(
    folder: Path, prefix: str = "", follow_symlinks: bool = False, folders: list[str] | None = None
) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """Every entry under `folder` that is not a folder, with its path (`prefix` + its
    path below `folder`, forward slashes): os.scandir, whose entries carry their type and
    inode without a stat call; the folders' paths are added to `folders`, if given. A
    folder that cannot be read, or is gone, has no entries. Following links, a folder
    reached again (`ln -s . claims/a`) is not walked again: two such links made the walk
    exponential; a link that cannot be followed (a loop) is an entry, not a folder."""
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
                is_dir = entry.is_dir(follow_symlinks=follow_symlinks)
            except OSError:  # a link in a loop, or removed while we looked
                is_dir = False
            if is_dir:
                stack.append((f"{base}{entry.name}/", entry.path))
                if folders is not None:
                    folders.append(base + entry.name)
                continue
            yield base + entry.name, entry
