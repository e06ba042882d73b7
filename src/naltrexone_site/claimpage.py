"""The body of a claim page, as a string.

A registry has one claim page per claim: 10,000 and more. Through Jinja, a claim page
cost about 0.3 ms in per-expression overhead (escaping, attribute lookups, macro calls),
most of a build at that size, so the page's <article> is built here with plain string
formatting (about 30 microseconds), and `templates/claim.html` is the frame around it
(head, header, footer), rendered once per build by `render.py`. Every value from the
registry goes through `esc`, or is Markup made by `markup` or `fragments`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .fragments import Fragments, esc
from .history import History
from .markup import block, inline, plain
from .models import Claim, Evidence, Source, Term
from .pages import Marks

ROOT = "../"  # every claim page is claims/<id>.html


@dataclass(frozen=True)
class EvidenceView:
    """One evidence item as a claim page shows it."""

    index: int
    item: Evidence
    source: Source
    before: str  # the source's words around the quote, in the same paragraph
    quoted: str  # the source's own words for the quote
    after: str
    target: str  # the id of the passage on the source page
    cites: tuple[tuple[int, str], ...]  # (number, reference) from the source's list
    flat: bool  # the claim is overstated and this passage supports it without any hedge


_FLAT_NOTE = (
    '<p class="flat-note">Worded without any hedge (“may”, “is thought to”), more certain '
    "than the grade.</p>"
)


class ClaimArticle:
    """Builds the <article> of claim pages; one per build, shared by all of them."""

    def __init__(
        self,
        terms: Mapping[str, Mapping[str, Term]],
        sources: Mapping[str, Source],
        claims: Mapping[str, Claim],
        marks: Mapping[str, Marks],
        frag: Fragments,
        edit_base: str,
        history: History | None = None,
        commit_base: str = "",
    ) -> None:
        self.terms = terms
        self.sources = sources
        self.claims = claims
        self.marks = marks
        self.frag = frag
        self.edit_base = edit_base
        self.history = history or {}
        self.commit_base = commit_base

    def __call__(self, claim: Claim, evidence: Sequence[EvidenceView]) -> str:
        terms, frag, mk = self.terms, self.frag, self.marks[claim.id]
        mechanisms = terms["mechanisms"]
        column = "standard" if claim.dose == "both" else claim.dose
        crumbs = "".join(
            f' <span aria-hidden="true">/</span> <a href="{ROOT}mechanisms/{esc(m)}.html'
            f'#dose-{esc(column)}">{esc(mechanisms[m].label)}</a>'
            for m in claim.mechanism
        )
        badges = f"{frag.dose(claim.dose, ROOT)} {frag.strength(claim.strength, ROOT)} "
        badges += str(frag.corroboration(mk.corroboration, ROOT))
        if mk.contested:
            badges += f" {frag.contested(ROOT)}"
        if mk.overstated:
            badges += f" {frag.overstated(ROOT)}"
        mech_links = ", ".join(
            f'<a href="{ROOT}mechanisms/{esc(m)}.html">{esc(mechanisms[m].label)}</a>'
            for m in claim.mechanism
        )
        st = terms["strengths"][claim.strength]
        out = [
            '<article class="claim">\n'
            f'<p class="breadcrumb">Claim{crumbs}</p>\n'
            f'<h1 class="statement">{inline(claim.statement, ROOT)}</h1>\n'
            f'<p class="badges-row">{badges}</p>\n'
            '<dl class="facts">\n'
            f'<div><dt>Kind</dt><dd><a href="{ROOT}methodology.html#claim-kind-'
            f'{esc(claim.kind)}">{esc(terms["claim_kinds"][claim.kind].label)}</a></dd></div>\n'
            f"<div><dt>Mechanism or topic</dt><dd>{mech_links}</dd></div>\n"
            f"<div><dt>Dose</dt><dd>{esc(terms['doses'][claim.dose].label)}</dd></div>\n"
            f"<div><dt>Strength</dt><dd>{esc(st.label)} (GRADE: {esc(st.grade)}). "
            f"Worded as: “{esc(st.wording)}”.</dd></div>\n"
        ]
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
            out.append(self._evidence(ev))
        out.append("</ol>\n</section>\n\n")
        if mk.contradictions:
            out.append(
                '<section aria-labelledby="contradictions">\n'
                '<h2 id="contradictions">Contradicting claims</h2>\n'
            )
            for other in mk.contradictions:
                out.append(
                    '<div class="side-by-side">\n'
                    f"{self.side(claim, 'This claim')}\n"
                    f"{self.side(self.claims[other], 'Contradicted by')}\n"
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
            for other in mk.related:
                out.append(f"{frag.item(self.claims[other], ROOT)}\n")
            out.append("</ul>\n</section>\n")
        if changes:
            out.append(
                '<section aria-labelledby="history">\n'
                '<h2 id="history">History</h2>\n<ol class="history">\n'
                + "".join(
                    f'<li><time datetime="{esc(c.date)}">{esc(c.date)}</time> '
                    f'<a href="{esc(self.commit_base)}{esc(c.commit)}">{esc(c.subject)}</a></li>\n'
                    for c in changes
                )
                + "</ol>\n</section>\n"
            )
        cid = esc(claim.id)
        out.append(
            f'\n<p class="edit"><a href="{esc(self.edit_base)}{cid}.yaml">Edit this claim</a> '
            f"(the file <code>claims/{cid}.yaml</code> in the repository). Data: "
            f'<a href="{ROOT}claims.json">claims.json</a>.</p>\n'
            "</article>\n"
        )
        return "".join(out)

    def _evidence(self, ev: EvidenceView) -> str:
        frag, source = self.frag, ev.source
        sid, title = esc(source.id), esc(source.title)
        commercial = (
            f' <a class="badge commercial" href="{ROOT}methodology.html#commercial-interest">'
            "Commercial interest</a>"
            if source.commercial_interest
            else ""
        )
        cites = ""
        if ev.cites:
            cites = (
                '<p class="cites-label">The article cites for this:</p>\n<ul class="cites">\n'
                + "".join(
                    f'<li><a href="{ROOT}sources/{sid}.html#ref-{n}">[{n}]</a> {esc(ref)}</li>\n'
                    for n, ref in ev.cites
                )
                + "</ul>\n"
            )
        return (
            f'<li class="evidence-item stance-{esc(ev.item.stance)}" '
            f'id="evidence-{ev.index + 1}">\n'
            f'<h3 class="evidence-source"><a href="{ROOT}sources/{sid}.html">{title}</a></h3>\n'
            f'<p class="badges">{frag.kind(source.kind, ROOT)} '
            f"{frag.stance(ev.item.stance, ROOT)}{commercial}</p>\n"
            f'<blockquote class="quote"><p>{esc(ev.item.quote)}</p></blockquote>\n'
            f'<p class="context"><span class="context-label">In context:</span> '
            f"{esc(ev.before)}<mark>{esc(ev.quoted)}</mark>{esc(ev.after)}</p>\n"
            f"{_FLAT_NOTE if ev.flat else ''}{cites}"
            f'<p><a class="passage-link" href="{ROOT}sources/{sid}.html#{esc(ev.target)}">'
            f'Read the passage in the source<span class="vh">: {title}</span></a></p>\n'
            "</li>\n"
        )

    def side(self, claim: Claim, label: str) -> str:
        """One side of a contradiction: as `macros.claim_side` renders it."""
        frag = self.frag
        quotes = "".join(
            f'<li><blockquote class="quote"><p>{esc(e.quote)}</p></blockquote>\n'
            f'<p class="attribution">{frag.stance(e.stance, ROOT)} <a href="{ROOT}sources/'
            f'{esc(e.source)}.html">{esc(self.sources[e.source].title)}</a></p></li>\n'
            for e in claim.evidence
        )
        return (
            '<div class="side">\n'
            f'<p class="side-label">{esc(label)}</p>\n'
            f'<p class="side-claim"><a href="{ROOT}claims/{esc(claim.id)}.html">'
            f"{esc(plain(claim.statement))}</a></p>\n"
            f"{frag.badges(claim, ROOT)}\n"
            f'<ul class="quotes">\n{quotes}</ul>\n'
            "</div>"
        )
