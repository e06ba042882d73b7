"""Writing the whole site atomically.

The site is written into a sibling temporary folder; only when every file is written does
it replace the output folder (two renames, with SIGINT and SIGTERM held back between
them). An error or an interruption before that leaves the previous site as it was and
removes the temporary folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath


class OutputError(Exception):
    """The site cannot be written as asked; the message says why, in the user's words."""


def collect(files: Iterable[tuple[str, bytes]]) -> dict[str, bytes]:
    """Files by path; refuses two files at one path (ignoring case) and paths that escape."""
    found: dict[str, bytes] = {}
    folded: dict[str, str] = {}
    for path, data in files:
        pure = PurePosixPath(path)
        if pure.is_absolute() or not pure.parts or ".." in pure.parts or "\\" in path:
            raise OutputError(f"refusing to write '{path}': not a path inside the site")
        key = path.casefold()
        if key in folded:
            raise OutputError(f"two pages at one path: '{folded[key]}' and '{path}'")
        folded[key] = path
        found[path] = data
    return found


def write_site(files: dict[str, bytes], out: Path, protect: Path | None = None) -> None:
    """Replace `out` with exactly `files`; never a partial site, never a stray folder."""
    out = Path(os.path.abspath(out))
    _refuse_unsafe(out, protect)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{out.name}.building-", dir=out.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)
        write_tree(staging, files)
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def write_tree(folder: Path, files: dict[str, bytes]) -> None:
    """Each file once, with os.open/os.write (a third cheaper than open() at 10,000 files).
    O_EXCL: two paths that are one file on this file system are an error, not an overwrite."""
    made: set[str] = set()
    base = str(folder)
    for path in sorted(files):
        parent, _, _ = path.rpartition("/")
        if parent not in made:
            os.makedirs(os.path.join(base, parent), exist_ok=True)
            made.add(parent)
        try:
            fd = os.open(os.path.join(base, path), _CREATE, 0o666)
        except FileExistsError:
            raise OutputError(f"two pages at one path on this file system: '{path}'") from None
        try:
            data = files[path]
            written = os.write(fd, data)
            while written < len(data):
                written += os.write(fd, data[written:])
        finally:
            os.close(fd)


def _refuse_unsafe(out: Path, protect: Path | None) -> None:
    if protect is not None:
        protect = Path(os.path.abspath(protect))
        if out == protect or out in protect.parents:
            raise OutputError(f"refusing to replace '{out}': it holds the project itself")
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise OutputError(f"refusing to replace '{out}': it is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "index.html").is_file():
        raise OutputError(
            f"refusing to replace '{out}': it is not empty and does not look like a built "
            "site (no index.html); choose another --out"
        )


def _swap(staging: Path, out: Path) -> None:
    if not out.exists():
        staging.rename(out)
        return
    previous = Path(tempfile.mkdtemp(prefix=f"{out.name}.previous-", dir=out.parent))
    previous.rmdir()  # a free name next to `out`, on the same file system
    try:
        with _signals_held():
            out.rename(previous)
            try:
                staging.rename(out)
            except BaseException:
                previous.rename(out)
                raise
    finally:
        if previous.exists() and out.exists():
            shutil.rmtree(previous, ignore_errors=True)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold back SIGINT and SIGTERM for the two renames (they arrive right after)."""
    held = {signal.SIGINT, signal.SIGTERM}
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not (
        threading.main_thread()
    ):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
