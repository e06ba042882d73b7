"""The site's data outputs: claims.json, claims.csv, the search index, sitemap.xml,
robots.txt and each claim page's JSON-LD. Strings only; no file writes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from .markup import plain
from .models import Claim
from .pages import Site


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
_CSV_HEADER = ",".join(CSV_COLUMNS) + "\n"


def claim_rows(site: Site, claim: Claim, index: SearchCodes) -> Rows:
    """A claim's part of each download: the three are built from one record."""
    record = claim_record(site, claim)
    line = json.dumps(record, ensure_ascii=False)  # the C encoder; `indent` is the slow one
    record["sources"] = sorted({e.source for e in claim.evidence})
    record["evidence"] = json.dumps(record["evidence"], ensure_ascii=False)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(
        _cell(record[column]) for column in CSV_COLUMNS
    )
    entry = [
        claim.id,
        plain(claim.statement),
        [index.mechanisms[m] for m in dict.fromkeys(claim.mechanism)],
        index.doses[claim.dose],
        index.strengths[claim.strength],
        sorted({index.sources[e.source] for e in claim.evidence}),
        int(site.marks[claim.id].contested),
        " ".join((claim.id, *claim.conditions)),
    ]
    return line, buffer.getvalue(), json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


def downloads(site: Site, rows: Sequence[Rows]) -> Iterator[tuple[str, str]]:
    """claims.json (a JSON array, one claim per line), claims.csv (one row per claim; lists
    joined with '; ', the evidence items as a JSON array) and the search index, from every
    claim's rows in id order; one file at a time."""
    yield "claims.json", "[\n" + ",\n".join(r[0] for r in rows) + "\n]\n"
    yield "claims.csv", _CSV_HEADER + "".join(r[1] for r in rows)
    yield "search-index.js", search_index(site, [r[2] for r in rows])


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return "" if value is None else str(value)


@dataclass(frozen=True)
class SearchCodes:
    """The search index refers to taxonomy terms and sources by their position."""

    mechanisms: Mapping[str, int]
    doses: Mapping[str, int]
    strengths: Mapping[str, int]
    sources: Mapping[str, int]

    @classmethod
    def of(cls, site: Site) -> SearchCodes:
        taxonomy = site.registry.taxonomy
        return cls(
            {t.id: i for i, t in enumerate(taxonomy.mechanisms)},
            {t.id: i for i, t in enumerate(taxonomy.doses)},
            {t.id: i for i, t in enumerate(taxonomy.strengths)},
            {sid: i for i, sid in enumerate(site.sources)},
        )


def search_index(site: Site, entries: Sequence[str]) -> str:
    """The claims for search.js, as a script that sets a global: a plain script (unlike a
    fetched JSON file) also loads when the site is opened from file://."""
    taxonomy = site.registry.taxonomy
    data = {
        "mechanisms": [[t.id, t.label] for t in taxonomy.mechanisms],
        "doses": [[t.id, t.short or t.label, t.label] for t in taxonomy.doses],
        "strengths": [[t.id, t.letter, t.label] for t in taxonomy.strengths],
        "sources": [[s.id, s.title] for s in site.sources.values()],
        # id, statement, mechanisms, dose, strength, sources, contested, more searchable text
        "claims": [],
    }
    head = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    body = head.removesuffix("[]}") + "[" + ",".join(entries) + "]}"
    return (
        "// Generated by `python build.py`: the claims that static/search.js searches.\n"
        f"window.NALTREXONE_SEARCH = {body};\n"
    )


def _xml(text: str) -> str:
    """Escape &, < and > (as xml.sax.saxutils.escape does, without importing urllib)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def sitemap(site: Site, paths: Iterable[str]) -> str:
    base = _base(site)
    urls = [base if p == "index.html" else base + p for p in sorted(paths) if p != "404.html"]
    lines = "".join(f"<url><loc>{_xml(url)}</loc></url>\n" for url in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{lines}</urlset>\n"
    )


def robots(site: Site) -> str:
    return f"User-agent: *\nAllow: /\n\nSitemap: {_base(site)}sitemap.xml\n"


def claim_jsonld(site: Site, claim: Claim, path: str) -> Markup:
    """schema.org MedicalWebPage about a Claim that appears in the source articles."""
    settings = site.registry.settings
    base = _base(site)
    url = base + path
    text = plain(claim.statement)
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
            {
                "@type": "Claim",
                "@id": f"{url}#claim",
                "text": text,
                "appearance": works,
            },
        ],
    }
    encoded = json.dumps(graph, ensure_ascii=False, separators=(",", ":"))
    # inside <script>: no "</script>", no "<!--", whatever the data says
    safe = encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(safe)
