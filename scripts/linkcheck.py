#!/usr/bin/env python3
"""Check every internal link and anchor of a built static site, offline.

    python scripts/linkcheck.py _site [--list-external]

Walks every HTML file under the site folder and checks that each internal
``href``/``src``/``srcset``/``poster``/``data``/``action`` resolves to a file of
the site, and that each ``#fragment`` names an element ``id`` (or ``<a name>``)
in the target page. Links from CSS files (``url(...)``, ``@import``) are checked
for existence too. A root-relative link (``/x``) is reported as well: the site
must use relative links so that it works under any base path.

External links (``http:``, ``https:``, ``//host``) are only collected, never
fetched. Prints one line per problem, then a count; exit status 1 when any
link or anchor is broken, 0 otherwise.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

# Attributes that hold one URL, per element ("*" = any element).
URL_ATTRS: dict[str, frozenset[str]] = {
    "href": frozenset({"a", "area", "link", "base"}),
    "src": frozenset(
        {"img", "script", "iframe", "source", "track", "audio", "video", "embed", "input"}
    ),
    "poster": frozenset({"video"}),
    "data": frozenset({"object"}),
    "action": frozenset({"form"}),
    "formaction": frozenset({"button", "input"}),
    "cite": frozenset({"blockquote", "q", "del", "ins"}),
}
SRCSET_TAGS = frozenset({"img", "source"})
# Schemes that are neither a file of the site nor an external page to list.
IGNORED_SCHEMES = frozenset({"mailto", "tel", "data", "javascript", "about", "blob", "sms"})
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+?)\1\s*\)|@import\s+(['"])([^'"]+)\3""")


@dataclass(frozen=True)
class Link:
    page: str  # site-relative path of the file holding the link
    line: int
    url: str


@dataclass(frozen=True)
class Problem:
    link: Link
    kind: str  # "broken link", "broken anchor", "root-relative link", "unsafe link"
    detail: str

    def __str__(self) -> str:
        return f"{self.link.page}:{self.link.line}: {self.kind}: {self.link.url!r} ({self.detail})"


@dataclass
class Report:
    pages: int = 0
    links: int = 0
    problems: list[Problem] = field(default_factory=list)
    external: list[Link] = field(default_factory=list)

    @property
    def broken_links(self) -> list[Problem]:
        return [p for p in self.problems if p.kind != "broken anchor"]

    @property
    def broken_anchors(self) -> list[Problem]:
        return [p for p in self.problems if p.kind == "broken anchor"]


class _PageParser(HTMLParser):
    """Collects the ids and the URLs of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.urls: list[tuple[int, str]] = []
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (name == "name" and tag == "a"):
                self.ids.add(value)
            elif name in URL_ATTRS and tag in URL_ATTRS[name]:
                if tag == "base" and name == "href":
                    self.base = value.strip()
                    continue
                if name == "href" and tag == "link" and _is_hint_link(attrs):
                    continue
                if name == "action" and not value.strip():
                    continue  # action="" submits to the page itself
                self.urls.append((line, value.strip()))
            elif name == "srcset" and tag in SRCSET_TAGS:
                for candidate in value.split(","):
                    parts = candidate.split()
                    if parts:
                        self.urls.append((line, parts[0]))

    handle_startendtag = handle_starttag


def _is_hint_link(attrs: list[tuple[str, str | None]]) -> bool:
    rel = " ".join(v or "" for k, v in attrs if k == "rel").lower().split()
    return bool({"dns-prefetch", "preconnect"} & set(rel))


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def _html_files(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*") if p.suffix.lower() in {".html", ".htm"} and p.is_file()
    )


def _css_urls(text: str) -> Iterator[tuple[int, str]]:
    for match in CSS_URL.finditer(text):
        url = match.group(2) or match.group(4)
        yield text.count("\n", 0, match.start()) + 1, url.strip()


def check_site(root: Path | str) -> Report:
    """Check every link of the site under ``root``; fetch nothing."""
    root = Path(root).resolve()
    report = Report()
    parsed: dict[Path, _PageParser] = {}

    def page(path: Path) -> _PageParser:
        if path not in parsed:
            parser = _PageParser()
            parser.feed(_read(path))
            parser.close()
            parsed[path] = parser
        return parsed[path]

    sources: list[tuple[Path, Iterable[tuple[int, str]], str | None]] = []
    for html in _html_files(root):
        report.pages += 1
        parser = page(html)
        sources.append((html, parser.urls, parser.base))
    for css in sorted(root.rglob("*.css")):
        sources.append((css, list(_css_urls(_read(css))), None))

    for path, urls, base in sources:
        rel_page = path.relative_to(root).as_posix()
        for line, url in urls:
            report.links += 1
            link = Link(rel_page, line, url)
            _check_link(root, path, link, base, report, page)
    return report


def _check_link(
    root: Path, path: Path, link: Link, base: str | None, report: Report, page: object
) -> None:
    url = link.url
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in {"http", "https"} or url.startswith("//"):
        report.external.append(link)
        return
    if scheme == "javascript":
        report.problems.append(Problem(link, "unsafe link", "javascript: URL"))
        return
    if scheme in IGNORED_SCHEMES:
        return
    if scheme:
        report.external.append(link)
        return
    if base:
        report.problems.append(
            Problem(link, "broken link", f"page sets <base href={base!r}>: not checked")
        )
        return

    fragment = unquote(parts.fragment)
    if not parts.path:
        target = path  # "#frag" or "?q" on this page
    elif parts.path.startswith("/"):
        report.problems.append(
            Problem(
                link,
                "root-relative link",
                "starts with '/': breaks when the site is served under a base path; use a "
                "relative link",
            )
        )
        return
    else:
        rel_dir = PurePosixPath(path.relative_to(root).as_posix()).parent
        joined = _normalise(rel_dir / unquote(parts.path))
        if joined is None:
            report.problems.append(Problem(link, "broken link", "points above the site root"))
            return
        target = root / joined
        if target.is_dir() or parts.path.endswith("/"):
            if not target.is_dir():
                report.problems.append(
                    Problem(link, "broken link", f"no folder {joined.as_posix()}/")
                )
                return
            target = target / "index.html"
            if not target.is_file():
                report.problems.append(
                    Problem(link, "broken link", f"folder {joined.as_posix()}/ has no index.html")
                )
                return
        elif not target.is_file():
            report.problems.append(Problem(link, "broken link", f"no file {joined.as_posix()}"))
            return

    if not fragment or target.suffix.lower() not in {".html", ".htm"}:
        return
    fragment = fragment.split(":~:", 1)[0]  # a text fragment is not an id
    if not fragment or fragment.lower() == "top":
        return
    ids = page(target).ids  # type: ignore[operator]
    if fragment not in ids:
        where = target.relative_to(root).as_posix()
        report.problems.append(Problem(link, "broken anchor", f"no id {fragment!r} in {where}"))


def _normalise(path: PurePosixPath) -> PurePosixPath | None:
    out: list[str] = []
    for part in path.parts:
        if part in {"", "."}:
            continue
        if part == "..":
            if not out:
                return None
            out.pop()
        else:
            out.append(part)
    return PurePosixPath(*out) if out else PurePosixPath(".")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path, help="the built site folder, e.g. _site")
    parser.add_argument(
        "--list-external", action="store_true", help="list every external link (never fetched)"
    )
    args = parser.parse_args(argv)
    if not args.site.is_dir():
        print(f"error: {args.site} is not a folder", file=sys.stderr)
        return 2
    report = check_site(args.site)
    for problem in report.problems:
        print(problem)
    if args.list_external:
        for link in report.external:
            print(f"{link.page}:{link.line}: external (not fetched): {link.url}")
    hosts = sorted({urlsplit(link.url).netloc or link.url for link in report.external})
    print(
        f"{report.pages} pages, {report.links} links: {len(report.broken_links)} broken links, "
        f"{len(report.broken_anchors)} broken anchors, {len(report.external)} external links "
        f"not fetched ({len(hosts)} hosts)"
    )
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
