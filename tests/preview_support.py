"""A running preview of a copy of the fixture project, for tests/test_serve.py and the
browser's tests/browser/test_preview.py."""

from __future__ import annotations

import contextlib
import shutil
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from naltrexone_site.serve import Preview

REPO = Path(__file__).parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "project"
WAIT = 30.0  # seconds: the most any rebuild may take before a test gives up


def make_project(root: Path) -> Path:
    """The fixture project, with the repository's templates and schemas if it has none."""
    shutil.copytree(FIXTURE, root)
    for folder in ("templates", "schema"):
        if not (root / folder).exists():
            shutil.copytree(REPO / folder, root / folder)
    return root


@dataclass(frozen=True)
class Running:
    preview: Preview
    url: str
    lines: list[str]  # what it reported, as it reported it


@contextlib.contextmanager
def preview_of(project: Path, out: Path) -> Iterator[Running]:
    """A preview of `project` on a free port, watched in a thread; closed, and shown to
    be gone, on leaving."""
    lines: list[str] = []
    preview = Preview(project, out, report=lines.append)
    url = preview.start("127.0.0.1", 0)
    watcher = threading.Thread(target=preview.watch, daemon=True)
    watcher.start()
    try:
        yield Running(preview, url, lines)
    finally:
        preview.close()
        watcher.join(timeout=WAIT)
    assert not watcher.is_alive()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=2)  # the server is gone
