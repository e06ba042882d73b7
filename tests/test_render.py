"""Rendering: escaping, Markdown, source bodies with targetable sentences, colours."""

from __future__ import annotations

import gc
import re
import weakref
from pathlib import Path

import pytest
from conftest import REPO, MakeSite, RunBuild, claim_yaml
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from naltrexone_site import markup, render
from naltrexone_site.anchoring import sentence_ids, sentence_spans
from naltrexone_site.builder import build
from naltrexone_site.markup import BodyMarks
from naltrexone_site.pages import chunks, columns_of
from naltrexone_site.render import Pager

# ------------------------------------------------------------------------------ escaping

HOSTILE_STATEMENT = "Naltrexone <script>alert(1)</script> [x](javascript:alert(2)) helps."
HOSTILE_NOTE = (
    "<script>alert(3)</script> [click](javascript:alert(4)) <img src=x onerror=alert(5)> "
    "[data](data:text/html;base64,PHNjcmlwdD4=) [ok](claim:sleep-better)"
)


def test_script_and_javascript_links_in_claims_render_inert(
    make_site: MakeSite, run_build: RunBuild
) -> None:
    hostile = claim_yaml(
        "hostile",
        HOSTILE_STATEMENT,
        quote="Some users report vivid dreams.",
        mechanism="mood",
        extra="note: " + repr(HOSTILE_NOTE).replace("'", '"') + "\n",
    )
    run = run_build(make_site({"claims/hostile.yaml": hostile}))
    assert run.code == 0, run.out + run.err
    for path in sorted(run.site.rglob("*.html")):
        page = path.read_text(encoding="utf-8")
        assert "<script>alert" not in page, path
        assert "javascript:" not in page.replace("[x](javascript:alert(2))", "").replace(
            "[click](javascript:alert(4))", ""
        ), path
        assert not re.search(r"<img|<[a-z][^>]*\sonerror=|href=\"data:text", page), path
        scripts = re.findall(r"<script[^>]*>", page)
        inline = [
            s for s in scripts if s != '<script type="application/ld+json">' and "src=" not in s
        ]
        assert inline == ([] if path.name != "404.html" else ["<script>"]), path
    page = (run.site / "claims/hostile.html").read_text(encoding="utf-8")
    assert (
        "Naltrexone &lt;script&gt;alert(1)&lt;/script&gt; [x](javascript:alert(2)) helps." in page
    )
    assert "&lt;script&gt;alert(3)&lt;/script&gt; [click](javascript:alert(4))" in page
    assert '<a href="../claims/sleep-better.html">ok</a>' in page
    jsonld = page.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in jsonld and "\\u003cscript\\u003e" in jsonld
    browse = (run.site / "browse.html").read_text(encoding="utf-8")
    assert "Naltrexone &lt;script&gt;alert(1)&lt;/script&gt;" in browse


def test_markdown_never_renders_raw_html_or_dangerous_links() -> None:
    html = markup.block("<b>bold</b> [a](javascript:alert(1)) [b](vbscript:x) [c](file:///etc)")
    assert "<b>" not in html and "&lt;b&gt;" in html
    assert "href" not in html
    assert (
        str(markup.inline("**strong** and `code`"))
        == "<strong>strong</strong> and <code>code</code>"
    )
    assert (
        str(markup.inline("[t](claim:some-id)", "../")) == '<a href="../claims/some-id.html">t</a>'
    )
    assert (
        str(markup.block("See [t](claim:x).", "")) == '<p>See <a href="claims/x.html">t</a>.</p>\n'
    )


PLAIN = st.text(
    alphabet=st.characters(blacklist_characters="\\`*_[]<>&!~|#\n\r", blacklist_categories=["Cs"]),
    max_size=80,
)


@given(PLAIN)
def test_plain_text_skips_the_parser_with_the_same_output(text: str) -> None:
    if markup.has_markdown(text) or text != text.strip() or "  " in text:
        return  # the fast path is for text without syntax (and markdown-it trims spaces)
    assert str(markup.inline(text)) == markup._md().renderInline(text)
    assert markup.plain(text) == " ".join(text.split())


@given(st.text(max_size=60))
def test_every_statement_is_escaped(text: str) -> None:
    html = str(markup.inline(text))
    assert "<script" not in html.lower()
    assert re.search(r"<(?!/?(?:em|strong|code|a|br)\b)", html) is None, html


def test_headings_start_at_the_level_the_page_needs() -> None:
    html = str(markup.block("# Top\n\ntext\n\n## Next\n", top=3))
    assert html.startswith("<h3>Top</h3>") and "<h4>Next</h4>" in html


# ---------------------------------------------------------------------- source bodies

BODY = """\
## Heading

First sentence here. Second sentence with **bold** words.

- An item sentence.

A | B |
---|---|
Cell one | Cell two |
"""


def test_every_sentence_of_a_source_is_a_link_target_and_quotes_are_marked() -> None:
    sentences = sentence_spans(BODY)
    quote = BODY.index("Second sentence")
    ids = sentence_ids(BODY, sentences)
    quoted = markup.merge_spans([(quote, quote + len("Second sentence"))])
    html, emitted = markup.source_body(BODY, BodyMarks(sentences, quoted, {}, ids))
    assert emitted == frozenset(range(len(sentences)))
    for i in range(len(sentences)):
        assert html.count(f'id="{ids[i]}"') == 1
    assert "<h3>Heading</h3>" in html  # headings are not sentences
    assert f'<span class="s" id="{ids[0]}">First sentence here.</span>' in html
    assert (
        f'<span class="s" id="{ids[1]}"><mark>Second sentence</mark> with <strong>bold</strong> '
        "words.</span>"
    ) in html
    assert f'<li><span class="s" id="{ids[2]}">An item sentence.</span></li>' in html
    assert f'<td><span class="s" id="{ids[4]}">Cell one</span></td>' in html
    assert '<td><span class="s">Cell two</span></td>' in html  # one row: one id
    assert '<div class="table-scroll" tabindex="0" role="region" aria-label="Table">' in html


WORD = st.sampled_from(["naltrexone", "blocks", "Opioid", "dose", "low", "may", "x1", "mood"])
SENTENCE = st.lists(WORD, min_size=1, max_size=6).map(lambda ws: " ".join(ws).capitalize() + ".")
LINE = st.lists(SENTENCE, min_size=1, max_size=3).map(" ".join)
BLOCK = st.one_of(
    LINE,
    LINE.map(lambda line: "## " + line.rstrip(".")),
    st.lists(LINE, min_size=1, max_size=3).map(lambda ls: "\n".join("- " + li for li in ls)),
    st.lists(LINE, min_size=2, max_size=3).map("\n".join),  # one paragraph, several lines
)


@given(st.lists(BLOCK, min_size=1, max_size=6).map("\n\n".join))
def test_every_sentence_gets_exactly_one_id_and_no_text_is_lost(body: str) -> None:
    sentences = sentence_spans(body)
    ids = sentence_ids(body, sentences)
    html, emitted = markup.source_body(body, BodyMarks(sentences, (), {}, ids))
    assert emitted == frozenset(range(len(sentences)))
    assert len(set(ids)) == len(ids)
    for i in range(len(sentences)):
        assert html.count(f'id="{ids[i]}"') == 1
    plain_html = re.sub(r'<span class="s"( id="s-[0-9a-f-]+")?>|</span>', "", str(html))
    assert plain_html == markup._md().render(body).replace("<h2>", "<h3>").replace("</h2>", "</h3>")


def test_a_quote_is_shown_with_its_neighbouring_sentences() -> None:
    body = "One. Two is quoted here. Three.\n\nFour."
    sentences = sentence_spans(body)
    start = body.index("quoted")
    before, quoted, after = markup.context(body, sentences, start, start + len("quoted here."))
    assert (before, quoted, after) == ("One. Two is ", "quoted here.", " Three.")
    start = body.index("Three")
    assert markup.context(body, sentences, start, start + 6) == (
        "Two is quoted here. ",
        "Three.",
        "",
    )


def test_first_sentence_finds_the_sentence_a_quote_starts_in() -> None:
    sentences = ((0, 4), (5, 10), (20, 30))
    assert markup.first_sentence(sentences, 6, 8) == 1
    assert markup.first_sentence(sentences, 12, 25) == 2
    assert markup.first_sentence(sentences, 11, 15) is None


def test_merge_spans() -> None:
    assert markup.merge_spans([(5, 8), (0, 3), (2, 4), (8, 9), (7, 7)]) == ((0, 4), (5, 9))


# ---------------------------------------------------------------------------- grouping


def test_a_claim_for_both_doses_counts_in_the_standard_and_low_columns() -> None:
    assert columns_of("both") == ("standard", "low")
    assert columns_of("low") == ("low",)
    assert columns_of("unspecified") == ("unspecified",)


def test_chunks() -> None:
    assert chunks([1, 2, 3, 4, 5], 2) == ((1, 2), (3, 4), (5,))
    assert chunks([], 2) == ((),)


# ----------------------------------------------------------------------------- colours


def _variables(css: str, block_start: str) -> dict[str, str]:
    start = css.index(block_start)
    body = css[start : css.index("}", start)]
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})", body))


def _luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


CSS = (REPO / "templates" / "static" / "site.css").read_text(encoding="utf-8")


@pytest.mark.parametrize("scheme", [":root {", "prefers-color-scheme: dark"])
def test_text_colours_meet_wcag_aa_in_both_schemes(scheme: str) -> None:
    colours = _variables(CSS, scheme)
    backgrounds = ["bg", "surface", "mark-bg", "target-bg"] + [
        name for name in colours if name.startswith("st-")
    ]
    failures = []
    for background in backgrounds:
        if contrast(colours["fg"], colours[background]) < 4.5:
            failures.append(f"fg on {background}")
    for text in ("muted", "link"):
        for background in ("bg", "surface"):
            if contrast(colours[text], colours[background]) < 4.5:
                failures.append(f"{text} on {background}")
    for ui in ("border", "focus", "contested", "differs", "target-outline"):
        if contrast(colours[ui], colours["bg"]) < 3:  # non-text contrast (WCAG 1.4.11)
            failures.append(f"{ui} on bg")
    assert failures == []


def test_the_stylesheet_has_dark_print_and_focus_styles() -> None:
    assert "@media screen and (prefers-color-scheme: dark)" in CSS
    assert "@media print" in CSS
    assert ":focus-visible" in CSS


def test_templates_are_autoescaped_and_strict(tmp_path: Path) -> None:
    from jinja2 import StrictUndefined, UndefinedError

    from naltrexone_site.render import environment

    (tmp_path / "t.html").write_text("{{ value }}", encoding="utf-8")
    env = environment(tmp_path)
    assert env.undefined is StrictUndefined
    assert env.get_template("t.html").render(value="<b>") == "&lt;b&gt;"
    with pytest.raises(UndefinedError):
        env.get_template("t.html").render()


def test_a_sentence_id_comes_from_its_words_and_a_repeat_is_numbered() -> None:
    body = "It helps.\n\nIt   helps. Something else."
    ids = sentence_ids(body, sentence_spans(body))
    assert ids == ("s-3b2f751f", "s-3b2f751f-2", sentence_ids("Something else.", [(0, 15)])[0])
    assert sentence_ids("It helps.", [(0, 9)]) == ("s-3b2f751f",)  # wherever it stands


def test_a_pager_shows_the_ends_and_the_pages_near_this_one() -> None:
    """No page of a long list carries a link to every other page (200 at 100,000
    claims): the first and last, PAGER_SIDE either side of the current one, a gap (None)
    for each run left out, but never a gap standing for a single page."""
    links = tuple((n, f"p{n}.html") for n in range(1, 21))

    def numbers(current: int, pages: int = 20) -> list[int | None]:
        return [link and link[0] for link in Pager(current, links[:pages]).shown]

    assert numbers(1) == [1, 2, 3, None, 20]
    assert numbers(5) == [1, 2, 3, 4, 5, 6, 7, None, 20]  # 2 shown rather than a gap
    assert numbers(6) == [1, None, 4, 5, 6, 7, 8, None, 20]
    assert numbers(18) == [1, None, 16, 17, 18, 19, 20]
    assert numbers(20) == [1, None, 18, 19, 20]
    assert [numbers(c, pages=3) for c in (1, 2, 3)] == [[1, 2, 3]] * 3
    assert Pager(1, links).neighbour(-1) is None and Pager(1, links).neighbour(1) == "p2.html"
    assert Pager(20, links).neighbour(-1) == "p19.html" and Pager(20, links).neighbour(1) is None


def test_preparing_to_split_the_render_makes_what_every_process_needs(tmp_path: Path) -> None:
    """Made once before the work is split, so forked processes share them instead of each
    making its own: the compiled templates and both Markdown parsers."""
    markup._md.cache_clear()
    markup._blocks.cache_clear()
    env = render.environment(REPO / "templates", tmp_path)
    render.prepare(env)
    assert markup._md.cache_info().currsize == 1
    assert markup._blocks.cache_info().currsize == 1
    assert len(env.cache or {}) == len(env.list_templates(extensions=("html",)))


class _Tracked(Markup):
    """A page's value whose end a weak reference can see (a str subclass without slots)."""


def test_a_page_s_values_are_let_go_of_once_it_is_rendered(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build runs without the cycle collector, and a rendered page's context stays in a
    reference cycle (the macros imported with it hold it): the values made for the page
    (the browse list's items, a source's article) must not live to the end of the build.
    """
    alive: list[weakref.ref[_Tracked]] = []
    listed, body = render.Renderer.listed, render.Renderer.body

    def tracked(value: Markup) -> _Tracked:
        found = _Tracked(value)
        alive.append(weakref.ref(found))
        return found

    monkeypatch.setattr(render.Renderer, "listed", lambda *a: tracked(listed(*a)))
    monkeypatch.setattr(render.Renderer, "body", lambda *a: tracked(body(*a)))
    enabled = gc.isenabled()
    gc.disable()  # as a build runs, and so that no collection in the test hides a cycle
    try:
        build(make_site(), tmp_path / "site")
        assert len(alive) >= 3  # the browse page, and each source page's article
        assert [ref() for ref in alive if ref() is not None] == []
    finally:
        if enabled:
            gc.enable()
