"""The body of a claim page, as a string.

A registry has one claim page per claim: 10,000 and more. Through Jinja, a claim page
cost about 0.3 ms in per-expression overhead (escaping, attribute lookups, macro calls),
most of a build at that size, so the page's <article> is built here with plain string
formatting, and `templates/claim.html` is the frame around it (head, header, footer),
rendered once per build by `render.py`. What many claims share (the breadcrumb, badges
and facts of a mechanism, dose and strength; a source's heading and links) is built
once and reused. Every value from the registry goes through `esc`, or is Markup made by
`markup` or `fragments`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from .analysis import WEAK_GRADES
from .fragments import Fragments, esc
from .history import History
from .markup import block, inline
from .models import Claim, Evidence, Source, Term
from .pages import Marks

ROOT = "../"  # every claim page is claims/<id>.html


class EvidenceView(NamedTuple):
    """One evidence item as a claim page shows it (a tuple: made for every quote of
    every claim, four times faster than a frozen dataclass)."""

    number: int  # its position in the claim, from 1: the id "evidence-<number>"
    item: Evidence
    source: Source
    before: str  # the source's words around the quote, in the same paragraph
    quoted: str  # the source's own words for the quote
    after: str
    target: str  # the id of the passage on the source page
    cites: tuple[tuple[int, str], ...]  # (number, reference) from the source's list
    flat: bool  # the claim is overstated and this passage states it flatly (analysis.flat)


# A weak grade beside a claim read as a verdict on it ("GRADE: Very low" beside a risk).
_NOT_A_VERDICT = (
    " The grade is of the evidence the articles give: it is not a finding that the claim is false."
)
_FLAT_NOTE = (
    '<p class="flat-note">Stated as fact (without a hedge such as “may” or “is thought to”, '
    "or as “has been shown to”), more certain than the grade.</p>"
)


class ClaimArticle:
    """Builds the <article> of claim pages; one per build, shared by all of them."""

    def __init__(
        self,
        terms: Mapping[str, Mapping[str, Term]],
        claims: Mapping[str, Claim],
        marks: Mapping[str, Marks],
        frag: Fragments,
        edit_base: str,
        history: History | None = None,
        commit_base: str = "",
    ) -> None:
        self.terms = terms
        self.claims = claims
        self.marks = marks
        self.frag = frag
        self.edit_base = edit_base
        self.history = history or {}
        self.commit_base = commit_base
        self._edit_base = esc(edit_base)
        self._heads: dict[tuple[tuple[str, ...], str], str] = {}
        self._facts: dict[tuple[object, ...], str] = {}
        self._items: dict[tuple[str, str], tuple[str, str, str, str]] = {}

    def __call__(self, claim: Claim, evidence: Sequence[EvidenceView]) -> str:
        frag, mk = self.frag, self.marks[claim.id]
        column = "standard" if claim.dose == "both" else claim.dose
        key = (claim.mechanism, column)
        head = self._heads.get(key)
        if head is None:
            head = self._heads[key] = self._head(claim.mechanism, column)
        facts_key = (
            claim.kind,
            claim.mechanism,
            claim.dose,
            claim.strength,
            mk.corroboration,
            mk.contested,
            mk.overstated,
        )
        facts = self._facts.get(facts_key)
        if facts is None:
            facts = self._facts[facts_key] = self._facts_of(claim, mk)
        out = [head, inline(claim.statement, ROOT), facts]
        if claim.conditions:
            out.append(f"<div><dt>Conditions</dt><dd>{esc(', '.join(claim.conditions))}</dd></div>")
        if claim.reviewed:
            out.append(f"<div><dt>Last reviewed</dt><dd>{claim.reviewed.isoformat()}</dd></div>")
        changes = self.history.get(claim.id, ())
        if changes:
            out.append(
                f"<div><dt>Last changed</dt><dd>{esc(changes[0].date)} "
                '(<a href="#history">history</a>)</dd></div>'
            )
        out.append("</dl>\n")
        if claim.note:
            out.append(
                '<section class="note" aria-labelledby="note">\n'
                '<h2 id="note">Editor’s note</h2>\n'
                f'<div class="prose">{block(claim.note, ROOT)}</div>\n'
                "</section>\n"
            )
        n = len(evidence)
        out.append(
            '\n<section aria-labelledby="evidence">\n'
            f'<h2 id="evidence">Evidence <span class="count-note">({n} passage'
            f"{'s' if n != 1 else ''})</span></h2>\n"
            '<ol class="evidence">\n'
        )
        for ev in evidence:
            self._evidence(ev, out)
        out.append("</ol>\n</section>\n\n")
        if mk.contradictions:
            out.append(
                '<section aria-labelledby="contradictions">\n'
                '<h2 id="contradictions">Contradicting claims</h2>\n'
            )
            for other in mk.contradictions:
                out.append(
                    '<div class="side-by-side">\n'
                    f"{frag.side(claim, 'This claim', ROOT)}\n"
                    f"{frag.side(self.claims[other], 'Contradicted by', ROOT)}\n"
                    "</div>\n"
                )
            out.append("</section>\n")
        out.append("\n")
        if mk.related:
            out.append(
                '<section aria-labelledby="related">\n'
                '<h2 id="related">Related claims</h2>\n'
                '<ul class="claims">\n'
            )
            out.append(frag.items([self.claims[other] for other in mk.related], ROOT))
            out.append("</ul>\n</section>\n")
        if changes:
            out.append(
                '<section aria-labelledby="history">\n'
                '<h2 id="history">History</h2>\n<ol class="history">\n'
                + "".join(
                    f'<li><time datetime="{esc(c.date)}">{esc(c.date)}</time> '
                    f'<a href="{esc(self.commit_base)}{esc(c.commit)}">'
                    f"{'Added to the registry' if c.added else esc(c.subject)}</a></li>\n"
                    for c in changes
                )
                + "</ol>\n</section>\n"
            )
        cid = esc(claim.id)
        out.append(
            f'\n<p class="edit"><a href="{self._edit_base}{cid}.yaml">Edit this claim</a> '
            f"(the file <code>claims/{cid}.yaml</code> in the repository). Data: "
            f'<a href="{ROOT}claims.json">claims.json</a>.</p>\n'
            "</article>\n"
        )
        return "".join(out)

    def _head(self, mechanism: tuple[str, ...], column: str) -> str:
        """From <article> to the statement: the breadcrumb of the claim's mechanisms."""
        labels = self.terms["mechanisms"]
        crumbs = "".join(
            f' <span aria-hidden="true">/</span> <a href="{ROOT}mechanisms/{esc(m)}.html'
            f'#dose-{esc(column)}">{esc(labels[m].label)}</a>'
            for m in mechanism
        )
        return (
            '<article class="claim">\n'
            f'<p class="breadcrumb">Claim{crumbs}</p>\n'
            '<h1 class="statement">'
        )

    def _facts_of(self, claim: Claim, mk: Marks) -> str:
        """From the end of the statement to the strength: badges and facts."""
        terms, frag = self.terms, self.frag
        badges = f"{frag.dose(claim.dose, ROOT)} {frag.strength(claim.strength, ROOT)} "
        badges += str(frag.corroboration(mk.corroboration, ROOT))
        if mk.contested:
            badges += f" {frag.contested(ROOT)}"
        if mk.overstated:
            badges += f" {frag.overstated(ROOT)}"
        mech_links = ", ".join(
            f'<a href="{ROOT}mechanisms/{esc(m)}.html">{esc(terms["mechanisms"][m].label)}</a>'
            for m in claim.mechanism
        )
        st = terms["strengths"][claim.strength]
        return (
            "</h1>\n"
            f'<p class="badges-row">{badges}</p>\n'
            '<dl class="facts">\n'
            f'<div><dt>Kind</dt><dd><a href="{ROOT}methodology.html#claim-kind-'
            f'{esc(claim.kind)}">{esc(terms["claim_kinds"][claim.kind].label)}</a></dd></div>\n'
            f"<div><dt>Mechanism or topic</dt><dd>{mech_links}</dd></div>\n"
            f"<div><dt>Dose</dt><dd>{esc(terms['doses'][claim.dose].label)}</dd></div>\n"
            f"<div><dt>Strength</dt><dd>{esc(st.label)} (GRADE: {esc(st.grade)}). "
            f"Claims of this grade read: “{esc(st.wording)}”."
            f"{_NOT_A_VERDICT if claim.strength in WEAK_GRADES else ''}</dd></div>\n"
        )

    def _evidence(self, ev: EvidenceView, out: list[str]) -> None:
        source, stance = ev.source, ev.item.stance
        key = (source.id, stance)
        parts = self._items.get(key)
        if parts is None:
            parts = self._items[key] = self._item_parts(source, stance)
        opening, heading, link, closing = parts
        out += (
            opening,
            str(ev.number),
            heading,
            esc(ev.item.quote),
            '</p></blockquote>\n<p class="context"><span class="context-label">In context:</span> ',
            esc(ev.before),
            "<mark>",
            esc(ev.quoted),
            "</mark>",
            esc(ev.after),
            "</p>\n",
        )
        if ev.flat:
            out.append(_FLAT_NOTE)
        if ev.cites:
            sid = esc(source.id)
            out.append(
                '<p class="cites-label">The article cites for this:</p>\n<ul class="cites">\n'
                + "".join(
                    f'<li><a href="{ROOT}sources/{sid}.html#ref-{n}">[{n}]</a> {esc(ref)}</li>\n'
                    for n, ref in ev.cites
                )
                + "</ul>\n"
            )
        out += (link, esc(ev.target), closing)

    def _item_parts(self, source: Source, stance: str) -> tuple[str, str, str, str]:
        """An evidence item's markup around its number, quote, context and passage id:
        the same for every quote of one source with one stance."""
        frag = self.frag
        sid, title = esc(source.id), esc(source.title)
        commercial = (
            f' <a class="badge commercial" href="{ROOT}methodology.html#commercial-interest">'
            "Commercial interest</a>"
            if source.commercial_interest
            else ""
        )
        return (
            f'<li class="evidence-item stance-{esc(stance)}" id="evidence-',
            '">\n'
            f'<h3 class="evidence-source"><a href="{ROOT}sources/{sid}.html">{title}</a></h3>\n'
            f'<p class="badges">{frag.kind(source.kind, ROOT)} '
            f"{frag.stance(stance, ROOT)}{commercial}</p>\n"
            '<blockquote class="quote"><p>',
            f'<p><a class="passage-link" href="{ROOT}sources/{sid}.html#',
            f'">Read the passage in the source<span class="vh">: {title}</span></a></p>\n</li>\n',
        )
