"""A build cache outside the project: results of earlier builds, reused when unchanged.

It lives in the user's cache folder ($XDG_CACHE_HOME or ~/.cache), never in the
repository, because it is unpickled: a pull request must not be able to plant one.
Every entry is keyed by a fingerprint of this package's code, so any change of code
invalidates everything. Set NALTREXONE_SITE_CACHE=0 to turn it off.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

VERSION = 1


@cache
def code_fingerprint() -> str:
    """A hash of every module of this package: new code, new cache."""
    digest = hashlib.sha256(str(VERSION).encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_dir(root: Path) -> Path | None:
    if os.environ.get("NALTREXONE_SITE_CACHE", "1") == "0":
        return None
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    project = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return base / "naltrexone-site" / project


def load(root: Path, name: str) -> Any:
    """The object stored under `name` by the same code, or None."""
    folder = cache_dir(root)
    if folder is None:
        return None
    path = folder / f"{name}-{code_fingerprint()}.pickle"
    try:
        if path.stat().st_uid != os.getuid():
            return None  # only ever unpickle what this user wrote
        with path.open("rb") as handle:
            return pickle.load(handle)
    except (OSError, pickle.PickleError, EOFError, AttributeError, ValueError, TypeError):
        return None


def save(root: Path, name: str, value: Any) -> None:
    """Store atomically; a cache that cannot be written is only a slower next build."""
    folder = cache_dir(root)
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob(f"{name}-*.pickle"):
            if not stale.name.endswith(f"-{code_fingerprint()}.pickle"):
                stale.unlink(missing_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".tmp") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(handle.name, folder / f"{name}-{code_fingerprint()}.pickle")
    except OSError:
        return
