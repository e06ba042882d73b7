"""Every page of the built site, as a reader's browser meets it: no console error, no failed
request and no request to another host; no sideways scrolling at 390 px; a real dark
colour scheme."""

from __future__ import annotations

from typing import Any

import pytest

from .site_support import contrast, luminance, page_kinds, parse_rgb, url_of, watch

PHONE = {"width": 390, "height": 844}

# Reports each element that sticks out to the right of the viewport.
OVERFLOW_JS = """() => {
  const doc = document.documentElement;
  const limit = doc.clientWidth + 1;
  const culprits = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > limit) {
      // only the outermost offender of each subtree
      let p = el.parentElement, inner = false;
      while (p && p !== document.body) {
        if (p.getBoundingClientRect().right > limit) { inner = true; break; }
        p = p.parentElement;
      }
      if (inner) continue;
      const id = el.id ? '#' + el.id : '';
      const cls = el.classList.length ? '.' + [...el.classList].join('.') : '';
      const tag = el.tagName.toLowerCase();
      culprits.push(`<${tag}${id}${cls}> right edge at ${Math.round(r.right)}px`);
      if (culprits.length >= 5) break;
    }
  }
  return {scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, culprits};
}"""

COLOURS_JS = """() => {
  const html = getComputedStyle(document.documentElement);
  const body = getComputedStyle(document.body);
  const main = document.querySelector('main') || document.body;
  const p = main.querySelector('p, li, td') || main;
  return {
    html: html.backgroundColor, body: body.backgroundColor,
    htmlScheme: html.colorScheme, text: getComputedStyle(p).color, bodyText: body.color,
  };
}"""


def test_no_console_error_and_no_failed_or_foreign_request(
    new_context: Any, site_url: str, site_pages: list[str]
) -> None:
    context = new_context()
    watcher = watch(context, site_url)
    page = context.new_page()
    problems: list[str] = []
    for rel in site_pages:
        watcher.clear()
        response = page.goto(url_of(site_url, rel), wait_until="load")
        page.wait_for_timeout(50)  # let deferred scripts run and report
        found = watcher.problems()
        if response is None or response.status >= 400:
            found.insert(0, f"page answered HTTP {response.status if response else '?'}")
        problems += [f"{rel}: {p}" for p in found]
    if problems:
        pytest.fail(
            f"{len(problems)} problems on {len(site_pages)} pages:\n" + "\n".join(problems),
            pytrace=False,
        )


def test_no_page_scrolls_sideways_at_390px(
    new_context: Any, site_url: str, site_pages: list[str]
) -> None:
    context = new_context(viewport=PHONE)
    page = context.new_page()
    problems: list[str] = []
    for rel in site_pages:
        page.goto(url_of(site_url, rel), wait_until="load")
        viewport_meta = page.locator('meta[name="viewport"]')
        content = viewport_meta.first.get_attribute("content") if viewport_meta.count() else None
        if not content or "width=device-width" not in content.replace(" ", ""):
            problems.append(
                f"{rel}: no <meta name=viewport content=width=device-width>: a "
                "phone lays it out 980 px wide"
            )
        m = page.evaluate(OVERFLOW_JS)
        if m["scrollWidth"] > m["clientWidth"] + 1:
            problems.append(
                f"{rel}: scrollWidth {m['scrollWidth']} > clientWidth "
                f"{m['clientWidth']}; sticking out: {'; '.join(m['culprits'])}"
            )
    if problems:
        pytest.fail(
            f"{len(problems)} pages scroll sideways at 390 px:\n" + "\n".join(problems),
            pytrace=False,
        )


def _background(c: dict[str, str]) -> tuple[float, float, float, float]:
    """The colour the page is painted on: body, else html, else the canvas."""
    for key in ("body", "html"):
        rgb = parse_rgb(c[key])
        if rgb and rgb[3] > 0.5:
            return rgb
    dark_canvas = "dark" in c["htmlScheme"] and "light" not in c["htmlScheme"]
    return (18, 18, 18, 1) if dark_canvas else (255, 255, 255, 1)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_colour_scheme_renders(
    new_context: Any, site_url: str, built_site: Any, scheme: str
) -> None:
    context = new_context(color_scheme=scheme)
    page = context.new_page()
    problems: list[str] = []
    kinds = page_kinds(built_site)
    for kind, rel in kinds.items():
        page.goto(url_of(site_url, rel), wait_until="load")
        c = page.evaluate(COLOURS_JS)
        bg = luminance(_background(c))
        text_rgb = parse_rgb(c["text"]) or (0, 0, 0, 1)
        fg = luminance(text_rgb)
        ratio = contrast(bg, fg)
        where = f"{kind} ({rel}): background {c['body']} / {c['html']}, text {c['text']}"
        if scheme == "dark" and not (bg <= 0.1 and fg >= 0.4):
            problems.append(
                f"{where}: not a dark scheme (background luminance {bg:.2f}, "
                f"text {fg:.2f}; want <= 0.10 and >= 0.40)"
            )
        if scheme == "light" and not (bg >= 0.6 and fg <= 0.2):
            problems.append(
                f"{where}: not a light scheme (background luminance {bg:.2f}, text {fg:.2f})"
            )
        if ratio < 4.5:
            problems.append(f"{where}: body text contrast {ratio:.2f}:1 < 4.5:1")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.mark.parametrize("missing", ["no-such-page.html", "claims/no-such-claim.html"])
def test_missing_url_gets_a_working_404_page(
    new_context: Any, site_url: str, built_site: Any, missing: str
) -> None:
    """A static host (GitHub Pages, say) answers any missing URL, at any depth, with
    404.html: the page must still load its style and make no failing request there, and
    link to the home page."""
    assert (built_site / "404.html").is_file(), "the site has no 404.html"
    context = new_context()
    watcher = watch(context, site_url)
    page = context.new_page()
    url = site_url + missing
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 404
    page.wait_for_timeout(50)
    problems = [p for p in watcher.problems() if url not in p]  # the page's own 404 is fine
    if problems:
        pytest.fail(
            f"/{missing} (answered with 404.html):\n" + "\n".join(problems),
            pytrace=False,
        )
    hrefs = page.locator("a[href]").evaluate_all("els => els.map(a => a.href.split('#')[0])")
    home = {site_url, site_url + "index.html"}
    assert home & set(hrefs), (
        f"/{missing}: no link on the 404 page leads to the home page {site_url}; "
        f"its links go to {sorted(set(hrefs))[:6]}"
    )
