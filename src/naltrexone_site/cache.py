"""A build cache outside the project: results of earlier builds, reused when unchanged.

It lives in the user's cache folder ($XDG_CACHE_HOME or ~/.cache), never in the
repository, because it is unpickled: a pull request must not be able to plant one.
Every entry is keyed by a fingerprint of this package's code, so any change of code
invalidates everything. Set NALTREXONE_SITE_CACHE=0 to turn it off.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import importlib.machinery
import marshal
import os
import pickle
import sys
import zlib
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from . import parallel
from .inputs import stat_key

T = TypeVar("T")

VERSION = 1


def stable(value: Any) -> bytes:
    """Plain values (str, int, float, bytes, tuples of them) as bytes that depend only on
    the values, for digests: marshal's format 0, which never refers back to an object
    already written nor marks interned strings (later formats do both, so equal values
    could give different bytes from one process to the next)."""
    return marshal.dumps(value, 0)


# The libraries whose work reaches the site or the cache (parsing, matching, rendering,
# escaping): a new version of one is new code too.
LIBRARIES = ("jinja2", "markupsafe", "markdown_it", "mdurl", "yaml", "rapidfuzz")


@cache
def code_fingerprint() -> str:
    """A hash of every module of this package, of Python's version and of where each of
    the LIBRARIES is installed: new code, new cache. Upgrading markdown-it-py or Jinja
    left every page as the old version made it, until its claim changed."""
    digest = hashlib.sha256(f"{VERSION} {sys.version}".encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for name in LIBRARIES:
        digest.update(_installed(name).encode())
    return digest.hexdigest()[:16]


def _installed(name: str) -> str:
    """A library as installed: its first file and that file's stat, which any upgrade or
    reinstall changes. Found without importing it (0.1 ms; a build with nothing to do
    imports none of them) and without importlib.metadata (10 ms)."""
    try:
        spec = importlib.machinery.PathFinder.find_spec(name)
        origin = spec.origin if spec is not None else None
        info = os.stat(origin) if origin else None
    except (ImportError, ValueError, OSError):
        info = None
    return f"{name}: {origin} {stat_key(info)}" if info is not None else f"{name}: not found"


def cache_dir(root: Path) -> Path | None:
    if os.environ.get("NALTREXONE_SITE_CACHE", "1") == "0":
        return None
    given = os.environ.get("XDG_CACHE_HOME", "")
    # a relative path is to be ignored (XDG Base Directory): it would move with the folder
    # the program is run from, and land the cache in the project
    base = Path(given) if os.path.isabs(given) else Path.home() / ".cache"
    project = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return base / "naltrexone-site" / project


def folder(root: Path, name: str) -> Path | None:
    """A folder of the cache for a library's own files (Jinja's compiled templates), or
    None when there is no cache or it cannot be made."""
    base = cache_dir(root)
    if base is None:
        return None
    try:
        (base / name).mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return base / name


def _entry(folder: Path, name: str) -> Path:
    """Where the entry `name` of this code is kept (any code change, another name)."""
    return folder / f"{name}-{code_fingerprint()}.pickle"


def stored_size(root: Path, name: str) -> int | None:
    """The size in bytes of what is stored under `name` by the same code, or None."""
    folder = cache_dir(root)
    try:
        return _entry(folder, name).stat().st_size if folder else None
    except OSError:
        return None


def load(root: Path, name: str, hold: bool = True) -> Any:
    """The object stored under `name` by the same code, or None. `hold`: kept until exit
    with the build's other values (see `held`); else freed as soon as it is let go of."""
    first, rest = load_parts(root, name)
    rest.close(hold)
    return first


def load_parts(root: Path, name: str) -> tuple[Any, Parts]:
    """The first object stored under `name` (see `save`), or None; and the parts after
    it, loaded when asked. They share one pickle's memo, so a later part may refer to
    what the first holds, without a copy; and the first is had without paying for them."""
    folder = cache_dir(root)
    if folder is None:
        return None, Parts(None)
    path = _entry(folder, name)
    try:
        if path.stat().st_uid != os.getuid():
            return None, Parts(None)  # only ever unpickle what this user wrote
        parts = Parts(path.open("rb"))
    except OSError:
        return None, Parts(None)
    return parts.next(), parts


class Parts:
    """The parts of a cache entry after those loaded (see `load_parts`)."""

    def __init__(self, handle: BinaryIO | None) -> None:
        self._handle = handle
        self._unpickler = pickle.Unpickler(handle) if handle is not None else None

    def next(self) -> Any:
        """The next part, or None (none left, or damaged: then none after it either)."""
        if self._unpickler is None:
            return None
        try:
            with no_gc():
                return self._unpickler.load()
        except Exception:  # damaged, cut short or foreign: a cache miss
            # (unpickling damaged bytes raises almost anything: ModuleNotFoundError,
            # OverflowError, MemoryError, KeyError; a cache must never stop a build)
            self.close()
            return None

    def close(self, hold: bool = True) -> None:
        if self._handle is not None:
            self._handle.close()
        # The unpickler's memo refers to every object it made: letting go of it touched
        # each of them (0.02 s of a one-claim rebuild at 10,000 claims), while they live on
        if self._unpickler is not None and hold:
            held(self._unpickler)
        self._handle = self._unpickler = None


def save(root: Path, name: str, value: Any, *more: Any) -> None:
    """Store atomically; a cache that cannot be written is only a slower next build.
    `more`: parts to store after `value`, loaded only when asked (see `load_parts`)."""
    folder = cache_dir(root)
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _sweep(folder, code_fingerprint())
    except OSError:
        return
    # Named before it is made, so that whenever a full disk, Ctrl-C or a signal stops the
    # save, the `except` knows what to remove: a temporary file made before its `try`
    # was left behind by a Ctrl-C landing in between.
    part = folder / f"{name}-{os.urandom(6).hex()}.tmp"
    # Closed by hand, not by `with`: a stop landing on the line event of a `with` block's
    # exit skipped its __exit__, and the file stayed open until the collector found it.
    handle: BinaryIO | None = None
    try:
        handle = open(part, "xb")  # noqa: SIM115 (see above)
        pickler = pickle.Pickler(handle, protocol=pickle.HIGHEST_PROTOCOL)
        for piece in (value, *more):
            pickler.dump(piece)
        handle.close()
        os.replace(part, _entry(folder, name))
    except BaseException as exc:
        with contextlib.suppress(OSError):  # a full disk refuses what is left to flush
            if handle is not None:
                handle.close()
        with contextlib.suppress(OSError):
            os.unlink(part)
        if not isinstance(exc, OSError):
            raise


@cache
def _sweep(folder: Path, fingerprint: str) -> None:
    """Remove what other code saved, once per folder and code (a build saves some 60
    entries; this looked at the whole folder for each)."""
    for stale in folder.glob("*.pickle"):
        if not stale.name.endswith(f"-{fingerprint}.pickle"):
            stale.unlink(missing_ok=True)


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """For work that makes many objects that live on and few reference cycles (loading,
    unpickling, a whole build): the collector would only walk the growing heap again and
    again (a third of the time of unpickling 10,000 claims, a fifth of a 100,000-claim
    build). Reference counting still frees everything else."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# What a program that runs once would free just before it leaves by os._exit (see
# __main__.entry): a build's values, freed one object at a time as its functions return
# (0.05 s of a one-claim rebuild at 10,000 claims). None in a process that runs on
# (`serve`, the tests), which must free them.
_held: list[object] | None = None


def hold_until_exit(enabled: bool) -> None:
    """Whether `held` keeps what it is given until the process exits."""
    global _held
    _held = [] if enabled else None


def held(*values: object) -> None:
    """Keep `values` until exit, in a program that runs once; elsewhere, nothing."""
    if _held is not None:
        _held.extend(values)


SHARDS = 16  # a large mapping is kept in this many files: one edit rewrites one of them


def _shard(key: str) -> int:
    return zlib.crc32(key.encode()) % SHARDS


def load_shards(root: Path, name: str) -> dict[str, Any]:
    """A mapping saved by `save_shards` (missing parts are missing entries)."""
    merged: dict[str, Any] = {}
    for i in range(SHARDS):
        part = load(root, f"{name}.{i:02d}")
        if isinstance(part, dict):
            merged.update(part)
    return merged


def save_shards(
    root: Path,
    name: str,
    fresh: Mapping[str, Any],
    cached: Mapping[str, Any],
    beside_from: int | None = None,
) -> None:
    """Save `fresh`, rewriting only the parts where it differs from `cached` (what
    `load_shards` gave): entries are compared by identity, unchanged ones being the very
    objects that were loaded. From `beside_from` entries to write, in a child process
    while this one goes on (see `written`)."""
    dirty = {_shard(k) for k, v in fresh.items() if cached.get(k) is not v}
    dirty |= {_shard(k) for k in cached.keys() - fresh.keys()}
    if not dirty:
        return
    parts: dict[int, dict[str, Any]] = {i: {} for i in dirty}
    for key, value in fresh.items():
        part = parts.get(_shard(key))
        if part is not None:
            part[key] = value

    def write() -> None:
        for i, part in sorted(parts.items()):
            save(root, f"{name}.{i:02d}", part)

    if beside_from is not None and sum(map(len, parts.values())) >= beside_from:
        _writers.append(parallel.Beside(write))
    else:
        write()


def save_beside(root: Path, name: str, make: Callable[[], tuple[Any, ...]]) -> None:
    """`save` of the parts `make` gives, both in a child process while this one goes on
    (see `written`)."""
    _writers.append(parallel.Beside(lambda: save(root, name, *make())))


# Children writing cache entries (parallel.Beside: without a second core, or where a
# child fails, the entries are written here when waited for), waited for by `written`.
_writers: list[parallel.Beside[None]] = []


@contextlib.contextmanager
def written() -> Iterator[None]:
    """On leaving, wait for the cache entries being written in the background: when a
    build or check returns, its cache is complete for the next one. Interrupted, it
    stops them instead (each removes the file it was writing)."""
    try:
        yield
    except KeyboardInterrupt:
        _stop_writers()
        raise
    finally:
        try:
            while _writers:
                _writers.pop().result()
        except BaseException:  # interrupted while waiting: the others are stopped too
            _stop_writers()
            raise


def _stop_writers() -> None:
    while _writers:
        _writers.pop().stop()


class Memo:
    """Results of earlier builds for each of many keys (a claim's path), each reused while
    its dependency key (a digest of all it depends on) is the same. Kept in shards."""

    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.name = name
        self.cached: dict[str, Any] = load_shards(root, name)
        self.fresh: dict[str, Any] = {}

    def lookup(self, key: str, depends: Any) -> tuple[Any] | None:
        """(value,) when the memo holds one for these dependencies, else None."""
        hit = self.cached.get(key)
        if hit is not None and hit[0] == depends:
            self.fresh[key] = hit
            return (hit[1],)
        return None

    def put(self, key: str, depends: Any, value: Any) -> None:
        self.fresh[key] = (depends, value)

    def save(self) -> None:
        save_shards(self.root, self.name, self.fresh, self.cached)
