"""Build the site into a folder and serve it on 127.0.0.1: shared by the browser tests
(tests/browser/) and scripts/screenshots.py. Standard library only."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# Debian's chromium; never a browser downloaded by `playwright install`.
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",  # the machine has no network: no Google lookups
    "--disable-component-update",
    "--no-first-run",
]


def chromium_path() -> str:
    return os.environ.get("CHROMIUM", DEFAULT_CHROMIUM)


def launch_args() -> dict[str, object]:
    """Keyword arguments for playwright's `chromium.launch()`."""
    return {"executable_path": chromium_path(), "args": list(CHROMIUM_ARGS)}


def build_site(out: Path, root: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    """Run `python build.py build --out OUT` from the repository; return the finished process."""
    return subprocess.run(
        [sys.executable, "build.py", "build", "--out", str(out)],
        cwd=root,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
        check=False,
    )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site folder; a missing path gets the site's 404.html with status 404,
    as GitHub Pages and most static hosts do."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code == 404 and page.is_file():
            body = page.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return
        super().send_error(code, message, explain)


_QuietHandler.extensions_map = {
    **http.server.SimpleHTTPRequestHandler.extensions_map,
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
    ".csv": "text/csv; charset=utf-8",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".pf_meta": "application/octet-stream",
    ".pf_index": "application/octet-stream",
    ".pf_fragment": "application/octet-stream",
    ".pf_filter": "application/octet-stream",
}


@contextlib.contextmanager
def serve_site(directory: Path) -> Iterator[str]:
    """Serve `directory` over http on 127.0.0.1 and a free port; yield the base URL
    (ending in '/')."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def html_pages(site: Path) -> list[str]:
    """Every HTML page of the built site, as site-relative POSIX paths, sorted."""
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html") if p.is_file())


def page_url(base_url: str, rel: str) -> str:
    """The URL a reader would use for a page: folder/index.html is served as folder/."""
    if rel == "index.html":
        return base_url
    if rel.endswith("/index.html"):
        return base_url + rel[: -len("index.html")]
    return base_url + rel


def which(name: str) -> str | None:
    return shutil.which(name)
