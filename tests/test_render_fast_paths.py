"""Rendering's fast paths give exactly what the code they stand in for gives.

Claim pages and downloads are made once per claim, so parts of them are written out by
hand instead of through a general tool: the downloads' JSON and CSV, the claim pages'
JSON-LD, single-paragraph Markdown, the test for Markdown syntax and a source body parsed
once. Each is checked here against the general tool on the repository's registry and on
generated text.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from datetime import date
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from conftest import REPO
from hypothesis import given
from hypothesis import strategies as st
from markdown_it.token import Token

from naltrexone_site import exports, markup
from naltrexone_site.anchoring import sentence_ids
from naltrexone_site.history import claim_history
from naltrexone_site.models import Claim, Evidence
from naltrexone_site.pages import Marks, Site, analyse
from naltrexone_site.pipeline import check_project

# Text with what needs escaping in JSON, CSV, HTML and <script>, and Markdown syntax.
AWKWARD = st.text(
    alphabet=st.sampled_from(list("ab ,;\"'\\<>&/*_`[]()#-+.1\t\n\r\x00\u2028é€")),
    max_size=30,
)


@lru_cache(maxsize=1)
def repository_site() -> Site:
    checked = check_project(REPO)
    assert checked.context is not None
    return analyse(checked.context, claim_history(REPO))


# ------------------------------------------------------------------------- downloads


def reference_rows(site: Any, claim: Claim, codes: exports.SearchCodes) -> exports.Rows:
    """The downloads as json.dumps and csv.writer make them from `claim_record`."""
    record = exports.claim_record(site, claim)
    line = json.dumps(record, ensure_ascii=False)
    record["sources"] = sorted({e.source for e in claim.evidence})
    record["evidence"] = json.dumps(record["evidence"], ensure_ascii=False)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(
        _cell(record[column]) for column in exports.CSV_COLUMNS
    )
    entry = [
        claim.id,
        markup.plain(claim.statement),
        [codes.mechanisms[m] for m in dict.fromkeys(claim.mechanism)],
        codes.doses[claim.dose],
        codes.strengths[claim.strength],
        sorted({codes.sources[e.source] for e in claim.evidence}),
        int(site.marks[claim.id].contested),
        " ".join((claim.id, *claim.conditions)),
        int(site.marks[claim.id].overstated),
        sorted(
            {
                codes.kinds[site.sources[e.source].kind]
                for e in claim.evidence
                if e.stance == "supports"
            }
        ),
    ]
    return line, buffer.getvalue(), json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return "" if value is None else str(value)


def test_the_repositorys_downloads_are_json_dumps_and_csv_writer() -> None:
    site = repository_site()
    codes = exports.SearchCodes.of(site)
    for claim in site.claims.values():
        assert exports.claim_rows(site, claim, codes) == reference_rows(site, claim, codes)


@given(
    texts=st.lists(AWKWARD, min_size=8, max_size=8),
    cites=st.lists(st.integers(0, 12), max_size=3),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    corroboration=st.integers(0, 5),
)
def test_downloads_of_any_text_are_json_dumps_and_csv_writer(
    texts: list[str], cites: list[int], flags: tuple[bool, bool, bool], corroboration: int
) -> None:
    statement, quote, note, condition, other, base, source, mechanism = texts
    claim = Claim(
        id="c",
        statement=statement,
        kind="mechanism",
        mechanism=(mechanism, "m"),
        dose="low",
        strength="s",
        evidence=(Evidence(source, quote, "supports", tuple(cites)), Evidence("s2", "", "x")),
        contradicts=(other,) if flags[0] else (),
        conditions=(condition, condition) if flags[1] else (),
        note=note if flags[2] else None,
        reviewed=date(2025, 1, 2) if flags[0] else None,
    )
    marks = Marks(corroboration, flags[1], flags[2], (other,), ())
    site = SimpleNamespace(
        marks={"c": marks},
        registry=SimpleNamespace(settings=SimpleNamespace(base_url=base)),
        sources={source: SimpleNamespace(kind="k1"), "s2": SimpleNamespace(kind="k0")},
    )
    codes = exports.SearchCodes(
        {mechanism: 0, "m": 1}, {"low": 0}, {"s": 2}, {source: 3, "s2": 4}, {"k0": 0, "k1": 1}
    )
    rows = exports.claim_rows(site, claim, codes)  # type: ignore[arg-type]
    assert rows == reference_rows(site, claim, codes)


def test_the_download_files_are_their_rows_joined() -> None:
    """claims.json, claims.csv and the search index are made in pieces of rows; joined,
    the pieces are the rows joined whole, whatever the piece size."""
    site = repository_site()
    codes = exports.SearchCodes.of(site)
    rows = [exports.claim_rows(site, claim, codes) for claim in site.claims.values()]
    encoded = [exports.encoded_rows(site, claim, codes) for claim in site.claims.values()]
    assert encoded == [tuple(r.encode() for r in row) for row in rows]
    head, tail = exports._search_index_frame(site)
    whole = {
        "claims.json": "[\n" + ",\n".join(r[0] for r in rows) + "\n]\n",
        "claims.csv": exports._CSV_HEADER + "".join(r[1] for r in rows),
        "search-index.js": head + ",".join(r[2] for r in rows) + tail,
    }
    made = dict(exports.downloads(site, encoded))
    assert {path: b"".join(pieces).decode() for path, pieces in made.items()} == whole
    for size in (1, 2, 7, len(rows) - 1, len(rows), len(rows) + 1):
        items = [r[0] for r in encoded]
        joined = b"".join(exports._joined(b"<", items, b"|", b">", size))
        assert joined == b"<" + b"|".join(items) + b">"
    assert b"".join(exports._joined(b"<", [], b"|", b">")) == b"<>"


@given(st.lists(AWKWARD, max_size=5))
def test_a_csv_row_is_what_csv_writer_writes(cells: list[str]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    assert exports.csv_row(cells) == buffer.getvalue()


# ------------------------------------------------------------------------- JSON-LD


def reference_jsonld(site: Site, claim: Claim, path: str) -> str:
    """schema.org MedicalWebPage about a Claim, as json.dumps writes it."""
    settings = site.registry.settings
    base = site.registry.settings.base_url.rstrip("/") + "/"
    url = base + path
    text = markup.plain(claim.statement)
    appearing = [e.source for e in claim.evidence if e.stance != "disputes"] or [
        e.source for e in claim.evidence
    ]
    works = []
    for source_id in dict.fromkeys(appearing):
        source = site.sources[source_id]
        work: dict[str, Any] = {
            "@type": "CreativeWork",
            "name": source.title,
            "url": f"{base}sources/{source.id}.html",
        }
        if source.publisher:
            work["publisher"] = {"@type": "Organization", "name": source.publisher}
        if source.published:
            work["datePublished"] = source.published.isoformat()
        works.append(work)
    reviewed = claim.reviewed or settings.last_reviewed
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {
                "@type": "MedicalWebPage",
                "@id": url,
                "url": url,
                "name": text,
                "inLanguage": settings.language,
                "lastReviewed": reviewed.isoformat(),
                "mainEntity": {"@id": f"{url}#claim"},
                "isPartOf": {"@type": "WebSite", "name": settings.title, "url": base},
            },
            {"@type": "Claim", "@id": f"{url}#claim", "text": text, "appearance": works},
        ],
    }
    encoded = json.dumps(graph, ensure_ascii=False, separators=(",", ":"))
    return encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def test_claim_json_ld_is_json_dumps_of_the_graph() -> None:
    site = repository_site()
    jsonld = exports.ClaimJsonLd(site)
    for claim in site.claims.values():
        path = f"claims/{claim.id}.html"
        assert jsonld(claim, path) == reference_jsonld(site, claim, path)


@given(AWKWARD)
def test_claim_json_ld_of_any_statement_is_json_dumps_and_inert(statement: str) -> None:
    site = repository_site()
    claim = replace(next(iter(site.claims.values())), statement=statement + "</script><!--")
    found = exports.ClaimJsonLd(site)(claim, "claims/x.html")
    assert found == reference_jsonld(site, claim, "claims/x.html")
    assert "<" not in found and ">" not in found and "&" not in found


# ------------------------------------------------------------------------- Markdown

_SYNTAX = re.compile(r"[\\`*_\[\]<>&!~|#]|^\s*(?:[-+>=]|\d+[.)])|\n\s*\n|\n\s*(?:[-+>=*]|\d+[.)])")


@given(AWKWARD)
def test_has_markdown_is_the_one_pattern_it_splits(text: str) -> None:
    assert markup.has_markdown(text) == bool(_SYNTAX.search(text))


def reference_block(text: str, root: str = "", top: int = 3) -> str:
    env = {"root": root}
    tokens = markup._md().parse(text, env)
    markup.shift_headings(tokens, top)
    return str(markup._md().renderer.render(tokens, markup._md().options, env))


BLOCK_STARTS = st.sampled_from(
    ["", " ", "   ", "    ", "\t", "- ", "* ", "+ ", "-", "1. ", "2) ", "3.", "# ", "#", "> ",
     "```", "~~~", "***", "---", "___", "[a]: /u", "=", "|", "\u00a0", "*a*", "_a_ "]
)  # fmt: skip


@given(BLOCK_STARTS, AWKWARD)
def test_block_markdown_is_what_the_parser_renders(start: str, rest: str) -> None:
    text = start + rest
    if markup.has_markdown(text):  # text without syntax has its own test
        assert str(markup.block.__wrapped__(text, "../")) == reference_block(text, "../")


def reference_source_body(body: str, marks: markup.BodyMarks) -> tuple[str, frozenset[int]]:
    """Parse everything, then put the decorated lines in place of the parsed inlines."""
    tokens = markup._md().parse(body, {})
    markup.shift_headings(tokens, 3)
    emitted = set[int]()
    for token, located in markup._sentence_lines(tokens, body):
        html_token = Token("html_inline", "", 0)
        html_token.content = markup._decorate(token.content, located, marks, emitted)
        token.children = [html_token]
    rendered = markup._md().renderer.render(tokens, markup._md().options, {"root": ""})
    return rendered, frozenset(emitted)


LINES = st.sampled_from(
    ["", "# Head", "## Sub *x*", "- item", "1. one", "> quote", "| a | b |", "|---|---|",
     "| c. d | e |", "    code", "```", "[ref]: http://r", "See [ref] and [l](claim:x).",
     "Plain words. More words!", "A \\*star\\* and `code` & <b>.", "x\r\ny"]
)  # fmt: skip


@given(st.lists(LINES, max_size=12), st.lists(st.integers(0, 200), max_size=12))
def test_a_source_body_is_what_parsing_everything_gives(lines: list[str], cuts: list[int]) -> None:
    body = "\n".join(lines)
    points = sorted({min(c, len(body)) for c in cuts})
    sentences = tuple((a, b) for a, b in zip(points[::2], points[1::2], strict=False) if b > a)
    quoted = markup.merge_spans(zip(points[1::2], points[2::2], strict=False))
    marks = markup.BodyMarks(sentences, quoted, {0: "boilerplate"}, sentence_ids(body, sentences))
    html, emitted = markup.source_body(body, marks)
    assert (str(html), emitted) == reference_source_body(body, marks)


def reference_decorate_line(line: str, at: int, marks: markup.BodyMarks, emitted: set[int]) -> str:
    """The line decorated the plain way: for each piece, look up the sentence that holds
    it and whether it is quoted; render every piece through the syntax test."""
    end = at + len(line)
    cuts = {at, end}
    inside = []
    for i, (s, e) in enumerate(marks.sentences):
        if s < end and e > at:
            inside.append((max(s, at), min(e, end), i))
            cuts.update((max(s, at), min(e, end)))
    for s, e in marks.quoted:
        if s < end and e > at:
            cuts.update((max(s, at), min(e, end)))
    points = sorted(cuts)
    out: list[str] = []
    current = None
    for a, b in zip(points, points[1:], strict=False):
        owner = next((i for s, e, i in inside if s <= a < e), None)
        if owner != current:
            if current is not None:
                out.append("</span>")
            if owner is not None:
                out.append(markup._open_sentence(owner, marks, emitted))
            current = owner
        piece = markup._render_piece(line[a - at : b - at])
        quoted = any(s <= a < e for s, e in marks.quoted)
        out.append(f"<mark>{piece}</mark>" if quoted else piece)
    if current is not None:
        out.append("</span>")
    return "".join(out)


PIECES = st.sampled_from(
    ["word", " ", "  ", ". ", "1. ", "2) ", "- ", "+ ", "> ", "= ", "*a*", "_b_", "`c`", "[d]",
     "<e>", "&f", "!", "~", "|", "#", "\\", '"', "\x00", "é"]
)  # fmt: skip


@given(
    st.lists(PIECES, min_size=1, max_size=12),
    st.integers(0, 5),
    st.lists(st.integers(0, 70), max_size=14),
    st.lists(st.integers(0, 70), max_size=8),
)
def test_a_decorated_line_is_what_looking_up_each_piece_gives(
    pieces: list[str], at: int, cuts: list[int], quotes: list[int]
) -> None:
    """Sentences and quotes in a body that starts `at` before the line, some reaching
    past either end of it."""
    line = "".join(pieces)
    points = sorted(set(cuts))
    sentences = tuple((a, b) for a, b in zip(points[::2], points[1::2], strict=False) if b > a)
    quoted = markup.merge_spans(zip(sorted(quotes)[::2], sorted(quotes)[1::2], strict=False))
    ids = tuple(f"s-{i}" for i in range(len(sentences)))
    marks = markup.BodyMarks(sentences, quoted, {0: "boilerplate"}, ids)
    emitted: set[int] = set()
    expected_emitted: set[int] = {1}  # one already given an id: its next piece gets none
    emitted.add(1)
    found = markup._decorate_line(line, at, marks, emitted)
    assert found == reference_decorate_line(line, at, marks, expected_emitted)
    assert emitted == expected_emitted
