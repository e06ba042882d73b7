#!/usr/bin/env python3
"""Screenshots of the site for README.md: build it, serve it on 127.0.0.1, and save PNGs of
the home page (the evidence map), a mechanism page, the dose view and a claim page, at
desktop (1280 px) and phone (390 px) widths, with Debian's chromium via Playwright.

    python scripts/screenshots.py [--out docs/screenshots] [--site DIR] [--full-page]
                                  [--scheme light|dark]

--site uses a site built beforehand instead of building one. The chosen pages are those
linked from the map: the first mechanism in the table, the first claim on it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sitetools  # noqa: E402

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
SHOTS = ("home", "mechanism", "dose", "claim")


def first_link(page: object, selector: str, folder_words: tuple[str, ...], base: str) -> str:
    hrefs = page.locator(selector).evaluate_all("els => els.map(a => a.href)")  # type: ignore[attr-defined]
    for href in hrefs:
        path = urlsplit(href).path[len(urlsplit(base).path) :]
        if path.split("/")[0].rsplit(".", 1)[0] in folder_words:
            return str(href.split("#")[0])
    raise SystemExit(f"error: no link to {folder_words[0]} pages matching {selector!r}")


def pick_pages(page: object, base: str) -> dict[str, str]:
    """URLs of the four pages, found by following the site's own links."""
    page.goto(base)  # type: ignore[attr-defined]
    urls = {"home": base}
    urls["mechanism"] = first_link(page, "main table a[href]", ("mechanisms", "mechanism"), base)
    urls["dose"] = first_link(
        page, "a[href]", ("dose", "doses", "dose-split", "dose-view", "by-dose"), base
    )
    page.goto(urls["mechanism"])  # type: ignore[attr-defined]
    urls["claim"] = first_link(page, "main a[href]", ("claims", "claim"), base)
    return urls


def shoot(site: Path, out: Path, full_page: bool, scheme: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with sitetools.serve_site(site) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(**sitetools.launch_args())
        try:
            finder = browser.new_page()
            urls = pick_pages(finder, base)
            for width_name, viewport in WIDTHS.items():
                context = browser.new_context(
                    viewport=viewport, color_scheme=scheme, device_scale_factor=1
                )
                context.route(
                    "**/*",
                    lambda r: (
                        r.continue_()
                        if urlsplit(r.request.url).hostname == "127.0.0.1"
                        else r.abort()
                    ),
                )
                page = context.new_page()
                for name in SHOTS:
                    page.goto(urls[name], wait_until="load")
                    suffix = "" if scheme == "light" else f"-{scheme}"
                    path = out / f"{name}-{width_name}{suffix}.png"
                    page.screenshot(path=str(path), full_page=full_page)
                    saved.append(path)
                    print(f"{path}  <- {urls[name][len(base) - 1 :]}")
                context.close()
        finally:
            browser.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=sitetools.REPO_ROOT / "docs/screenshots")
    parser.add_argument("--site", type=Path, help="a site built beforehand (default: build one)")
    parser.add_argument(
        "--full-page", action="store_true", help="capture the whole page, not just the first screen"
    )
    parser.add_argument("--scheme", choices=("light", "dark"), default="light")
    args = parser.parse_args(argv)
    chromium = sitetools.chromium_path()
    if not Path(chromium).is_file():
        print(
            f"error: no chromium at {chromium} (apt-get install chromium; set CHROMIUM)",
            file=sys.stderr,
        )
        return 2
    if args.site:
        return 0 if shoot(args.site, args.out, args.full_page, args.scheme) else 1
    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        site = Path(tmp) / "site"
        done = sitetools.build_site(site)
        if done.returncode != 0:
            print(done.stdout + done.stderr, file=sys.stderr)
            print(f"error: the build failed (exit {done.returncode})", file=sys.stderr)
            return 1
        return 0 if shoot(site, args.out, args.full_page, args.scheme) else 1


if __name__ == "__main__":
    sys.exit(main())
