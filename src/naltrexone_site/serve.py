"""`serve`: build, serve on the loopback interface, rebuild on change, reload the open page.

The operating system tells the watcher what changed (watchfiles: inotify on Linux,
FSEvents on macOS, ReadDirectoryChangesW on Windows), so an edit is seen one or two
steps of QUIET_MS after it is saved, whatever the size of the registry, and an idle
preview uses no CPU that can be measured; looking at the stat of every input, as it
did before, took longer and kept a core busy the larger the registry (figures in
bench/README.md, "The preview"). Where the system's notices do not arrive (some network
and container mounts), WATCHFILES_FORCE_POLLING=1 makes watchfiles look every 0.3 s
instead. Each batch of changes is built in the main thread. A build that fails keeps the
last good site in place (the build is atomic), and its problems are printed and shown in
a banner on every page. An open page asks `/__reload?since=N` whether a build since its
own has ended, and the answer is held until one has, so the page reloads as soon as it
is rebuilt. Nothing is fetched from any other host.
"""

from __future__ import annotations

import errno
import gc
import html
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from stat import S_ISDIR
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from jinja2 import TemplateSyntaxError

from . import cache
from .builder import build, template_failure
from .cli import summary
from .inputs import BUILT_FROM, rel
from .output import OutputError, named

# A batch of changes ends when a step of QUIET_MS adds no new (change, path) pair to it,
# or after DEBOUNCE_MS: an editor that saves in several steps (a temporary file renamed
# over the old one) gets one build. A write still going on after a step may be built
# half done; its end is then the next batch.
QUIET_MS = 50  # watchfiles' default
DEBOUNCE_MS = 1600  # watchfiles' default
HOLD = 30.0  # seconds an open page's question "built yet?" is held while no build ends
Report = Callable[[str], None]
# What to do when the system will not watch the inputs (too many folders for inotify,
# or a mount whose changes it is not told of)
WATCH_HINT = "raise fs.inotify.max_user_watches, or set WATCHFILES_FORCE_POLLING=1"
if TYPE_CHECKING:
    from watchfiles._rust_notify import RustNotify


class WatchError(Exception):
    """The inputs cannot be watched, or the watcher stopped: the preview cannot go on."""


@dataclass(frozen=True)
class Status:
    """The outcome of the latest build attempt, as the browser and the terminal see it."""

    generation: int = 0  # counts build attempts; a change tells open pages to reload
    ok: bool = False  # the latest attempt replaced the site
    problems: tuple[str, ...] = ()  # its problems, one line each (warnings too when ok)
    summary: str = "not built yet"


def _watched(path: str) -> bool:
    """Editors' swap and backup files are not inputs."""
    name = Path(path).name
    return not (name.startswith((".", "#")) or name.endswith(("~", ".swp", ".tmp")))


def _watcher(folders: list[Path]) -> RustNotify:
    """The folders watched from the moment this returns: watchfiles' Rust backend, used
    directly as its documentation shows. (`watchfiles.watch` starts watching only when
    first asked for changes, and asking with a short timeout, to learn when it has, can
    drop a change that lands as a timeout ends.) WATCHFILES_FORCE_POLLING is read as
    watchfiles reads it."""
    from watchfiles._rust_notify import RustNotify

    polling = os.environ.get("WATCHFILES_FORCE_POLLING", "").lower()
    force = polling not in ("", "false", "disable", "disabled")
    try:
        return RustNotify([str(f) for f in folders], False, force, 300, True, False)
    except (OSError, RuntimeError) as exc:
        raise WatchError(f"cannot watch the inputs: {exc} ({WATCH_HINT})") from None


# Seconds between looks at which folders of BUILT_FROM there are: inotify watches a
# folder, not its name, so one removed and made again (a script's `rm -rf claims`, a
# checkout that empties it) was watched no more, and one made after the start never was.
LOOK_S = 0.5


Folders = tuple[tuple[str, int, int], ...]  # (name, device, inode) of each


def _folders(root: Path) -> Folders:
    """The folders of BUILT_FROM there are, each with its device and inode."""
    found = []
    for name in BUILT_FROM:
        with suppress(OSError):
            stat = (root / name).stat()
            if S_ISDIR(stat.st_mode):
                found.append((name, stat.st_dev, stat.st_ino))
    return tuple(found)


class _Asked:
    """What the watcher asks, at each step, whether to stop watching: when the preview
    closes, or when the folders of BUILT_FROM are not those it watches (a look every
    LOOK_S: four stats)."""

    def __init__(self, root: Path, stop: threading.Event, folders: Folders):
        self.root, self.stop, self.folders = root, stop, folders
        self._next = time.monotonic() + LOOK_S

    def is_set(self) -> bool:
        if self.stop.is_set():
            return True
        if time.monotonic() < self._next:
            return False
        self._next = time.monotonic() + LOOK_S
        return _folders(self.root) != self.folders


UNWRITABLE = "the site cannot be written"


def attempt(root: Path, out: Path) -> tuple[bool, tuple[str, ...], str]:
    """Build once: (site replaced?, problem lines, summary line). Never raises on bad input."""
    started = time.perf_counter()
    try:
        outcome = build(root, out)
    except OutputError as exc:
        return False, (f"error: {exc}",), UNWRITABLE
    except Exception as exc:  # a bug must not stop the preview; show it and keep serving
        failed = template_failure(root, exc)  # first: a missing template is an OSError too
        if failed is not None:
            broken = isinstance(exc, TemplateSyntaxError)
            return False, (failed,), "a template is broken" if broken else "a template failed"
        if isinstance(exc, OSError):
            where = named(exc, out)
            line = f"error: {where}: {exc.strerror}"
            writing = Path(where).is_relative_to(os.path.abspath(out))  # out, or in it
            return False, (line,), UNWRITABLE if writing else "a file cannot be read"
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
    _notify: RustNotify | None = None  # from `start` to the end of `watch`
    _asked: _Asked | None = None  # what `_notify` asks whether to stop
    _watching: bool = False

    @property
    def watched(self) -> tuple[str, ...]:
        """The folders of BUILT_FROM that are watched."""
        return tuple(name for name, _, _ in self._asked.folders) if self._asked else ()

    def rebuild(self, first: bool = False) -> Status:
        """Build and report. The `first` build that cannot write the site at all stops
        the preview (see `start`): its error is said, but not "no site to serve yet"."""
        ok, lines, text = attempt(self.root, self.out)
        with self._built:
            self.status = Status(self.status.generation + 1, ok, lines, text)
            self._built.notify_all()
        for line in lines:
            self.report(line)
        if ok:
            self.report(f"[{time.strftime('%H:%M:%S')}] built: {text}")
        elif not (first and self._unservable()):
            kept = "still serving the last good site" if self.has_site() else "no site to serve yet"
            self.report(f"[{time.strftime('%H:%M:%S')}] not rebuilt: {text}; {kept}")
        return self.status

    def _unservable(self) -> bool:
        """No site, and the last build could not write one."""
        return self.status.summary == UNWRITABLE and not self.has_site()

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
        """Watch, take the port, build, then answer (port 0: any free port). Returns the
        URL; raises WatchError, or OSError for the port, before building: a port taken or
        a host mistyped cost a whole build first. The inputs are watched from before the
        first build, so what is saved during it is built after it; a page asked for during
        it waits for it. Raises OutputError where the first build cannot write the site
        at all (`--out` under a file, or a folder that is not a site): no later one could."""
        self._watch_folders()
        server = _Server6 if ":" in host else _Server
        self._server = server((host, port), partial(_Handler, preview=self))
        self.rebuild(first=True)
        if self._unservable():  # every build would fail alike, and the page say "fix and save"
            self._server.server_close()  # not yet serving: `shutdown` would wait for ever
            self._server = None
            raise OutputError(f"nothing to serve: {UNWRITABLE} (choose another --out)")
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        bound_port = self._server.server_address[1]
        return f"http://{f'[{host}]' if ':' in host else host}:{bound_port}/"

    def _watch_folders(self) -> Folders:
        """Watch the folders of BUILT_FROM there are now (in place of any watched before);
        returns them."""
        self._close_watcher()
        while True:
            folders = _folders(self.root)
            try:
                self._notify = _watcher([self.root / name for name, _, _ in folders])
                break
            except WatchError:
                if _folders(self.root) == folders:
                    raise
                # one was removed or made meanwhile (`rm -rf` under way): look again
        self._asked = _Asked(self.root, self._stop, folders)
        return folders

    def watch(self) -> None:
        """Rebuild after each batch of changes until `close`; what changes during a build
        is kept by the watcher and built right after it. A folder of BUILT_FROM removed,
        made or made again is watched as it is now, and built. Raises WatchError if the
        system stops reporting changes, KeyboardInterrupt on Ctrl-C."""
        with self._built:
            if self._notify is None or self._stop.is_set():
                return
            self._watching = True
        try:
            while True:
                notify, asked = self._notify, self._asked
                assert notify is not None and asked is not None
                try:
                    found = notify.watch(DEBOUNCE_MS, QUIET_MS, 0, asked)  # 0: no timeout
                except RuntimeError as exc:
                    raise WatchError(f"the watcher stopped: {exc} ({WATCH_HINT})") from None
                if found == "stop" and not self._stop.is_set():
                    self._rewatch(asked.folders)
                    continue
                if found == "stop":
                    return
                if found == "signal":  # what watchfiles.watch does with it too
                    raise KeyboardInterrupt
                if isinstance(found, set):
                    self._rebuild_for(found)
        finally:
            with self._built:
                self._watching = False
                self._close_watcher()

    def _rewatch(self, before: Folders) -> None:
        """Watch the folders as they are now, then build: what the watcher held when it
        stopped is dropped, and read by this build."""
        with self._built:
            if self._stop.is_set():
                return
            now = self._watch_folders()
        moved = sorted({name for name, _, _ in set(before) ^ set(now)})
        watching = ", ".join(n + "/" for n in self.watched) or "nothing"
        changed = ", ".join(n + "/" for n in moved)
        self.report(f"changed: {changed} (a folder removed or made: watching {watching})")
        self.rebuild()

    def _rebuild_for(self, found: set[tuple[int, str]]) -> None:
        """Say what changed and build, unless all of it was editors' scratch files."""
        names = sorted({rel(self.root, Path(path)) for _, path in found if _watched(path)})
        if names:
            more = " ..." if len(names) > 5 else ""
            self.report(f"changed: {', '.join(names[:5])}{more}")
            self.rebuild()

    def close(self) -> None:
        with self._built:
            self._stop.set()  # `watch` returns within QUIET_MS
            self._built.notify_all()  # and the pages' requests waiting for a build
            if not self._watching:
                self._close_watcher()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _close_watcher(self) -> None:
        if self._notify is not None:
            self._notify.close()  # its thread and inotify's file end now, not at exit
            self._notify = None


def serve(root: Path, out: Path | None, host: str, port: int, report: Report = print) -> int:
    """The `serve` command: runs until Ctrl-C. A temporary output folder is removed after."""
    # it runs on: reference cycles must be collected, and each build's values freed
    # (__main__.entry turned both off)
    gc.enable()
    cache.hold_until_exit(False)
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
        except OutputError as exc:  # said by the build, then here
            report(f"error: {exc}")
            return 1
        except OSError as exc:
            busy = exc.errno == errno.EADDRINUSE  # else the address: a typo, or not this machine's
            hint = "try --port 0" if busy else "check --host: 127.0.0.1 is this machine"
            report(f"error: cannot listen on {host}:{port}: {exc.strerror or exc} ({hint})")
            return 1
        report(f"serving {url} (watching {', '.join(f + '/' for f in preview.watched)}; "
               "Ctrl-C to stop)")  # fmt: skip
        preview.watch()
    except WatchError as exc:
        report(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        report("stopped")
    finally:
        preview.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a slow browser never holds up Ctrl-C

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A page that went away while its question was held (closed, or left for another
        page) is no fault to print; anything else is printed as http.server does."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


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
# asks again): the page reloads as soon as its site is rebuilt, where asking every 0.5 s
# reloaded it up to 0.5 s later. A browser keeps at most six connections to one host and
# each page shown holds one, so a hidden page (a tab in the background) lets go of its own
# and asks again when shown: with six pages of the preview shown at once, its other
# requests would wait for an answer (up to HOLD). MkDocs' preview holds its pages'
# requests the same way.
_RELOAD_JS = """(function () {
  "use strict";
  var tag = document.querySelector("script[data-generation]");
  var seen = tag ? tag.getAttribute("data-generation") : null;
  var asking = null;
  function ask() {
    if (asking || document.hidden) { return; }
    var mine = asking = new AbortController();
    fetch("/__reload?since=" + encodeURIComponent(seen), { cache: "no-store", signal: mine.signal })
      .then(function (response) { return response.json(); })
      .then(function (status) {
        if (asking === mine) { asking = null; }
        if (String(status.generation) !== seen) { window.location.reload(); return; }
        ask();
      })
      .catch(function () {
        if (asking !== mine) { return; }
        asking = null;
        window.setTimeout(ask, 2000);
      });
  }
  // a hidden page lets go of its connection, and asks again when it is shown
  document.addEventListener("visibilitychange", function () {
    if (document.hidden && asking) { asking.abort(); asking = null; }
    if (!document.hidden) { ask(); }
  });
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
