"""Helpers for the browser tests: tool lookup (skip locally, fail in CI), loading the
scripts in scripts/, watching a page for console errors and foreign requests, colours."""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = REPO_ROOT / "scripts"
IN_CI = os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}
DEFAULT_VNU_JAR = REPO_ROOT / ".cache/vnu/node_modules/vnu-jar/build/dist/vnu.jar"


def load_script(name: str) -> ModuleType:
    """Import scripts/<name>.py (the scripts folder is not a package)."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def missing_tool(reason: str) -> None:
    """A tool the test needs is absent: skip on a developer's machine, fail in CI
    (CI=true), so that CI can never pass by skipping."""
    if IN_CI:
        pytest.fail(
            f"{reason} (CI=true: .ci/run must install it; a skip is not allowed in CI)",
            pytrace=False,
        )
    pytest.skip(f"{reason} (run .ci/run, or install it, to run this test)", allow_module_level=True)


def require_module(name: str, package: str) -> ModuleType:
    """Import a test dependency (from the `test` extra) or skip/fail like a missing tool."""
    try:
        return importlib.import_module(name)
    except ImportError:
        missing_tool(f"Python package {package!r} is not installed (pip install -e '.[test]')")
        raise


def require_chromium() -> str:
    path: str = load_script("sitetools").chromium_path()
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        missing_tool(
            f"no Chromium at {path} (Debian package 'chromium'; set CHROMIUM to "
            "use another path; never `playwright install`)"
        )
    return path


def require_vnu() -> tuple[str, Path]:
    java = os.environ.get("JAVA") or shutil.which("java")
    if not java:
        missing_tool("no `java` on PATH (Debian package 'default-jre-headless')")
    jar = Path(os.environ.get("VNU_JAR") or DEFAULT_VNU_JAR)
    if not jar.is_file():
        missing_tool(
            f"no Nu HTML checker jar at {jar} (npm install --prefix .cache/vnu "
            "vnu-jar, or set VNU_JAR)"
        )
    assert java
    return java, jar


# ---------------------------------------------------------------- watching a page


@dataclass
class PageWatch:
    """What went wrong while a page loaded: console errors, uncaught exceptions,
    failed requests, HTTP errors, and every request to a host other than the site's."""

    site_host: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    def clear(self) -> None:
        self.console_errors.clear()
        self.page_errors.clear()
        self.failed_requests.clear()
        self.foreign_requests.clear()

    def problems(self) -> list[str]:
        return (
            [f"console error: {m}" for m in self.console_errors]
            + [f"uncaught exception: {m}" for m in self.page_errors]
            + [f"failed request: {m}" for m in self.failed_requests]
            + [f"request to another host (blocked): {m}" for m in self.foreign_requests]
        )


def watch(context: Any, site_base_url: str) -> PageWatch:
    """Block and record every request that leaves the site's host; record console
    errors, page errors, failed requests and HTTP error statuses of every page of
    `context` (a playwright BrowserContext)."""
    host = urlsplit(site_base_url).netloc
    w = PageWatch(site_host=host)

    def route(route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in {"data", "blob", "about"} or parts.netloc == host:
            route.continue_()
        else:
            w.foreign_requests.append(url)
            route.abort("blockedbyclient")

    context.route("**/*", route)

    def on_page(page: Any) -> None:
        def on_console(msg: Any) -> None:
            # a blocked foreign request is already recorded as such
            if msg.type == "error" and "ERR_BLOCKED_BY_CLIENT" not in msg.text:
                loc = msg.location
                w.console_errors.append(
                    f"{msg.text} (at {loc.get('url', '?')}:{loc.get('lineNumber', '?')})"
                )

        page.on("console", on_console)
        page.on("pageerror", lambda exc: w.page_errors.append(str(exc)))

        def on_failed(req: Any) -> None:
            # ERR_ABORTED: cancelled because the test moved on to the next page (a late
            # favicon, say); a missing file shows as an HTTP error status instead.
            if urlsplit(req.url).netloc == host and "ERR_ABORTED" not in (req.failure or ""):
                w.failed_requests.append(f"{req.url} ({req.failure})")

        page.on("requestfailed", on_failed)
        page.on(
            "response",
            lambda resp: (
                w.failed_requests.append(f"{resp.url} (HTTP {resp.status})")
                if resp.status >= 400
                else None
            ),
        )

    context.on("page", on_page)
    return w


# ---------------------------------------------------------------- colours

_RGB = re.compile(r"rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)")


def parse_rgb(css: str) -> tuple[float, float, float, float] | None:
    """An `rgb()`/`rgba()` computed colour as (r, g, b, alpha); None for anything else."""
    m = _RGB.fullmatch(css.strip())
    if not m:
        return None
    alpha_text = m.group(4)
    if alpha_text is None:
        alpha = 1.0
    elif alpha_text.endswith("%"):
        alpha = float(alpha_text[:-1]) / 100
    else:
        alpha = float(alpha_text)
    return float(m.group(1)), float(m.group(2)), float(m.group(3)), alpha


def luminance(rgb: tuple[float, float, float, float] | tuple[float, float, float]) -> float:
    """WCAG relative luminance, 0 (black) to 1 (white)."""

    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = rgb[0], rgb[1], rgb[2]
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: float, b: float) -> float:
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)


# ---------------------------------------------------------------- the kinds of page

# kind -> words one of which names the page's file or folder (checked in order).
KIND_WORDS: dict[str, tuple[str, ...]] = {
    "mechanism": ("mechanisms", "mechanism"),
    "dose": ("dose", "doses", "dose-split", "dose-view", "by-dose"),
    "claim": ("claims", "claim"),
    "source": ("sources", "source"),
    "conflicts": ("conflicts", "conflict", "disagreements"),
    "browse": ("browse", "search", "all-claims"),
    "methodology": ("methodology", "legend", "method"),
    "source-list": ("sources",),
}
ITEM_KINDS = ("mechanism", "claim", "source")  # one page per item, in a folder
PAGE_KINDS = (
    "home",
    "mechanism",
    "dose",
    "claim",
    "source",
    "conflicts",
    "browse",
    "methodology",
    "source-list",
    "404",
)


def _stem_parts(rel: str) -> list[str]:
    parts = rel.split("/")
    last = parts[-1].rsplit(".", 1)[0]
    return [*parts[:-1], last] if last != "index" else parts[:-1]


def page_kinds(site: Path) -> dict[str, str]:
    """One representative page of each kind (the largest of its kind, so the checks see the
    most content). A kind the site lacks is missing from the result."""
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    size = {rel: (site / rel).stat().st_size for rel in pages}
    found: dict[str, str] = {}
    if "index.html" in pages:
        found["home"] = "index.html"
    if "404.html" in pages:
        found["404"] = "404.html"
    for kind, words in KIND_WORDS.items():
        if kind in ITEM_KINDS:
            # <words>/<item>.html or <words>/<item>/index.html, not the folder's own index
            cands = [r for r in pages if len(_stem_parts(r)) >= 2 and _stem_parts(r)[0] in words]
        else:
            cands = [r for r in pages if len(_stem_parts(r)) == 1 and _stem_parts(r)[0] in words]
        if cands:
            found[kind] = max(cands, key=lambda r: (size[r], r))
    return found


def url_of(base_url: str, rel: str) -> str:
    url: str = load_script("sitetools").page_url(base_url, rel)
    return url
