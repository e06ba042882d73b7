"""The site's data outputs: claims.json, claims.csv, the search index, sitemap.xml,
robots.txt and each claim page's JSON-LD. Strings only; no file writes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from .analysis import supporting_kinds
from .markup import plain
from .models import Claim, Evidence
from .pages import Site

# json.dumps(x, ensure_ascii=False, separators=(",", ":")), without making an encoder per call
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_STR = json.encoder.encode_basestring  # a str as json.dumps(..., ensure_ascii=False) writes it


def _base(site: Site) -> str:
    return site.registry.settings.base_url.rstrip("/") + "/"


def claim_record(site: Site, claim: Claim) -> dict[str, Any]:
    """Every field of a claim as written, then its derived marks."""
    marks = site.marks[claim.id]
    return {
        "id": claim.id,
        "statement": claim.statement,
        "kind": claim.kind,
        "mechanism": list(claim.mechanism),
        "dose": claim.dose,
        "strength": claim.strength,
        "evidence": [
            {"source": e.source, "quote": e.quote, "stance": e.stance, "cites": list(e.cites)}
            for e in claim.evidence
        ],
        "contradicts": list(claim.contradicts),
        "related": list(claim.related),
        "conditions": list(claim.conditions),
        "note": claim.note,
        "reviewed": claim.reviewed.isoformat() if claim.reviewed else None,
        "corroboration": marks.corroboration,
        "contested": marks.contested,
        "overstated": marks.overstated,
        "in_conflict_with": list(marks.contradictions),
        "related_both_ways": list(marks.related),
        "url": f"{_base(site)}claims/{claim.id}.html",
    }


CSV_COLUMNS = (
    "id",
    "statement",
    "kind",
    "mechanism",
    "dose",
    "strength",
    "corroboration",
    "contested",
    "overstated",
    "sources",
    "evidence",
    "contradicts",
    "related",
    "in_conflict_with",
    "conditions",
    "note",
    "reviewed",
    "url",
)


# Per claim: its line of claims.json, its row of claims.csv, its entry in the search index.
Rows = tuple[str, str, str]
Encoded = tuple[bytes, bytes, bytes]
_CSV_HEADER = ",".join(CSV_COLUMNS) + "\n"


def claim_rows(site: Site, claim: Claim, index: SearchCodes) -> Rows:
    """A claim's part of each download, from its record (`claim_record`): its line of
    claims.json is json.dumps(record, ensure_ascii=False); its CSV row has the record's
    values in CSV_COLUMNS, lists joined with "; ", the evidence as that JSON array.

    Written out field by field, strings through json's own C string encoder: a third as
    costly as encoding the record, whose every call sets up an encoder (tests hold the
    two equal)."""
    marks = site.marks[claim.id]
    url = f"{_base(site)}claims/{claim.id}.html"
    reviewed = claim.reviewed.isoformat() if claim.reviewed else None
    evidence = "[" + ", ".join([_evidence_json(e) for e in claim.evidence]) + "]"
    line = (
        f'{{"id": {_STR(claim.id)}, "statement": {_STR(claim.statement)}, '
        f'"kind": {_STR(claim.kind)}, "mechanism": {_strings(claim.mechanism)}, '
        f'"dose": {_STR(claim.dose)}, "strength": {_STR(claim.strength)}, '
        f'"evidence": {evidence}, "contradicts": {_strings(claim.contradicts)}, '
        f'"related": {_strings(claim.related)}, "conditions": {_strings(claim.conditions)}, '
        f'"note": {_optional(claim.note)}, "reviewed": {_optional(reviewed)}, '
        f'"corroboration": {marks.corroboration}, "contested": {_flag(marks.contested)}, '
        f'"overstated": {_flag(marks.overstated)}, '
        f'"in_conflict_with": {_strings(marks.contradictions)}, '
        f'"related_both_ways": {_strings(marks.related)}, "url": {_STR(url)}}}'
    )
    row = csv_row(
        [
            claim.id,
            claim.statement,
            claim.kind,
            "; ".join(claim.mechanism),
            claim.dose,
            claim.strength,
            str(marks.corroboration),
            _flag(marks.contested),
            _flag(marks.overstated),
            "; ".join(sorted({e.source for e in claim.evidence})),
            evidence,
            "; ".join(claim.contradicts),
            "; ".join(claim.related),
            "; ".join(marks.contradictions),
            "; ".join(claim.conditions),
            claim.note or "",
            reviewed or "",
            url,
        ]
    )
    # [id, statement, mechanisms, dose, strength, sources, contested, more text,
    # overstated, kinds of the supporting sources], compact
    mechanisms = ",".join([str(index.mechanisms[m]) for m in dict.fromkeys(claim.mechanism)])
    sources = ",".join(map(str, sorted({index.sources[e.source] for e in claim.evidence})))
    kinds = ",".join(
        [str(index.kinds[k]) for k in supporting_kinds(claim, site.sources, index.kinds)]
    )
    entry = (
        f"[{_STR(claim.id)},{_STR(plain(claim.statement))},[{mechanisms}],"
        f"{index.doses[claim.dose]},{index.strengths[claim.strength]},[{sources}],"
        f"{int(marks.contested)},{_STR(' '.join((claim.id, *claim.conditions)))},"
        f"{int(marks.overstated)},[{kinds}]]"
    )
    return line, row, entry


def _evidence_json(e: Evidence) -> str:
    return (
        f'{{"source": {_STR(e.source)}, "quote": {_STR(e.quote)}, "stance": {_STR(e.stance)}, '
        f'"cites": [{", ".join(map(str, e.cites))}]}}'
    )


def _strings(values: Iterable[str]) -> str:
    return "[" + ", ".join(map(_STR, values)) + "]"


def _optional(value: str | None) -> str:
    return "null" if value is None else _STR(value)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def encoded_rows(site: Site, claim: Claim, index: SearchCodes) -> Encoded:
    """`claim_rows` as UTF-8, as the download files hold them (and the cache keeps them:
    the files are then joined from bytes, without encoding 20 MB again at 10,000 claims)."""
    line, row, entry = claim_rows(site, claim, index)
    return line.encode(), row.encode(), entry.encode()


class Frame(NamedTuple):
    """What a download file holds around its rows, and between two of them."""

    path: str
    head: bytes
    separator: bytes
    tail: bytes


def frames(site: Site) -> tuple[Frame, Frame, Frame]:
    """claims.json (a JSON array, one claim per line), claims.csv (one row per claim; lists
    joined with '; ', the evidence items as a JSON array) and the search index: in the
    order of a claim's rows (`Encoded`)."""
    head, tail = _search_index_frame(site)
    return (
        Frame("claims.json", b"[\n", b",\n", b"\n]\n"),
        Frame("claims.csv", _CSV_HEADER.encode(), b"", b""),
        Frame("search-index.js", head.encode(), b",", tail.encode()),
    )


def downloads(site: Site, rows: Sequence[Encoded]) -> Iterator[tuple[str, Iterator[bytes]]]:
    """The download files (see `frames`), from every claim's rows in id order; each file
    in pieces of a few thousand rows, made as they are written (at 100,000 claims a file
    joined whole would be 100 MB more in memory)."""
    for n, frame in enumerate(frames(site)):
        items = [r[n] for r in rows]
        yield frame.path, _joined(frame.head, items, frame.separator, frame.tail)


def _joined(
    head: bytes, items: Sequence[bytes], separator: bytes, tail: bytes, size: int = 2048
) -> Iterator[bytes]:
    """head + separator.join(items) + tail, `size` items at a time."""
    yield head
    for start in range(0, len(items), size):
        piece = separator.join(items[start : start + size])
        yield separator + piece if start else piece
    yield tail


def csv_row(cells: Sequence[str]) -> str:
    """One CSV line as `csv.writer(f, lineterminator="\\n").writerow(cells)` writes it, a
    third as costly: a cell with a comma or a quote is quoted, its quotes doubled. Line
    breaks and NUL, which that writer has treated differently across Python versions, are
    left to it."""
    joined = "".join(cells)
    if len(cells) < 2 or "\n" in joined or "\r" in joined or "\0" in joined:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(cells)
        return buffer.getvalue()
    quoted = ('"' + c.replace('"', '""') + '"' if "," in c or '"' in c else c for c in cells)
    return ",".join(quoted) + "\n"


@dataclass(frozen=True)
class SearchCodes:
    """The search index refers to taxonomy terms and sources by their position."""

    mechanisms: Mapping[str, int]
    doses: Mapping[str, int]
    strengths: Mapping[str, int]
    sources: Mapping[str, int]
    kinds: Mapping[str, int]  # source kinds

    @classmethod
    def of(cls, site: Site) -> SearchCodes:
        taxonomy = site.registry.taxonomy
        return cls(
            {t.id: i for i, t in enumerate(taxonomy.mechanisms)},
            {t.id: i for i, t in enumerate(taxonomy.doses)},
            {t.id: i for i, t in enumerate(taxonomy.strengths)},
            {sid: i for i, sid in enumerate(site.sources)},
            {t.id: i for i, t in enumerate(taxonomy.source_kinds)},
        )


def _search_index_frame(site: Site) -> tuple[str, str]:
    """The search index before and after its claims' entries."""
    taxonomy = site.registry.taxonomy
    data = {
        "mechanisms": [[t.id, t.label] for t in taxonomy.mechanisms],
        "doses": [[t.id, t.short or t.label, t.label] for t in taxonomy.doses],
        "strengths": [[t.id, t.letter, t.label] for t in taxonomy.strengths],
        "sources": [[s.id, s.title] for s in site.sources.values()],
        "kinds": [[t.id, t.label] for t in taxonomy.source_kinds],
        # id, statement, mechanisms, dose, strength, sources, contested, more searchable
        # text, overstated, kinds of the supporting sources
        "claims": [],
    }
    head = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return (
        "// Generated by `python build.py`: the claims that static/search.js searches.\n"
        f"window.NALTREXONE_SEARCH = {head.removesuffix('[]}')}[",
        "]};\n",
    )


def _xml(text: str) -> str:
    """Escape &, < and > (as xml.sax.saxutils.escape does, without importing urllib)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


# One sitemap file lists at most 50,000 URLs in at most 50 MB (sitemaps.org); past that,
# sitemap.xml is an index of files that each keep within both. A search engine ignores
# a sitemap over the limits, and at 100,000 claims the site has some 102,000 pages.
SITEMAP_URLS = 50_000
SITEMAP_BYTES = 50 * 1024 * 1024
_URL_LINE = len("<url><loc></loc></url>\n")
_URLSET = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
)


def sitemap_files(base: str, paths: Sequence[str]) -> tuple[str, ...]:
    """The sitemap's files for these pages: sitemap.xml alone, or that (an index) and
    sitemap-1.xml, sitemap-2.xml, ... Known before any is made: they are a job's paths."""
    per = _urls_per_file(base, paths)
    listed = len(paths) - ("404.html" in paths)
    count = -(-listed // per)
    if count <= 1:
        return ("sitemap.xml",)
    return ("sitemap.xml", *(f"sitemap-{n}.xml" for n in range(1, count + 1)))


def sitemaps(site: Site, paths: Sequence[str]) -> Iterator[tuple[str, str]]:
    """The files named by `sitemap_files`, in that order: every page but the 404 page,
    sorted, as absolute URLs."""
    base = _base(site)
    urls = [base if p == "index.html" else base + p for p in sorted(paths) if p != "404.html"]
    names = sitemap_files(site.registry.settings.base_url, paths)
    if len(names) == 1:
        yield "sitemap.xml", _urlset(urls)
        return
    per = _urls_per_file(site.registry.settings.base_url, paths)
    parts = [urls[i : i + per] for i in range(0, len(urls), per)]
    entries = "".join(f"<sitemap><loc>{_xml(base + name)}</loc></sitemap>\n" for name in names[1:])
    yield (
        "sitemap.xml",
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{entries}</sitemapindex>\n",
    )
    yield from zip(names[1:], map(_urlset, parts), strict=True)


def _urls_per_file(base: str, paths: Sequence[str]) -> int:
    """How many URLs go in one file: 50,000, fewer if the longest could pass 50 MB (an
    escaped character takes at most 5: "&amp;")."""
    longest = _URL_LINE + 5 * (len(base) + 1 + max(map(len, paths), default=0))
    room = SITEMAP_BYTES - len(_URLSET) - len("</urlset>\n")
    return max(1, min(SITEMAP_URLS, room // longest))


def _urlset(urls: Iterable[str]) -> str:
    lines = "".join(f"<url><loc>{_xml(url)}</loc></url>\n" for url in urls)
    return f"{_URLSET}{lines}</urlset>\n"


def robots(site: Site) -> str:
    return f"User-agent: *\nAllow: /\n\nSitemap: {_base(site)}sitemap.xml\n"


class ClaimJsonLd:
    """Each claim page's JSON-LD: a schema.org MedicalWebPage about a Claim that appears
    in the source articles, compact, as json.dumps writes it. Made for every claim page,
    so written as a string, with what many claims share (the site, each source's
    CreativeWork) encoded once."""

    def __init__(self, site: Site) -> None:
        settings = site.registry.settings
        self.site = site
        self.base = _base(site)
        self.last_reviewed = settings.last_reviewed
        self.language = _inert(_STR(settings.language))
        self.website = _inert(
            _COMPACT({"@type": "WebSite", "name": settings.title, "url": self.base})
        )
        self._works: dict[str, str] = {}

    def __call__(self, claim: Claim, path: str) -> str:
        url = self.base + path
        page, about = _inert(_STR(url)), _inert(_STR(f"{url}#claim"))
        text = _inert(_STR(plain(claim.statement)))
        appearing = [e.source for e in claim.evidence if e.stance != "disputes"] or [
            e.source for e in claim.evidence
        ]
        works = ",".join([self._work(source_id) for source_id in dict.fromkeys(appearing)])
        reviewed = _STR((claim.reviewed or self.last_reviewed).isoformat())
        return (
            '{"@context":"https://schema.org","@graph":[{"@type":"MedicalWebPage",'
            f'"@id":{page},"url":{page},"name":{text},"inLanguage":{self.language},'
            f'"lastReviewed":{reviewed},"mainEntity":{{"@id":{about}}},'
            f'"isPartOf":{self.website}}},{{"@type":"Claim","@id":{about},"text":{text},'
            f'"appearance":[{works}]}}]}}'
        )

    def _work(self, source_id: str) -> str:
        found = self._works.get(source_id)
        if found is None:
            source = self.site.sources[source_id]
            work: dict[str, Any] = {
                "@type": "CreativeWork",
                "name": source.title,
                "url": f"{self.base}sources/{source.id}.html",
            }
            if source.publisher:
                work["publisher"] = {"@type": "Organization", "name": source.publisher}
            if source.published:
                work["datePublished"] = source.published.isoformat()
            found = self._works[source_id] = _inert(_COMPACT(work))
        return found


def _inert(encoded: str) -> str:
    """JSON to put inside <script>: no "</script>", no "<!--", whatever the data says.
    Character by character, so the parts of a document can be made inert one by one."""
    if "<" in encoded or ">" in encoded or "&" in encoded:
        return encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return encoded
