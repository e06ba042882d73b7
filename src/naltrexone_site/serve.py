"""`serve`: build, serve on the loopback interface, rebuild on change, reload the open page.

The operating system tells the watcher what changed (watchfiles: inotify on Linux,
FSEvents on macOS, ReadDirectoryChangesW on Windows): an edit is seen 0.1 s after it
is saved however large the registry, and an idle preview does no work. (Looking at the
stat of every input every 0.5 s saw an edit 0.35 s late at 10,000 claims and 2.9 s late
at 100,000, and kept 12 to 14% of a core busy: bench/README.md.) Where the system's
notices do not arrive (some network and container mounts), WATCHFILES_FORCE_POLLING=1
makes watchfiles look instead. Each batch of changes is built in the main thread. A
build that fails keeps the last good site in place (the build is atomic), and its
problems are printed and shown in a banner on every page. An open page asks
`/__reload?since=N` whether a build since its own has ended, and the answer is held
until one does, so the page reloads the moment it is rebuilt. Nothing is fetched from
any other host.
"""

from __future__ import annotations

import gc
import html
import json
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from jinja2 import TemplateError, TemplateSyntaxError

from .builder import build, template_location
from .cli import summary
from .inputs import BUILT_FROM, rel
from .output import OutputError

# A batch of changes ends when the inputs were quiet this long: an editor that saves in
# several steps (a temporary file renamed over the old one) gets one build, not two.
QUIET_MS = 100
SETUP_MS = 200  # the watcher says it is set up, and nothing changed, after this long
HOLD = 30.0  # seconds an open page's question "built yet?" is held while no build ends
Report = Callable[[str], None]
if TYPE_CHECKING:
    from watchfiles import Change

    Changes = set[tuple[Change, str]]  # a batch: what happened, and to which path


@dataclass(frozen=True)
class Status:
    """The outcome of the latest build attempt, as the browser and the terminal see it."""

    generation: int = 0  # counts build attempts; a change tells open pages to reload
    ok: bool = False  # the latest attempt replaced the site
    problems: tuple[str, ...] = ()  # its problems, one line each (warnings too when ok)
    summary: str = "not built yet"


def _watched(change: Change, path: str) -> bool:
    """Editors' swap and backup files are not inputs."""
    name = path.rpartition("/")[2]
    return not (name.startswith((".", "#")) or name.endswith(("~", ".swp", ".tmp")))


def attempt(root: Path, out: Path) -> tuple[bool, tuple[str, ...], str]:
    """Build once: (site replaced?, problem lines, summary line). Never raises on bad input."""
    started = time.perf_counter()
    try:
        outcome = build(root, out)
    except TemplateSyntaxError as exc:
        where = template_location(root, exc)
        return False, (f"{where}error: {exc.message}",), "a template is broken"
    except TemplateError as exc:
        where = template_location(root, exc)
        return False, (f"{where}error: a template failed: {exc.message}",), "a template failed"
    except OutputError as exc:
        return False, (f"error: {exc}",), "the site cannot be written"
    except OSError as exc:
        return False, (f"error: {exc.filename or out}: {exc.strerror}",), "a file cannot be read"
    except Exception as exc:  # a bug must not stop the preview; show it and keep serving
        return False, (f"error: the build failed: {type(exc).__name__}: {exc}",), "build failed"
    lines = tuple(str(p) for p in outcome.checked.problems)
    text = summary(outcome.checked)
    if outcome.built:
        text = f"{text}; {outcome.pages} pages in {time.perf_counter() - started:.2f} s"
    return outcome.built, lines, text


@dataclass
class Preview:
    """The preview: the state shared by the watcher (main thread) and the HTTP threads."""

    root: Path
    out: Path
    report: Report = print
    status: Status = field(default_factory=Status)
    _built: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _changes: Iterator[Changes] | None = None

    def rebuild(self) -> Status:
        """Build and report."""
        ok, lines, text = attempt(self.root, self.out)
        with self._built:
            self.status = Status(self.status.generation + 1, ok, lines, text)
            self._built.notify_all()
        for line in lines:
            self.report(line)
        if ok:
            self.report(f"[{time.strftime('%H:%M:%S')}] built: {text}")
        else:
            kept = "still serving the last good site" if self.has_site() else "no site to serve yet"
            self.report(f"[{time.strftime('%H:%M:%S')}] not rebuilt: {text}; {kept}")
        return self.status

    def has_site(self) -> bool:
        return (self.out / "index.html").is_file()

    def status_after(self, generation: str, timeout: float) -> Status:
        """The status as soon as it is not that of build `generation` (what an open page
        was built by), or after `timeout` seconds: the page learns of a build the moment
        it ends, instead of at its next look."""
        with self._built:
            self._built.wait_for(
                lambda: str(self.status.generation) != generation or self._stop.is_set(), timeout
            )
            return self.status

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Watch, build, then listen (port 0: any free port). Returns the URL; raises
        OSError. The watcher is set up first: what is saved during the first build is
        built after it."""
        self._changes = self._watcher()
        self.rebuild()
        server = _Server6 if ":" in host else _Server
        self._server = server((host, port), partial(_Handler, preview=self))
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        bound_port = self._server.server_address[1]
        return f"http://{f'[{host}]' if ':' in host else host}:{bound_port}/"

    def _watcher(self) -> Iterator[Changes]:
        """The batches of changes to the inputs, from now until `close` (an empty one
        every SETUP_MS while nothing changes). A folder of BUILT_FROM made after this is
        watched from the preview's next start."""
        from watchfiles import watch  # only the preview needs it

        folders = [self.root / name for name in BUILT_FROM if (self.root / name).is_dir()]
        changes = watch(
            *folders,
            watch_filter=_watched,
            step=QUIET_MS,
            stop_event=self._stop,
            yield_on_timeout=True,
            rust_timeout=SETUP_MS,
        )
        next(changes)  # returns once it watches; changes it gives are in the coming build
        return changes

    def watch(self) -> None:
        """Rebuild after each batch of changes until `close`; what changes during a build
        is kept by the watcher and built right after it."""
        assert self._changes is not None, "start() sets up the watcher"
        for changes in self._changes:
            if changes:
                names = sorted({rel(self.root, Path(path)) for _, path in changes})
                more = " ..." if len(names) > 5 else ""
                self.report(f"changed: {', '.join(names[:5])}{more}")
                self.rebuild()

    def close(self) -> None:
        with self._built:
            self._stop.set()  # the watcher ends within QUIET_MS
            self._built.notify_all()  # and the pages' requests waiting for a build
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def serve(root: Path, out: Path | None, host: str, port: int, report: Report = print) -> int:
    """The `serve` command: runs until Ctrl-C. A temporary output folder is removed after."""
    gc.enable()  # it runs on: reference cycles must be collected (cli.entry turned it off)
    watched = [root / folder for folder in BUILT_FROM]
    if out is not None and any(out == w or w in out.parents for w in watched):
        report(f"error: --out {out} is inside a watched folder: every build would start another")
        return 2
    scratch = None
    if out is None:
        scratch = Path(tempfile.mkdtemp(prefix="naltrexone-serve-"))
        out = scratch / "site"
    preview = Preview(root, out, report)
    try:
        try:
            url = preview.start(host, port)
        except OSError as exc:
            report(f"error: cannot listen on {host}:{port}: {exc.strerror or exc} (try --port 0)")
            return 1
        report(f"serving {url} (watching {', '.join(f + '/' for f in BUILT_FROM)}; "
               "Ctrl-C to stop)")  # fmt: skip
        preview.watch()
    except KeyboardInterrupt:
        report("stopped")
    finally:
        preview.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a slow browser never holds up Ctrl-C


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(SimpleHTTPRequestHandler):
    """Serves the output folder; HTML gets the reload script and the problem banner."""

    def __init__(self, *args: Any, preview: Preview, **kwargs: Any) -> None:
        self.preview = preview
        super().__init__(*args, directory=str(preview.out), **kwargs)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        url = urlsplit(self.path)
        route = url.path
        status = self.preview.status
        if route == "/__reload":
            since = parse_qs(url.query).get("since")
            if since:  # held until a build ends: see reload.js
                status = self.preview.status_after(since[0], HOLD)
            body = {
                "generation": status.generation,
                "ok": status.ok,
                "problems": list(status.problems),
                "summary": status.summary,
            }
            return self._send(200, "application/json", json.dumps(body).encode())
        if route in _ASSETS:
            kind, text = _ASSETS[route]
            return self._send(200, kind, text.encode())
        site = self.preview.out
        try:
            if not self.preview.has_site():
                return self._page(503, _PLACEHOLDER.encode(), status)
            target = Path(self.translate_path(self.path))
            if target.is_dir():
                if not route.endswith("/"):
                    return super().do_GET()  # redirects to the address with a slash
                target = target / "index.html"
            if target.suffix in (".html", ".htm") and target.is_file():
                return self._page(200, target.read_bytes(), status)
            if not target.exists() and (site / "404.html").is_file():
                return self._page(404, (site / "404.html").read_bytes(), status)
        except OSError:  # the site was swapped while we read it
            return self._page(503, _PLACEHOLDER.encode(), status)
        return super().do_GET()

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the terminal is for build results

    def _page(self, code: int, page: bytes, status: Status) -> None:
        self._send(code, "text/html; charset=utf-8", inject(page, status))

    def _send(self, code: int, kind: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def inject(page: bytes, status: Status) -> bytes:
    """Add the problem banner (when there are problems) and the reload script to a page."""
    parts = [f'<script src="/__serve/reload.js" data-generation="{status.generation}" defer>'
             "</script>"]  # fmt: skip
    if status.problems or not status.ok:
        if status.ok:  # warnings: folded, the page stays readable
            head, state, opened = f"Built with warnings: {status.summary}", "ok", ""
        else:
            head = f"Not rebuilt: {status.summary}. Showing the last good site; fix and save."
            state, opened = "failed", " open"
        items = "".join(f"<li><code>{html.escape(line)}</code></li>" for line in status.problems)
        parts.insert(
            0,
            '<link rel="stylesheet" href="/__serve/overlay.css">'
            f'<aside id="serve-problems" class="{state}" role="alert"><details{opened}>'
            f"<summary>{html.escape(head)}</summary><ul>{items}</ul></details></aside>",
        )
    chunk = "\n".join(parts).encode()
    at = page.lower().rfind(b"</body>")
    return page + chunk if at < 0 else page[:at] + chunk + page[at:]


_PLACEHOLDER = (
    "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>No site yet</title></head>"
    "<body><h1>No site yet</h1><p>The build has not succeeded yet.</p></body></html>"
)
# Asks "a build since mine?" and is answered when one ends (or after HOLD seconds, when it
# asks again): a page reloads the moment its site is rebuilt, where a look every 0.5 s
# reloaded it 0.25 s later on average. (A browser keeps at most six connections to one
# host, so a seventh tab of the preview would wait; MkDocs' preview holds its requests
# the same way.)
_RELOAD_JS = """(function () {
  "use strict";
  var tag = document.querySelector("script[data-generation]");
  var seen = tag ? tag.getAttribute("data-generation") : null;
  function ask() {
    fetch("/__reload?since=" + encodeURIComponent(seen), { cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (status) {
        if (String(status.generation) !== seen) { window.location.reload(); return; }
        ask();
      })
      .catch(function () { window.setTimeout(ask, 2000); });
  }
  ask();
})();
"""
_OVERLAY_CSS = """#serve-problems { position: fixed; inset: 0 0 auto 0; z-index: 2147483647;
  max-height: 50vh; overflow: auto; margin: 0; padding: 0.75rem 1rem;
  font: 14px/1.4 system-ui, sans-serif; background: #7a0010; color: #fff;
  box-shadow: 0 2px 8px rgb(0 0 0 / 40%); }
#serve-problems.ok { background: #5c4400; }
#serve-problems summary { cursor: pointer; font-weight: bold; }
#serve-problems ul { margin: 0.5rem 0 0; padding-left: 1.25rem; }
#serve-problems code { font: 13px/1.4 ui-monospace, monospace; white-space: pre-wrap;
  color: inherit; background: none; }
"""
_ASSETS = {
    "/__serve/reload.js": ("text/javascript; charset=utf-8", _RELOAD_JS),
    "/__serve/overlay.css": ("text/css; charset=utf-8", _OVERLAY_CSS),
}
