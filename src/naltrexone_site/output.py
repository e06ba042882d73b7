"""Writing the site atomically, and only what changed.

A new version of the site is written into a sibling temporary folder (`Staging`); only
when every file is written does it take the place of the output folder. When most of
the site is new, the folder as a whole replaces the old one: two renames, with the
signals that stop the program (interrupt.py) held back between them, and files that did
not change hard-linked from the old site rather than written again. When only a few
files changed (an edited claim), those files are moved into the old site one by one,
with the signals held back, and put back as they were if any move fails. Either way, an
error or an interruption before that point leaves the previous site as it was and
removes the temporary folder.
"""

from __future__ import annotations

import array
import contextlib
import errno
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .inputs import BUILT_FROM, files_under
from .interrupt import signals_held, site_changed


class OutputError(Exception):
    """The site cannot be written as asked; the message says why, in the user's words."""


def check_paths(paths: Iterable[str]) -> None:
    """Refuses two files at one path (ignoring case) and paths that escape the site.
    Plain string tests: a PurePosixPath per page cost 0.1 s at 10,000 pages."""
    folded: dict[str, str] = {}
    for path in paths:
        if not path or path[0] == "/" or "\\" in path or not _segments_ok(path.split("/")):
            raise OutputError(f"refusing to write '{path}': not a path inside the site")
        key = path.casefold()
        if key in folded:
            raise OutputError(f"two pages at one path: '{folded[key]}' and '{path}'")
        folded[key] = path


def _segments_ok(segments: list[str]) -> bool:
    return "" not in segments and "." not in segments and ".." not in segments


def collect(files: Iterable[tuple[str, bytes]]) -> dict[str, bytes]:
    """Files by path, checked with `check_paths`."""
    found = dict(files)
    pairs = list(files) if not isinstance(files, list) else files
    check_paths(path for path, _ in pairs) if len(pairs) != len(found) else check_paths(found)
    return found


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


@dataclass(frozen=True)
class Spliced:
    """A file made of new bytes and of spans (offset, length) of another: the current
    site's version of it, copied in the kernel (os.copy_file_range), never read in here."""

    source: Path
    pieces: tuple[bytes | tuple[int, int], ...]

    def write(self, fd: int) -> None:
        with self.source.open("rb") as handle:
            source = handle.fileno()
            for piece in self.pieces:
                if isinstance(piece, bytes):
                    _write_all(fd, piece)
                else:
                    _copy(source, fd, *piece)


def _write_all(fd: int, data: bytes | memoryview) -> None:
    written = os.write(fd, data) if data else 0
    while written < len(data):
        written += os.write(fd, data[written:])


def _copy(source: int, fd: int, offset: int, length: int) -> None:
    """`length` bytes of `source` from `offset`, at `fd`'s position."""
    copy_range = getattr(os, "copy_file_range", None)
    while length > 0:
        try:
            if copy_range is None:
                raise OSError(errno.ENOSYS, "no copy_file_range")
            done = copy_range(source, fd, length, offset)
        except OSError as exc:  # not here (another system, or file system): read and write
            if exc.errno not in (errno.ENOSYS, errno.EXDEV, errno.EINVAL, errno.EOPNOTSUPP):
                raise
            done = len(data := os.pread(source, min(length, 1 << 20), offset))
            _write_all(fd, data)
        if done == 0:
            raise OSError(errno.EIO, "the file to copy from is shorter than its layout")
        offset, length = offset + done, length - done


# A file's bytes, whole or as pieces to write one after another (maybe made as they are
# written: a download of 100,000 claims, 100 MB, is never held in memory whole), or
# spliced from the current site's version of it
Content = bytes | Iterable[bytes] | Spliced


def write_tree(folder: Path, files: Mapping[str, Content]) -> None:
    """Each file once, with os.open/os.write (a third cheaper than open() at 10,000 files),
    opened from its folder's descriptor: the kernel then looks up one name, not the whole
    path (on ext4 a fifth of the cost of making a claim page's file). O_EXCL: two paths
    that are one file on this file system are an error, not an overwrite."""
    folders: dict[str, int | None] = {}  # each folder's descriptor (None: open by path)
    base = str(folder)
    try:
        for path in sorted(files):
            parent, _, name = path.rpartition("/")
            if parent not in folders:
                folders[parent] = _folder(os.path.join(base, parent))
            at = folders[parent]
            try:
                if at is None:
                    fd = os.open(os.path.join(base, path), _CREATE, 0o666)
                else:
                    fd = os.open(name, _CREATE, 0o666, dir_fd=at)
            except FileExistsError:
                raise OutputError(f"two pages at one path on this file system: '{path}'") from None
            except OSError as exc:  # named in full, not as the name in its folder
                raise OSError(exc.errno, exc.strerror, os.path.join(base, path)) from None
            try:
                content = files[path]
                if isinstance(content, Spliced):
                    content.write(fd)
                else:
                    for data in (content,) if isinstance(content, bytes) else content:
                        _write_all(fd, data)
            finally:
                os.close(fd)
    finally:
        for at in folders.values():
            if at is not None:
                os.close(at)


def _folder(where: str) -> int | None:
    """Make the folder; its descriptor, where files can be opened relative to one."""
    os.makedirs(where, exist_ok=True)
    if os.open not in os.supports_dir_fd:
        return None
    return os.open(where, os.O_RDONLY | os.O_DIRECTORY)


class Staging:
    """A temporary folder next to `out` holding the new version of the site's files."""

    def __init__(self, out: Path) -> None:
        self.out = Path(os.path.abspath(out))  # `refuse_unsafe` passed it: builder.build
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.folder = Path(
            tempfile.mkdtemp(prefix=f"{self.out.name}.building-", dir=self.out.parent)
        )
        try:
            umask = os.umask(0)
            os.umask(umask)
            self.folder.chmod(0o777 & ~umask)
            _spread_subfolders(self.folder)
        except BaseException:  # a signal, even: the caller has no `discard` to call yet
            self.discard()
            raise

    def write(self, files: Mapping[str, Content]) -> None:
        write_tree(self.folder, files)  # looked up at call time: tests replace it

    def link(self, paths: Iterable[str]) -> None:
        """Unchanged files of the current site, hard-linked into the new one (copied where
        the file system has no hard links)."""
        out, folder = str(self.out), str(self.folder)
        made: set[str] = set()
        for path in paths:
            parent, _, _ = path.rpartition("/")
            if parent not in made:
                os.makedirs(os.path.join(folder, parent), exist_ok=True)
                made.add(parent)
            source, target = os.path.join(out, path), os.path.join(folder, path)
            try:
                os.link(source, target)
            except OSError:
                shutil.copy2(source, target)

    def replace_all(self) -> None:
        """The staging folder becomes `out`; the old site is removed."""
        _swap(self.folder, self.out)

    def patch(self, written: Iterable[str], removed: Iterable[str]) -> None:
        """Move the written files into `out` and delete the removed ones, all or nothing:
        if a step fails, the files already replaced are put back."""
        backup = self.folder / ".previous"
        done: list[tuple[str, bool]] = []  # (path, had an old version)
        made: list[Path] = []
        with signals_held():
            try:
                for path in written:
                    target = self.out / path
                    had = target.exists()
                    if had:
                        _keep(target, backup / path)
                    elif not target.parent.is_dir():
                        for parent in reversed(target.relative_to(self.out).parents[:-1]):
                            folder = self.out / parent
                            if not folder.is_dir():
                                folder.mkdir()
                                made.append(folder)
                    os.replace(self.folder / path, target)
                    done.append((path, had))
                for path in removed:
                    target = self.out / path
                    _keep(target, backup / path)
                    target.unlink()
                    done.append((path, True))
            except BaseException:
                for path, had in reversed(done):
                    if had:
                        os.replace(backup / path, self.out / path)
                    else:
                        (self.out / path).unlink(missing_ok=True)
                for folder in reversed(made):
                    with contextlib.suppress(OSError):
                        folder.rmdir()
                raise
            site_changed()
        for path in removed:  # folders left empty (a list that got shorter)
            parent = (self.out / path).parent
            while parent != self.out:
                with contextlib.suppress(OSError):
                    parent.rmdir()
                parent = parent.parent

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


_FS_IOC_GETFLAGS, _FS_IOC_SETFLAGS, _FS_TOPDIR_FL = 0x80086601, 0x40086602, 0x00020000


def _spread_subfolders(folder: Path) -> None:
    """Mark `folder` as the top of a hierarchy (`chattr +T`), so that ext4 places the
    folders made in it, and so their files, in block groups with room. Without it they
    share the parent's group; where that group is crowded, each new file costs ten to
    thirty times more (0.5 ms instead of 25 microseconds here: seconds for claims/).
    Only a hint: file systems without the flag refuse it, and nothing changes."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import fcntl

        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except (ImportError, OSError):
        return
    try:
        flags = array.array("i", [0])
        fcntl.ioctl(fd, _FS_IOC_GETFLAGS, flags, True)
        flags[0] |= _FS_TOPDIR_FL
        fcntl.ioctl(fd, _FS_IOC_SETFLAGS, flags, True)
    except OSError:
        pass
    finally:
        os.close(fd)


def _keep(path: Path, backup: Path) -> None:
    backup.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(path, backup)
    except OSError:
        shutil.copy2(path, backup)


def refuse_unsafe(out: Path, protect: Path | None) -> None:
    """Raises OutputError where writing the site to `out` would harm the project at
    `protect` or something that is not a site. The build calls it first, before it looks
    at `out` (a walk of '/' would never end)."""
    out = Path(os.path.abspath(out))
    if protect is not None:
        # compared as the system resolves them: through links, and on Windows without case
        # ('Templates' is templates/ there)
        real = Path(os.path.normcase(os.path.realpath(out)))
        project = Path(os.path.normcase(os.path.realpath(protect)))
        if real == project or real in project.parents:
            raise OutputError(f"refusing to replace '{out}': it holds the project itself")
        for name in BUILT_FROM:  # templates/ has an index.html: it looked like a site
            read = project / os.path.normcase(name)
            if real == read or read in real.parents:
                raise OutputError(
                    f"refusing to write the site into '{out}': it is inside {name}/, which "
                    "the build reads (choose a folder outside it, such as _site)"
                )
    above = next((p for p in out.parents if os.path.lexists(p)), None)
    if above is not None and not above.is_dir():  # not "File exists" from makedirs
        raise OutputError(f"cannot write the site into '{out}': '{above}' is a file, not a folder")
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise OutputError(f"refusing to replace '{out}': it is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "index.html").is_file():
        raise OutputError(
            f"refusing to replace '{out}': it is not empty and does not look like a built "
            "site (no index.html); choose another --out"
        )


def named(exc: OSError, out: Path) -> str:
    """The file an error of writing the site names, as the user knows it: `out` itself
    where it names none (a full disk), and a path in the folders the build makes beside
    `out` (the staging folder, the old site's while it is swapped) as the path in `out`
    it stands for, not `site.building-k3j2/claims/x.html`, a folder the user never made."""
    if not exc.filename:
        return str(out)
    name, out = os.fsdecode(exc.filename), Path(os.path.abspath(out))
    for kind in (".building-", ".previous-"):
        prefix = os.path.join(out.parent, out.name + kind)
        if name.startswith(prefix):
            rest = name[len(prefix) :].partition(os.sep)[2]
            return os.path.join(out, rest) if rest else str(out)
    return name


def inodes(folder: Path) -> dict[str, int]:
    """Every file under `folder` by path, with its inode: what a later build checks to
    know the folder is still the site it wrote (no stat calls: the directory has them)."""
    return {path: entry.inode() for path, entry in files_under(folder)}


def _swap(staging: Path, out: Path) -> None:
    if not out.exists():
        staging.rename(out)
        site_changed()
        return
    previous = Path(tempfile.mkdtemp(prefix=f"{out.name}.previous-", dir=out.parent))
    previous.rmdir()  # a free name next to `out`, on the same file system
    try:
        with signals_held():
            out.rename(previous)
            try:
                staging.rename(out)
            except BaseException:
                previous.rename(out)
                raise
            site_changed()
    finally:
        if previous.exists() and out.exists():
            shutil.rmtree(previous, ignore_errors=True)
