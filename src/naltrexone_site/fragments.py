"""Small HTML pieces that appear on many pages: badges and claim list items.

A claim's list item shows up on its mechanism pages, the dose view, its sources' pages,
the browse list and every related claim's page. Rendering it through a Jinja macro (or
even `Markup.format`) at each place cost most of the build at 10,000 claims, so each
piece is built here once per (value, root) with plain string formatting and reused.
Every value from the registry goes through `esc`; what templates get is `Markup`, so they
output it as it is. Pieces are kept as plain str: a Markup inside an f-string or a join
is copied first (a microsecond for a list item, as much as the rest of placing it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from markupsafe import Markup, escape

from .analysis import supporting_kinds
from .markup import plain
from .models import Claim, Source, Term
from .pages import Marks, SourceClaim


def _escape_str(text: str) -> str:
    return str(escape(text))


try:  # markupsafe >= 3: the C function behind its `escape`, taking and giving a str
    from markupsafe._speedups import _escape_inner
except ImportError:  # pragma: no cover (markupsafe 2, or no C extension)
    _escape_inner = _escape_str

# HTML-escape text: the same bytes as `markupsafe.escape` (and so as Jinja's autoescape),
# without making a Markup object for every value; 3 to 5 times faster than five replaces.
esc: Callable[[str], str] = _escape_inner


class Fragments:
    def __init__(
        self,
        terms: Mapping[str, Mapping[str, Term]],
        marks: Mapping[str, Marks],
        sources: Mapping[str, Source],
    ) -> None:
        self.terms = terms
        self.marks = marks
        self.sources = sources
        # A claim's statement as link text. Whole list items are not kept: one per claim
        # and root took 14 MB at 10,000 claims (140 MB at 100,000) to save 40 ms.
        self._titles: dict[str, str] = {}
        self._badges: dict[tuple[str, str, bool, bool, tuple[str, ...], str], str] = {}
        self._pieces: dict[tuple[str, str, str], Markup] = {}
        # source kind -> its place in the taxonomy, the order of a claim's source badges
        self._kind_rank = {kind: n for n, kind in enumerate(terms["source_kinds"])}

    @staticmethod
    def _badge(root: str, anchor: str, classes: str, inner: str) -> Markup:
        return Markup(
            f'<a class="badge {classes}" href="{root}methodology.html#{anchor}">{inner}</a>'
        )

    def _term(self, family: str, term_id: str, root: str) -> Markup:
        """The badge of a taxonomy term, made once per (family, term, root)."""
        key = (family, term_id, root)
        found = self._pieces.get(key)
        if found is None:
            names, make = _TERM_BADGES[family]
            t = self.terms[names][term_id]
            anchor, classes, inner = make(t)
            found = self._pieces[key] = self._badge(root, anchor, classes, inner)
        return found

    def dose(self, dose: str, root: str) -> Markup:
        return self._term("dose", dose, root)

    def strength(self, strength: str, root: str) -> Markup:
        return self._term("strength", strength, root)

    def kind(self, kind: str, root: str) -> Markup:
        return self._term("kind", kind, root)

    def said_by(self, kind: str, root: str) -> Markup:
        """`kind` in a claim's badges: the kind of a source that supports the claim."""
        return self._term("said_by", kind, root)

    def stance(self, stance: str, root: str) -> Markup:
        return self._term("stance", stance, root)

    def corroboration(self, n: int, root: str) -> Markup:
        inner = f"{n} supporting source{'s' if n != 1 else ''}"
        return self._badge(root, "corroboration", "corroboration", inner)

    def contested(self, root: str) -> Markup:
        inner = '<span class="sym" aria-hidden="true">!</span> Contested'
        return self._badge(root, "contested", "contested", inner)

    def overstated(self, root: str) -> Markup:
        inner = '<span class="sym" aria-hidden="true">^</span> Overstated'
        return self._badge(root, "overstated", "overstated", inner)

    def badges(self, claim: Claim, root: str) -> Markup:
        """Dose, strength, the kind of each source that supports the claim (in a list,
        whether a claim rests on a vendor's page or an SEO article is part of what it is
        worth), then contested or overstated when they apply."""
        return Markup(self._badges_of(claim, root))

    def _badges_of(self, claim: Claim, root: str) -> str:
        marks = self.marks[claim.id]
        kinds = supporting_kinds(claim, self.sources, self._kind_rank)
        key = (claim.dose, claim.strength, marks.contested, marks.overstated, kinds, root)
        found = self._badges.get(key)
        if found is None:
            parts = [self.dose(claim.dose, root), self.strength(claim.strength, root)]
            parts += [self.said_by(kind, root) for kind in kinds]
            if marks.contested:
                parts.append(self.contested(root))
            if marks.overstated:
                parts.append(self.overstated(root))
            found = self._badges[key] = f'<span class="badges">{" ".join(parts)}</span>'
        return found

    def item(self, claim: Claim, root: str) -> Markup:
        """A claim in a list: its statement as a link to its page, then its badges."""
        return Markup(self.line(claim, root)[:-1])

    def line(self, claim: Claim, root: str) -> str:
        """`item`, and a line break: one line of `items`."""
        return (
            f'<li class="claim-item"><a class="claim-link" href="{esc(root)}claims/'
            f'{esc(claim.id)}.html">{self._title(claim)}</a> '
            f"{self._badges_of(claim, root)}</li>\n"
        )

    def _title(self, claim: Claim) -> str:
        found = self._titles.get(claim.id)
        if found is None:
            found = self._titles[claim.id] = esc(plain(claim.statement))
        return found

    def items(self, claims: Iterable[Claim], root: str) -> Markup:
        """`item` of each claim, one per line: a list's lines in one call from a template
        (per item, a Jinja call and its escaping cost more than the item)."""
        return Markup("".join([self.line(claim, root) for claim in claims]))

    def source_claims(
        self,
        found: Iterable[SourceClaim],
        source_id: str,
        targets: Mapping[tuple[str, int], str],
        root: str,
    ) -> Markup:
        """`source_claim` of each claim, one per line."""
        return Markup(
            "".join([f"{self._source_claim(f, source_id, targets, root)}\n" for f in found])
        )

    def source_claim(
        self, found: SourceClaim, source_id: str, targets: Mapping[tuple[str, int], str], root: str
    ) -> Markup:
        """A claim on its source's page: its item, then each quote with a link to where it
        is in the text (hundreds per source page, so built here rather than in Jinja)."""
        return Markup(self._source_claim(found, source_id, targets, root))

    def _source_claim(
        self, found: SourceClaim, source_id: str, targets: Mapping[tuple[str, int], str], root: str
    ) -> str:
        claim = found.claim
        quotes = "".join(
            f"<li><q>{esc(item.quote)}</q> {self.stance(item.stance, root)} "
            f'<a href="{root}sources/{source_id}.html#{esc(targets[(claim.id, index)])}">'
            'Passage<span class="vh"> in the text</span></a></li>\n'
            for index, item, _ in found.items
        )
        return (
            f'<li class="claim-item"><a class="claim-link" href="{root}claims/{claim.id}.html">'
            f"{self._title(claim)}</a> {self._badges_of(claim, root)}\n"
            f'<ul class="quotes">\n{quotes}</ul>\n</li>'
        )

    def side(self, claim: Claim, label: str, root: str) -> Markup:
        """One side of a contradiction: the claim, its badges and its quotes (the conflicts
        page, the dose view and claim pages show hundreds)."""
        quotes = "".join(
            f'<li><blockquote class="quote"><p>{esc(e.quote)}</p></blockquote>\n'
            f'<p class="attribution">{self.stance(e.stance, root)} <a href="{root}sources/'
            f'{esc(e.source)}.html">{esc(self.sources[e.source].title)}</a></p></li>\n'
            for e in claim.evidence
        )
        return Markup(
            '<div class="side">\n'
            f'<p class="side-label">{esc(label)}</p>\n'
            f'<p class="side-claim"><a href="{root}claims/{esc(claim.id)}.html">'
            f"{self._title(claim)}</a></p>\n"
            f"{self._badges_of(claim, root)}\n"
            f'<ul class="quotes">\n{quotes}</ul>\n'
            "</div>"
        )


# Each family of term badge: its taxonomy list, and the term's anchor in the legend, the
# badge's classes and its inner HTML. A visually hidden prefix says what a badge in a
# claim's row of badges is about.
_TERM_BADGES: dict[str, tuple[str, Callable[[Term], tuple[str, str, str]]]] = {
    "dose": (
        "doses",
        lambda t: (
            f"dose-{t.id}",
            f"dose dose-{t.id}",
            f'<span class="vh">Dose: </span>{esc(t.short or t.label)}',
        ),
    ),
    "strength": (
        "strengths",
        lambda t: (
            f"strength-{t.id}",
            f"strength st-{t.id}",
            f'<span class="letter" aria-hidden="true">{esc(t.letter)}</span>'
            f'<span class="vh">Strength: </span> {esc(t.label)}',
        ),
    ),
    "kind": ("source_kinds", lambda t: (f"kind-{t.id}", "kind", esc(t.label))),
    "said_by": (
        "source_kinds",
        lambda t: (f"kind-{t.id}", "kind", f'<span class="vh">Source: </span>{esc(t.label)}'),
    ),
    "stance": (
        "stances",
        lambda t: (f"stance-{t.id}", f"stance stance-{t.id}", esc(t.label)),
    ),
}
