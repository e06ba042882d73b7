"""A reader's walk, clicking the real links: evidence map -> mechanism (the dose section)
-> claim -> the quoted passage, highlighted, on the source page."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from .site_support import ITEM_KINDS, KIND_WORDS, require_module

expect = require_module("playwright.sync_api", "playwright").expect

HIGHLIGHT_JS = """(id) => {
  const el = document.getElementById(id);
  if (!el) return null;
  const none = (c) => !c || c === 'transparent' || /rgba\\(.*,\\s*0\\)$/.test(c);
  const bodyBg = getComputedStyle(document.body).backgroundColor;
  const painted = (node) => {
    const cs = getComputedStyle(node);
    return (!none(cs.backgroundColor) && cs.backgroundColor !== bodyBg)
      || (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0)
      || ['Left', 'Top', 'Bottom'].some(side =>
           cs[`border${side}Style`] !== 'none' && parseFloat(cs[`border${side}Width`]) >= 2)
      || cs.textDecorationLine.includes('underline') && cs.textDecorationThickness !== 'auto';
  };
  // the same kind of element elsewhere on the page, not targeted: the passage must look
  // different from it (every anchored sentence may be marked; the target stands out)
  const sig = (node) => {
    const cs = getComputedStyle(node);
    const inner = [...node.querySelectorAll('mark')].slice(0, 1).map(m => {
      const ms = getComputedStyle(m);
      return ms.backgroundColor + ms.textDecorationLine + ms.outlineStyle;
    });
    return [cs.backgroundColor, cs.outlineStyle, cs.outlineWidth, cs.outlineColor,
            cs.boxShadow, cs.borderLeftStyle, cs.borderLeftWidth, inner].join('|');
  };
  const selector = el.tagName.toLowerCase()
    + [...el.classList].map(c => '.' + CSS.escape(c)).join('');
  const peer = [...document.querySelectorAll(selector)].find(
    n => n !== el && !n.contains(el) && !el.contains(n));
  const marks = [...el.querySelectorAll('mark')];
  const inMark = el.closest('mark');
  return {
    tag: el.tagName.toLowerCase(),
    isTarget: el.matches(':target'),
    hasMark: el.tagName === 'MARK' || marks.length > 0 || !!inMark,
    painted: painted(el) || marks.some(painted) || (!!inMark && painted(inMark)),
    text: el.textContent.replace(/\\s+/g, ' ').trim().slice(0, 300),
    background: getComputedStyle(el).backgroundColor,
    distinct: peer ? sig(peer) !== sig(el) : null,
    peer: peer ? (peer.id || selector) : null,
  };
}"""


def _kind_of(url: str, site_url: str) -> str | None:
    """The kind of page a URL of the site shows (mechanism, claim, source, ...)."""
    path = unquote(urlsplit(url).path)[len(urlsplit(site_url).path) :]
    parts = path.split("/")
    first = parts[0].rsplit(".", 1)[0]
    for kind, words in KIND_WORDS.items():
        if first in words and (len(parts) > 1) == (kind in ITEM_KINDS):
            return kind
    return None


def _links_to(
    page: Any,
    scope: Any,
    kind: str,
    site_url: str,
    need_fragment: bool = False,
    text: re.Pattern[str] | None = None,
) -> list[int]:
    """Indexes, within scope.locator('a[href]'), of the links to pages of `kind`."""
    anchors = scope.locator("a[href]")
    found = []
    for i, (href, label) in enumerate(
        anchors.evaluate_all("els => els.map(a => [a.href, a.textContent])")
    ):
        if _kind_of(href, site_url) != kind:
            continue
        if need_fragment and not urlsplit(href).fragment:
            continue
        if text is not None and not text.search(label):
            continue
        found.append(i)
    return found


def _fragment(url: str) -> str:
    return unquote(urlsplit(url).fragment)


def test_walk_map_mechanism_claim_source_passage(page: Any, site_url: str) -> None:
    page.goto(site_url)

    # 1. The evidence map is a table; a cell with claims links to a mechanism page.
    table = page.locator("main table").first
    expect(table, "the home page has no evidence-map <table> in <main>").to_be_visible()
    cells = table.locator("td")
    assert cells.count() > 0, "the evidence map table has no <td> cells"
    picks = _links_to(page, table, "mechanism", site_url, text=re.compile(r"\b[1-9]\d*\b"))
    picks = picks or _links_to(page, table, "mechanism", site_url)
    assert picks, "no cell of the evidence map links to a mechanism page"
    cell_link = table.locator("a[href]").nth(picks[0])
    cell_label = " ".join(cell_link.inner_text().split())
    cell_link.click()
    page.wait_for_load_state()
    assert _kind_of(page.url, site_url) == "mechanism", (
        f"the map cell {cell_label!r} led to {page.url}, not a mechanism page"
    )

    # 2. The cell's dose section of the mechanism page: it exists and holds claim links.
    section_id = _fragment(page.url)
    scope = page.locator("main")
    if section_id:
        section = page.locator(f'[id="{section_id}"]')
        expect(section, f"the map links to #{section_id}, which {page.url} lacks").to_have_count(1)
        expect(section).to_be_in_viewport()
        # the id may sit on a heading: take the section that holds it
        holder = page.locator(f'section:has([id="{section_id}"]), [id="{section_id}"]').last
        scope = holder if _links_to(page, holder, "claim", site_url) else scope
    claim_links = _links_to(page, scope, "claim", site_url)
    assert claim_links, (
        f"{page.url}: no link to a claim page in the section the map cell {cell_label!r} points to"
    )
    claim_link = scope.locator("a[href]").nth(claim_links[0])
    claim_text = " ".join(claim_link.inner_text().split())
    claim_link.click()
    page.wait_for_load_state()
    assert _kind_of(page.url, site_url) == "claim", (
        f"the claim link {claim_text!r} led to {page.url}, not a claim page"
    )
    expect(page.locator("h1")).to_be_visible()

    # 3. The claim's quote links to its exact passage on the source page.
    main = page.locator("main")
    passage_links = _links_to(page, main, "source", site_url, need_fragment=True)
    assert passage_links, f"{page.url}: no link to a passage (source page with #fragment)"
    passage_link = main.locator("a[href]").nth(passage_links[0])
    quote = passage_link.evaluate(
        "a => { const box = a.closest('li, article, section, figure, div');"
        " const q = box && box.querySelector('blockquote, q');"
        " return q ? q.textContent : ''; }"
    )
    passage_link.click()
    page.wait_for_load_state()
    assert _kind_of(page.url, site_url) == "source", f"the passage link led to {page.url}"

    # 4. On the source page, the passage is the target, highlighted and scrolled into view.
    target_id = _fragment(page.url)
    state = page.evaluate(HIGHLIGHT_JS, target_id)
    assert state is not None, f"{page.url}: no element with id {target_id!r}"
    target = page.locator(f'[id="{target_id}"]')
    expect(target).to_be_visible()
    expect(target).to_be_in_viewport()
    assert state["isTarget"] or state["hasMark"], (
        f"{page.url}: the passage <{state['tag']} id={target_id!r}> neither matches :target "
        "nor holds a <mark>"
    )
    assert state["painted"], (
        f"{page.url}: the passage <{state['tag']} id={target_id!r}> is not visibly highlighted "
        f"(background {state['background']}, no outline or border): {state['text'][:120]!r}"
    )
    assert state["distinct"] is not False, (
        f"{page.url}: the passage #{target_id} looks the same as the untargeted "
        f"{state['peer']!r}: nothing singles it out"
    )
    assert state["text"], f"{page.url}: the highlighted passage #{target_id} is empty"
    if quote:  # the passage is the one quoted on the claim page
        said, shown = _plain(quote), _plain(state["text"])
        assert said[:40] in shown or shown[:40] in said, (
            f"{page.url}#{target_id} highlights {state['text'][:100]!r}, but the claim page "
            f"quotes {quote.strip()[:100]!r}"
        )


def _plain(text: str) -> str:
    """Text for comparison: lower case, straight quotes, words only."""
    text = text.lower().translate(str.maketrans("‘’“”–—", "''\"\"--"))
    return " ".join(re.findall(r"[\w']+", text))


def test_every_map_cell_link_lands_on_its_section(page: Any, site_url: str) -> None:
    """Each cell of the map links to an existing section of a mechanism page."""
    page.goto(site_url)
    table = page.locator("main table").first
    hrefs = table.locator("td a[href]").evaluate_all("els => els.map(a => a.href)")
    assert hrefs, "no links in the evidence map's cells"
    problems = []
    for href in sorted(set(hrefs)):
        page.goto(href)
        frag = _fragment(href)
        if frag and page.locator(f'[id="{frag}"]').count() != 1:
            problems.append(f"{href}: no element with id {frag!r}")
    if problems:
        pytest.fail(
            "\n".join(problems),
            pytrace=False,
        )
