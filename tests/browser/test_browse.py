"""The browse page as a reader uses it: typing in the search box and each filter
(mechanism, dose, strength, source, kind of source, contested) narrow the list to the
claims that match; without JavaScript the complete list still shows.

Controls are found by their accessible names, the way a screen reader user finds them.
The expected claims come from the site's own download, claims.json.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from .site_support import KIND_WORDS, REPO_ROOT, load_script, page_kinds, url_of

sitetools = load_script("sitetools")

FILTERS = {
    "mechanism": re.compile(r"mechanism|topic", re.I),
    "dose": re.compile(r"\bdose", re.I),
    "strength": re.compile(r"strength", re.I),
    "source": re.compile(r"^\s*source", re.I),
    "kind": re.compile(r"kind of source", re.I),
}
CLAIM_DIRS = KIND_WORDS["claim"]
VISIBLE_CLAIM_IDS_JS = """(dirs) => {
  const ids = [];
  for (const a of document.querySelectorAll('main a[href]')) {
    if (!a.checkVisibility()) continue;
    const path = new URL(a.href).pathname.split('/').filter(Boolean);
    if (path.length < 2 || !dirs.includes(path[path.length - 2])) continue;
    if (new URL(a.href).hash) continue;
    ids.push(decodeURIComponent(path[path.length - 1].replace(/\\.html$/, '')));
  }
  return [...new Set(ids)];
}"""


@pytest.fixture(scope="module")
def claims(built_site: Path) -> dict[str, dict[str, Any]]:
    path = built_site / "claims.json"
    assert path.is_file(), "the site has no claims.json download"
    data = json.loads(path.read_text(encoding="utf-8"))
    records = data["claims"] if isinstance(data, dict) else data
    return {c["id"]: c for c in records}


@pytest.fixture(scope="module")
def source_kinds(built_site: Path) -> dict[str, str]:
    """Each source's kind, from the badge beside its title on its own page (the listed
    claims' badges start "Source: "); the download does not carry it."""
    own = re.compile(r'class="badge kind" href="[^"]*#kind-([\w-]+)">(?!<span)')
    kinds = {}
    for page in sorted((built_site / "sources").glob("*.html")):
        found = set(own.findall(page.read_text(encoding="utf-8")))
        if found:  # a source's page, not its page of claims
            assert len(found) == 1, f"{page.name} gives its source more than one kind: {found}"
            kinds[page.stem] = found.pop()
    assert kinds, "no source page shows its kind"
    return kinds


@pytest.fixture(scope="module")
def browse_rel(built_site: Path) -> str:
    kinds = page_kinds(built_site)
    assert "browse" in kinds, f"the site has no browse page (found {sorted(kinds)})"
    return kinds["browse"]


def settle(page: Any, ms: int) -> None:
    """Let the page answer the last input; a large registry's search index may still be
    loading (the status says so), then wait for it."""
    page.wait_for_timeout(ms)
    page.wait_for_function(
        "() => !/^Loading/.test(document.querySelector('main [role=status]')?.textContent || '')"
    )


def visible_claims(page: Any) -> set[str]:
    """Ids of the claims listed (visibly) in <main>, after asking for every 'more' page
    of results."""
    more = page.locator("main").get_by_role("button", name=re.compile(r"\bmore\b", re.I))
    for _ in range(100):
        if more.count() == 0 or not more.first.is_visible():
            break
        more.first.click()
    return set(page.evaluate(VISIBLE_CLAIM_IDS_JS, list(CLAIM_DIRS)))


def _matches(claim: dict[str, Any], name: str, value: str, kinds: dict[str, str]) -> bool:
    if name == "mechanism":
        mech = claim.get("mechanism") or claim.get("mechanisms") or []
        return value in ([mech] if isinstance(mech, str) else mech)
    if name == "dose":
        return claim["dose"] == value or (claim["dose"] == "both" and value in {"standard", "low"})
    if name == "strength":
        return bool(claim["strength"] == value)
    if name == "source":
        return any(e["source"] == value for e in claim["evidence"])
    if name == "kind":  # a source of that kind supports it; disputing is not resting on
        return any(
            kinds[e["source"]] == value for e in claim["evidence"] if e["stance"] == "supports"
        )
    raise AssertionError(name)


def test_search_box_narrows_the_list(
    page: Any, site_url: str, browse_rel: str, claims: dict[str, dict[str, Any]]
) -> None:
    page.goto(url_of(site_url, browse_rel))
    box = page.locator("main").get_by_role("searchbox")
    assert box.count() == 1, "the browse page has no (single) search box"
    before = visible_claims(page)
    assert before, "the browse page lists no claims before a search"
    word = "dopamine"
    containing = {cid for cid, c in claims.items() if word in c["statement"].lower()}
    assert 0 < len(containing) < len(claims), "pick another search word for this registry"

    box.press_sequentially(word, delay=10)
    settle(page, 100)
    after = visible_claims(page)
    assert after, f"typing {word!r} in the search box left an empty list"
    assert len(after) < len(claims), (
        f"typing {word!r} did not narrow the list: {len(after)} of {len(claims)} claims shown"
    )
    missing = sorted(containing - after)
    assert not missing, f"typing {word!r} hid claims whose statement contains it: {missing[:10]}"
    assert after <= set(claims), f"unknown claims listed: {sorted(after - set(claims))[:5]}"

    box.fill("")
    settle(page, 100)
    assert visible_claims(page) == before, "clearing the search box did not restore the list"

    box.press_sequentially("zzqxqzz-no-such-words", delay=5)
    settle(page, 100)
    assert not visible_claims(page), "a search that matches nothing still lists claims"
    status = page.locator("main [role=status], main [aria-live]")
    if status.count():
        assert status.first.inner_text().strip(), "no message says that nothing matched"


@pytest.mark.parametrize("name", list(FILTERS))
def test_filter_narrows_the_list_to_matching_claims(
    page: Any,
    site_url: str,
    browse_rel: str,
    claims: dict[str, dict[str, Any]],
    source_kinds: dict[str, str],
    name: str,
) -> None:
    page.goto(url_of(site_url, browse_rel))
    select = page.locator("main").get_by_role("combobox", name=FILTERS[name])
    assert select.count() == 1, f"no (single) {name} filter labelled {FILTERS[name].pattern!r}"
    values = [v for v in select.first.evaluate("s => [...s.options].map(o => o.value)") if v]
    assert values, f"the {name} filter offers no choice"
    if name == "kind":  # a kind no source has would only ever show nothing
        assert set(values) == set(source_kinds.values()), "the kinds offered are not the sources'"
    problems: list[str] = []
    narrowed = 0
    for value in values:
        select.first.select_option(value)
        settle(page, 30)
        shown = visible_claims(page)
        expected = {cid for cid, c in claims.items() if _matches(c, name, value, source_kinds)}
        if shown != expected:
            problems.append(
                f"{name}={value}: {len(shown)} claims shown, {len(expected)} match; "
                f"wrongly shown {sorted(shown - expected)[:5]}, "
                f"missing {sorted(expected - shown)[:5]}"
            )
        if 0 < len(shown) < len(claims):
            narrowed += 1
    select.first.select_option("")
    settle(page, 30)
    if problems:
        pytest.fail(
            "\n".join(problems),
            pytrace=False,
        )
    assert narrowed, f"no {name} choice narrowed the list"
    assert len(visible_claims(page)) > 0


def test_contested_filter_narrows_the_list(
    page: Any, site_url: str, browse_rel: str, claims: dict[str, dict[str, Any]]
) -> None:
    page.goto(url_of(site_url, browse_rel))
    before = visible_claims(page)
    box = page.locator("main").get_by_role("checkbox", name=re.compile("contested", re.I))
    assert box.count() == 1, "no (single) 'contested' checkbox on the browse page"
    box.check()
    settle(page, 30)
    shown = visible_claims(page)
    expected = {cid for cid, c in claims.items() if c.get("contested")}
    assert 0 < len(expected) < len(claims)
    assert shown == expected, (
        f"contested only: {len(shown)} shown, {len(expected)} contested; wrongly shown "
        f"{sorted(shown - expected)[:5]}, missing {sorted(expected - shown)[:5]}"
    )
    box.uncheck()
    settle(page, 30)
    assert visible_claims(page) == before, "unchecking did not restore the list"


def test_filters_combine_with_search(
    page: Any, site_url: str, browse_rel: str, claims: dict[str, dict[str, Any]]
) -> None:
    page.goto(url_of(site_url, browse_rel))
    main = page.locator("main")
    main.get_by_role("combobox", name=FILTERS["dose"]).select_option("low")
    settle(page, 30)
    low = visible_claims(page)
    main.get_by_role("searchbox").press_sequentially("dopamine", delay=5)
    settle(page, 100)
    both = visible_claims(page)
    assert both < low, "searching within the low-dose claims did not narrow them further"
    assert all(_matches(claims[c], "dose", "low", {}) for c in both)


def _search(page: Any, site_url: str, browse_rel: str, words: str) -> set[str]:
    page.goto(url_of(site_url, browse_rel))
    page.locator("main").get_by_role("searchbox").press_sequentially(words, delay=5)
    settle(page, 100)
    return visible_claims(page)


def test_search_matches_words_plurals_and_mechanism_names(
    page: Any, site_url: str, browse_rel: str, claims: dict[str, dict[str, Any]]
) -> None:
    """What a reader types: "side effects" found 6 of the 15 claims about side effects
    (most say "a common side effect"), "endorphin rebound" 2 of the 9 filed under it, and
    "ms" (multiple sclerosis) matched every claim saying "symptoms" or "mechanisms"."""
    effects = {c for c in claims if re.search(r"\bside effects?\b", claims[c]["statement"], re.I)}
    assert len(effects) >= 5
    found = _search(page, site_url, browse_rel, "side effects")
    assert effects <= found, sorted(effects - found)
    rebound = {c for c, r in claims.items() if "endorphin-rebound" in r["mechanism"]}
    assert len(rebound) >= 5
    assert rebound <= _search(page, site_url, browse_rel, "endorphin rebound")
    ms = _search(page, site_url, browse_rel, "ms")
    said = {
        c
        for c, r in claims.items()
        if re.search(r"\bms", " ".join((r["statement"], c, *r["conditions"])), re.I)
    }
    assert ms == said, sorted(ms ^ said)


def test_search_finds_what_a_reader_calls_otherwise(
    page: Any, site_url: str, browse_rel: str, claims: dict[str, dict[str, Any]]
) -> None:
    """Typed "adverse effects", search found none of the claims about side effects (32,
    with those filed under "Side effects and safety"); typed "low dose", none of those
    that say only "LDN"."""
    effects = _search(page, site_url, browse_rel, "side effects")
    assert len(effects) >= 10
    assert effects == _search(page, site_url, browse_rel, "adverse effects")
    ldn = {c for c in claims if re.search(r"\bLDN\b", claims[c]["statement"])}
    low = {c for c in claims if re.search(r"\blow[- ]dose\b", claims[c]["statement"], re.I)}
    assert ldn - low and low - ldn  # each phrase alone misses some of the other's claims
    for typed in ("low dose", "Low-dose", "LDN", "LDN’s"):
        found = _search(page, site_url, browse_rel, typed)
        assert ldn | low <= found, (typed, sorted((ldn | low) - found))


BADGES_JS = """() => Object.fromEntries([...document.querySelectorAll('main li.claim-item')]
  .filter(li => li.checkVisibility())
  .map(li => [li.querySelector('a.claim-link').getAttribute('href'),
    [...li.querySelectorAll('.badges a.badge')].map(
      a => [a.getAttribute('href'), a.className, a.textContent])]))"""


def test_a_search_result_carries_the_badges_the_list_gives_the_claim(
    page: Any, site_url: str, browse_rel: str
) -> None:
    """Results are built by search.js, the list by the build: a result showed dose,
    strength and contested only, not the kinds of the sources that support the claim
    nor the overstated mark."""
    page.goto(url_of(site_url, browse_rel))
    listed = page.evaluate(BADGES_JS)
    assert listed, "the browse page lists no claims"
    page.locator("main").get_by_role("searchbox").press_sequentially("naltrexone", delay=10)
    settle(page, 100)
    visible_claims(page)  # every 'more' page of results asked for
    found = page.evaluate(BADGES_JS)
    both = listed.keys() & found.keys()
    assert len(both) >= len(listed) // 2, f"only {len(both)} of {len(listed)} listed claims found"
    for href in sorted(both):
        assert found[href] == listed[href], href
    classes = {badge[1] for href in both for badge in found[href]}
    assert {"badge kind", "badge contested", "badge overstated"} <= classes


def test_without_javascript_the_complete_list_shows(
    new_context: Any, site_url: str, browse_rel: str, claims: dict[str, dict[str, Any]]
) -> None:
    context = new_context(java_script_enabled=False)
    page = context.new_page()
    listed: set[str] = set()
    seen: set[str] = set()
    todo = [url_of(site_url, browse_rel)]
    while todo:  # the list may come in pages: follow the pager
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        page.goto(url)
        listed |= _claim_ids_without_js(page)
        for href in page.locator("main nav a[href]").evaluate_all("els => els.map(a => a.href)"):
            if (
                urlsplit(href).path.rsplit("/", 1)[-1].startswith(Path(browse_rel).stem)
                or "browse" in href
            ):
                todo.append(href.split("#")[0])
    missing = sorted(set(claims) - listed)
    assert not missing, (
        f"without JavaScript the browse page lists {len(listed)} of "
        f"{len(claims)} claims; missing {missing[:10]}"
    )


def _claim_ids_without_js(page: Any) -> set[str]:
    """Ids of the claim pages linked, visibly, from <main>."""
    ids = set()
    links = page.locator("main a[href]")
    for href, visible in zip(
        links.evaluate_all("els => els.map(a => a.href)"),
        links.evaluate_all("els => els.map(a => a.getClientRects().length > 0)"),
        strict=True,
    ):
        parts = [p for p in unquote(urlsplit(href).path).split("/") if p]
        if visible and len(parts) >= 2 and parts[-2] in CLAIM_DIRS and not urlsplit(href).fragment:
            ids.add(parts[-1].removesuffix(".html"))
    return ids


# ------------------------------------------------- a large registry: the index on demand


@pytest.fixture(scope="module")
def on_demand_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real registry built as a large one is: its browse pages load the search index
    on the form's first use (render.INDEX_ON_DEMAND_FROM lowered to 1)."""
    from naltrexone_site import render
    from naltrexone_site.builder import build_command

    out = tmp_path_factory.mktemp("on-demand") / "site"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(render, "INDEX_ON_DEMAND_FROM", 1)
        patch.setenv("NALTREXONE_SITE_CACHE", "0")  # nothing shared with other builds
        assert build_command(REPO_ROOT, out) == 0
    assert "data-index=" in (out / "browse.html").read_text("utf-8")
    with sitetools.serve_site(out) as url:
        yield url


def _index_requests(page: Any) -> list[str]:
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "search-index" in r.url else None)
    return requests


def test_a_large_index_is_loaded_on_first_use_only(
    page: Any, on_demand_url: str, claims: dict[str, dict[str, Any]]
) -> None:
    from playwright.sync_api import expect

    requests = _index_requests(page)
    page.goto(on_demand_url + "browse.html", wait_until="load")
    page.wait_for_timeout(100)
    assert requests == [], "the browse page loaded the search index before any search"
    before = visible_claims(page)
    assert len(before) > 1, "the list does not show while the index is not loaded"

    box = page.locator("main").get_by_role("searchbox")
    box.press_sequentially("dopamine", delay=5)  # typed while the index loads
    status = page.locator("main [role=status]")
    expect(status).to_contain_text(re.compile(r"\d+ of \d+ claims match"))
    assert len(requests) == 1, f"the index was requested {len(requests)} times"
    containing = {cid for cid, c in claims.items() if "dopamine" in c["statement"].lower()}
    shown = visible_claims(page)
    assert containing <= shown and len(shown) < len(claims)

    box.fill("")
    expect(status).to_have_text("")
    assert visible_claims(page) == before
    assert len(requests) == 1


def test_an_address_with_a_search_loads_the_index_at_once(
    page: Any, on_demand_url: str, claims: dict[str, dict[str, Any]]
) -> None:
    from playwright.sync_api import expect

    page.goto(on_demand_url + "browse.html?dose=low&q=dopamine", wait_until="load")
    expect(page.locator("main [role=status]")).to_contain_text("claims match")
    shown = visible_claims(page)
    assert shown, "the search in the address found nothing"
    for cid in shown:
        assert _matches(claims[cid], "dose", "low", {})
        assert "dopamine" in (claims[cid]["statement"] + json.dumps(claims[cid])).lower()


def test_an_index_that_fails_to_load_leaves_the_list_and_says_so(
    page: Any, on_demand_url: str
) -> None:
    from playwright.sync_api import expect

    page.route("**/search-index.js", lambda route: route.abort())
    page.goto(on_demand_url + "browse.html", wait_until="load")
    before = visible_claims(page)
    box = page.locator("main").get_by_role("searchbox")
    box.press_sequentially("dopamine", delay=5)
    status = page.locator("main [role=status]")
    expect(status).to_contain_text("could not be loaded")
    assert visible_claims(page) == before, "a failed load hid the list"

    page.unroute("**/search-index.js")  # the next use of the form tries again
    box.press_sequentially(" release", delay=5)
    expect(status).to_contain_text("claims match")
