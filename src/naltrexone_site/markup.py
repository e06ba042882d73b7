"""Markdown to safe HTML: statements, notes, overviews and source bodies.

Raw HTML is never rendered (`html=False`) and markdown-it's link validation, which drops
`javascript:`, `vbscript:`, `file:` and `data:` links, stays on. `[text](claim:ID)` links
become relative links to the claim page. Text without any Markdown syntax skips the
parser (most statements), which matters at 10,000 claims. Pure functions; no I/O.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from markupsafe import Markup

if TYPE_CHECKING:  # markdown-it is imported when some text has Markdown syntax (see _md)
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore
    from markdown_it.token import Token

# What may start Markdown syntax or an HTML entity: a character anywhere, something at
# the start, or a blank line or a line that starts a block. Three patterns, because one
# alternation of them is tried at every position (five times slower on long text).
_INLINE_SYNTAX = re.compile(r"[\\`*_\[\]<>&!~|#]")
_START_SYNTAX = re.compile(r"\s*(?:[-+>=]|\d+[.)])")
_LINE_SYNTAX = re.compile(r"\n\s*(?:\n|[-+>=*]|\d+[.)])")
# A line that the block parser reads as a paragraph: no indented code, fence, quote,
# heading, rule, list item or reference definition can start with its first character.
_PARAGRAPH_START = re.compile(r" {0,3}[^\s#>*+\-_=|~`\[\d]")
_TAGS = re.compile(r"<[^>]*>")
_FAR = 1 << 62  # larger than any offset: bisect past every span that starts at a point


def _escape(text: str) -> str:
    """markdown-it's own escaping, so the fast path gives the same bytes as the parser."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\x00", "\ufffd")
    )


def _target(href: str, env: Any) -> str:
    """A link's address on the site: `claim:<id>` is that claim's page."""
    if href.startswith("claim:"):
        return f"{env.get('root', '')}claims/{href.removeprefix('claim:')}.html"
    return href


def _link_open(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    token.attrSet("href", _target(str(token.attrGet("href") or ""), env))
    rendered: str = self.renderToken(tokens, idx, options, env)
    return rendered


def _image(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """An image as a link to it, named by its description: a page of the site asks no
    other host for anything, and `![x](https://...)` in a note would have."""
    from markdown_it.common.utils import escapeHtml

    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env)
    src = escapeHtml(_target(str(token.attrGet("src") or ""), env))
    return f'<a href="{src}">{escapeHtml(alt) + " (image)" if alt else "an image"}</a>'


def _table_open(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return '<div class="table-scroll" tabindex="0" role="region" aria-label="Table">\n<table>\n'


def _table_close(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return "</table>\n</div>\n"


def _th_open(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    tokens[idx].attrSet("scope", "col")
    rendered: str = self.renderToken(tokens, idx, options, env)
    return rendered


def _normalize(state: StateCore) -> None:
    """markdown-it's `normalize` (CR LF and CR to LF, NUL to U+FFFD) without its regex
    substitution of every newline: a tenth of the time of a long source body."""
    src = state.src
    if "\r" in src:
        src = src.replace("\r\n", "\n").replace("\r", "\n")
    if "\0" in src:
        src = src.replace("\0", "\ufffd")
    state.src = src


def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.core.ruler.at("normalize", _normalize)
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("image", _image)
    md.add_render_rule("table_open", _table_open)
    md.add_render_rule("table_close", _table_close)
    md.add_render_rule("th_open", _th_open)
    return md


@cache
def _md() -> MarkdownIt:
    """The parser, made when first needed: `check` renders nothing, and importing
    markdown-it and setting up its rules took 30 ms of its half second at 10,000 claims."""
    return _markdown()


@cache
def _blocks() -> MarkdownIt:
    """A parser of block structure only: where the text lines are."""
    md = _markdown()
    md.core.ruler.disable(["inline"])
    return md


def parsers() -> None:
    """Both parsers made now (see render.prepare)."""
    _md()
    _blocks()


def has_markdown(text: str) -> bool:
    return bool(
        _INLINE_SYNTAX.search(text)
        or _START_SYNTAX.match(text)
        or ("\n" in text and _LINE_SYNTAX.search(text))
    )


@lru_cache(maxsize=65536)
def inline(text: str, root: str = "") -> Markup:
    """One line of Markdown (a statement): no paragraph around it."""
    if not has_markdown(text):
        return Markup(_escape(text))
    return Markup(_md().renderInline(text, {"root": root}))


@lru_cache(maxsize=16384)
def block(text: str, root: str = "", top: int = 3) -> Markup:
    """Block Markdown (a note, an overview); its headings start at level `top`."""
    if not has_markdown(text):
        paragraph = _squash(text)
        return Markup(f"<p>{_escape(paragraph)}</p>\n" if paragraph else "")
    env = {"root": root}
    md = _md()
    if "\n" not in text and "\r" not in text and _PARAGRAPH_START.match(text):
        from markdown_it.common.utils import mdTrim

        # one paragraph (most notes): its inline part, without the block parser
        return Markup(f"<p>{md.renderInline(mdTrim(text), env)}</p>\n")
    tokens = md.parse(text, env)
    shift_headings(tokens, top)
    return Markup(md.renderer.render(tokens, md.options, env))


def claim_links(text: str, whole: bool = True) -> list[tuple[str, int]]:
    """The claims a Markdown text links to, as its page reads it: the id of each link or
    image to `claim:<id>` (inline, reference-style or `<claim:id>`; none in code), with the
    first line of its block (0-based). `whole`: a block of text (a note, an overview),
    else one line (a statement, read by `inline`)."""
    if not has_markdown(text):
        return []
    md = _md()
    tokens = md.parse(text, {}) if whole else md.parseInline(text, {})
    found = []
    for token in tokens:
        for child in token.children or ():
            href = child.attrGet("href" if child.type == "link_open" else "src")
            if child.type in ("link_open", "image") and str(href).startswith("claim:"):
                found.append((unquote(str(href)[6:]), token.map[0] if token.map else 0))
    return found


@lru_cache(maxsize=65536)
def plain(text: str) -> str:
    """The words of a Markdown line, without syntax: for titles, search and JSON-LD."""
    if not has_markdown(text):
        return _squash(text)
    rendered = _md().renderInline(text, {"root": ""})
    return " ".join(html.unescape(_TAGS.sub("", rendered)).split())


def shift_headings(tokens: Sequence[Token], top: int) -> None:
    """Renumber headings so the highest one is `top` (keeps page heading order valid)."""
    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    if not levels:
        return
    shift = top - min(levels)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + shift)}"


# --- Source bodies: every sentence wrapped in a targetable span, quoted words marked ------


@dataclass(frozen=True)
class BodyMarks:
    """What to draw on a source body. Offsets are character positions in the body."""

    sentences: tuple[tuple[int, int], ...]
    quoted: tuple[tuple[int, int], ...]  # merged, sorted spans to wrap in <mark>
    sentence_classes: Mapping[int, str]  # extra classes by sentence index ("boilerplate")
    ids: Sequence[str]  # of each sentence (anchoring.sentence_ids)


def merge_spans(spans: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


def first_sentence(
    sentences: Sequence[tuple[int, int]],
    start: int,
    end: int,
    starts: Sequence[int] | None = None,
) -> int | None:
    """The index of the first sentence that overlaps [start, end), if any. `starts`: the
    sentences' start offsets, if the caller keeps them (ints bisect faster than tuples)."""
    if starts is None:
        i = bisect.bisect_right(sentences, (start, _FAR)) - 1
    else:
        i = bisect.bisect_right(starts, start) - 1
    for j in range(max(i, 0), len(sentences)):
        s, e = sentences[j]
        if s >= end:
            return None
        if e > start:
            return j
    return None


def source_body(body: str, marks: BodyMarks, top: int = 3) -> tuple[Markup, frozenset[int]]:
    """The article as HTML, each sentence a span with an id, quoted words in <mark>;
    and the indices of the sentences that got an id (links may point only at those)."""
    from markdown_it.rules_core import StateCore, text_join
    from markdown_it.token import Token

    md, env = _md(), dict[str, Any]()
    tokens = _blocks().parse(body, env)  # inline parsing below, only where it is needed
    shift_headings(tokens, top)
    emitted = set[int]()
    decorated = set[int]()
    for token, located in _sentence_lines(tokens, body):
        html_token = Token("html_inline", "", 0)  # pre-rendered: passed through as is
        html_token.content = _decorate(token.content, located, marks, emitted)
        token.children = [html_token]
        decorated.add(id(token))
    for token in tokens:  # what md.parse does: parse inlines, then join text tokens
        if token.type == "inline" and id(token) not in decorated:
            token.children = []
            md.inline.parse(token.content, md, env, token.children)
    text_join(StateCore(body, md, env, tokens))
    return Markup(md.renderer.render(tokens, md.options, {"root": ""})), frozenset(emitted)


def emitted_sentences(body: str, sentences: Sequence[tuple[int, int]]) -> frozenset[int]:
    """The sentences that `source_body` gives an id, without rendering the body: what a
    claim page needs to link to its passage. The same token walk on a block-level parse
    (ids depend on where text lines are, not on what is marked)."""
    found = set[int]()
    starts, ends, count = [s for s, _ in sentences], [e for _, e in sentences], len(sentences)
    for token, located in _sentence_lines(_blocks().parse(body, {}), body):
        for (_, at), line in zip(located, token.content.split("\n"), strict=True):
            end = at + len(line)
            i = max(bisect.bisect_left(starts, at) - 1, 0)
            while i < count and starts[i] < end:
                if ends[i] > at:
                    found.add(i)
                i += 1
    return frozenset(found)


def _sentence_lines(
    tokens: Sequence[Token], body: str
) -> Iterable[tuple[Token, list[tuple[int, int]]]]:
    """Inline tokens outside headings whose every line is found in the body, in order,
    with where each line is (those not found are rendered plainly, without spans)."""
    line_starts = [0, *(m.end() for m in re.finditer("\n", body))]
    cursor = 0
    in_heading = False
    for token in tokens:
        if token.type == "heading_open":
            in_heading = True
        elif token.type == "heading_close":
            in_heading = False
        elif token.type == "inline" and token.map is not None and not in_heading:
            start = max(cursor, line_starts[min(token.map[0], len(line_starts) - 1)])
            located = _locate(token.content, body, start)
            if located is None:
                continue
            cursor = located[-1][1] + len(token.content.rsplit("\n", 1)[-1])
            yield token, located


def _locate(content: str, body: str, start: int) -> list[tuple[int, int]] | None:
    """For each line of an inline token's content: (offset in content, offset in body)."""
    located, offset = [], 0
    for line in content.split("\n"):
        # mostly right at `start`: startswith does not scan the rest of the body
        at = start if body.startswith(line, start) else body.find(line, start)
        if at < 0:
            return None
        located.append((offset, at))
        start = at + len(line)
        offset += len(line) + 1
    return located


def _decorate(
    content: str, located: list[tuple[int, int]], marks: BodyMarks, emitted: set[int]
) -> str:
    """Render an inline token's content in pieces cut at sentence and quote boundaries."""
    out: list[str] = []
    lines = content.split("\n")
    for (offset, at), line in zip(located, lines, strict=True):
        if offset:
            out.append("\n")
        out.append(_decorate_line(line, at, marks, emitted))
    return "".join(out)


def _decorate_line(line: str, at: int, marks: BodyMarks, emitted: set[int]) -> str:
    """One line, cut at every sentence and quote boundary inside it: each piece rendered,
    in <mark> when quoted, and wrapped with the other pieces of its sentence in a span.
    Sentences and quoted spans are sorted and do not overlap, so one walk through each
    finds what holds every piece (a source page has thousands of pieces)."""
    end = at + len(line)
    sentences, quoted = marks.sentences, marks.quoted
    cuts = {at, end}
    first = max(bisect.bisect_left(sentences, (at, 0)) - 1, 0)
    last = first
    for s, e in sentences[first:]:
        if s >= end:
            break
        if e > at:
            cuts.update((max(s, at), min(e, end)))
        else:
            first += 1
        last += 1
    q = max(bisect.bisect_left(quoted, (at, 0)) - 1, 0)
    for s, e in quoted[q:]:
        if s >= end:
            break
        if e > at:
            cuts.update((max(s, at), min(e, end)))
    points = sorted(cuts)
    # In a line without inline syntax, only a piece that looks like the start of a block
    # goes through the parser: has_markdown would send it there, and its bytes are kept.
    plain = _INLINE_SYNTAX.search(line) is None
    out: list[str] = []
    current: int | None = None
    i = first
    for a, b in zip(points, points[1:], strict=False):
        while i < last and sentences[i][1] <= a:
            i += 1
        owner = i if i < last and sentences[i][0] <= a else None
        if owner != current:
            if current is not None:
                out.append("</span>")
            if owner is not None:
                out.append(_open_sentence(owner, marks, emitted))
            current = owner
        text = line[a - at : b - at]
        plain_piece = plain and not _START_SYNTAX.match(text)
        piece = _escape(text) if plain_piece else _render_piece(text)
        while q < len(quoted) and quoted[q][1] <= a:
            q += 1
        out.append(f"<mark>{piece}</mark>" if q < len(quoted) and quoted[q][0] <= a else piece)
    if current is not None:
        out.append("</span>")
    return "".join(out)


def _open_sentence(index: int, marks: BodyMarks, emitted: set[int]) -> str:
    classes = " ".join(filter(None, ("s", marks.sentence_classes.get(index, ""))))
    if index in emitted:  # a sentence split across table cells: only its first piece has the id
        return f'<span class="{classes}">'
    emitted.add(index)
    return f'<span class="{classes}" id="{marks.ids[index]}">'


def _render_piece(text: str) -> str:
    if not has_markdown(text):
        return _escape(text)
    rendered: str = _md().renderInline(text, {"root": ""})
    return rendered


def context(
    body: str, sentences: Sequence[tuple[int, int]], start: int, end: int
) -> tuple[str, str, str]:
    """The sentence(s) around a quote, with one neighbour each side in the same paragraph:
    (text before the quote, the quoted words, text after), on one line each."""
    return context_at(body, sentences, start, end, first_sentence(sentences, start, end))


def context_at(
    body: str, sentences: Sequence[tuple[int, int]], start: int, end: int, first: int | None
) -> tuple[str, str, str]:
    """`context`, given the quote's `first_sentence` (a claim page needs it twice)."""
    if first is None:
        return "", _squash(body[start:end]), ""
    last, count = first, len(sentences)
    while last + 1 < count and sentences[last + 1][0] < end:
        last += 1
    if first > 0 and _same_paragraph(body[sentences[first - 1][1] : sentences[first][0]]):
        first -= 1
    if last + 1 < count and _same_paragraph(body[sentences[last][1] : sentences[last + 1][0]]):
        last += 1
    lo, hi = min(sentences[first][0], start), max(sentences[last][1], end)
    before, after = body[lo:start], body[end:hi]
    return (
        _squash(before) + (" " if before[-1:].isspace() else ""),
        _squash(body[start:end]),
        (" " if after[:1].isspace() else "") + _squash(after),
    )


def _squash(text: str) -> str:
    """ " ".join(text.split()): words separated by one space. Every whitespace character
    but the space is unprintable, so text that is printable and has no two spaces in a
    row needs only its ends trimmed (a sentence on one line: most quotes)."""
    if text.isprintable() and "  " not in text:
        return text.strip(" ")
    return " ".join(text.split())


_NEW_BLOCK = re.compile(r"\n[ \t]*(?:\n|[-+*>|#]|\d+[.)])")


def _same_paragraph(gap: str) -> bool:
    """Whether the text between two sentences keeps them in one paragraph (no blank line,
    no list item, quote, table row or heading starting)."""
    return "\n" not in gap or _NEW_BLOCK.search(gap) is None
