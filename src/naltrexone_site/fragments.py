"""Small HTML pieces that appear on many pages: badges and claim list items.

A claim's list item shows up on its mechanism pages, the dose view, its sources' pages,
the browse list and every related claim's page. Rendering it through a Jinja macro (or
even `Markup.format`) at each place cost most of the build at 10,000 claims, so each
piece is built here once per (value, root) with plain string formatting and reused.
Every value from the registry goes through `esc`; the pieces are `Markup`, so templates
output them as they are.
"""

from __future__ import annotations

from collections.abc import Mapping

from markupsafe import Markup

from .markup import plain
from .models import Claim, Term
from .pages import Marks, SourceClaim


def esc(text: str) -> str:
    """HTML-escape text: the same bytes as `markupsafe.escape` (and so as Jinja's
    autoescape), without making a Markup object for every value."""
    return (
        text.replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


class Fragments:
    def __init__(
        self,
        terms: Mapping[str, Mapping[str, Term]],
        marks: Mapping[str, Marks],
    ) -> None:
        self.terms = terms
        self.marks = marks
        self._items: dict[tuple[str, str], Markup] = {}
        self._badges: dict[tuple[str, str], Markup] = {}
        self._pieces: dict[tuple[str, str, str], Markup] = {}

    @staticmethod
    def _badge(root: str, anchor: str, classes: str, inner: str) -> Markup:
        return Markup(
            f'<a class="badge {classes}" href="{root}methodology.html#{anchor}">{inner}</a>'
        )

    def dose(self, dose: str, root: str) -> Markup:
        key = ("dose", dose, root)
        found = self._pieces.get(key)
        if found is None:
            t = self.terms["doses"][dose]
            inner = f'<span class="vh">Dose: </span>{esc(t.short or t.label)}'
            found = self._pieces[key] = self._badge(
                root, f"dose-{t.id}", f"dose dose-{t.id}", inner
            )
        return found

    def strength(self, strength: str, root: str) -> Markup:
        key = ("strength", strength, root)
        found = self._pieces.get(key)
        if found is None:
            t = self.terms["strengths"][strength]
            inner = (
                f'<span class="letter" aria-hidden="true">{esc(t.letter)}</span>'
                f'<span class="vh">Strength: </span> {esc(t.label)}'
            )
            found = self._pieces[key] = self._badge(
                root, f"strength-{t.id}", f"strength st-{t.id}", inner
            )
        return found

    def corroboration(self, n: int, root: str) -> Markup:
        inner = f"{n} supporting source{'s' if n != 1 else ''}"
        return self._badge(root, "corroboration", "corroboration", inner)

    def contested(self, root: str) -> Markup:
        inner = '<span class="sym" aria-hidden="true">!</span> Contested'
        return self._badge(root, "contested", "contested", inner)

    def overstated(self, root: str) -> Markup:
        inner = '<span class="sym" aria-hidden="true">^</span> Overstated'
        return self._badge(root, "overstated", "overstated", inner)

    def kind(self, kind: str, root: str) -> Markup:
        key = ("kind", kind, root)
        found = self._pieces.get(key)
        if found is None:
            t = self.terms["source_kinds"][kind]
            found = self._pieces[key] = self._badge(root, f"kind-{t.id}", "kind", esc(t.label))
        return found

    def stance(self, stance: str, root: str) -> Markup:
        key = ("stance", stance, root)
        found = self._pieces.get(key)
        if found is None:
            t = self.terms["stances"][stance]
            found = self._pieces[key] = self._badge(
                root, f"stance-{t.id}", f"stance stance-{t.id}", esc(t.label)
            )
        return found

    def badges(self, claim: Claim, root: str) -> Markup:
        """Dose, strength, and contested or overstated when they apply."""
        key = (claim.id, root)
        found = self._badges.get(key)
        if found is None:
            marks = self.marks[claim.id]
            parts = [self.dose(claim.dose, root), self.strength(claim.strength, root)]
            if marks.contested:
                parts.append(self.contested(root))
            if marks.overstated:
                parts.append(self.overstated(root))
            found = Markup(f'<span class="badges">{" ".join(parts)}</span>')
            self._badges[key] = found
        return found

    def item(self, claim: Claim, root: str) -> Markup:
        """A claim in a list: its statement as a link to its page, then its badges."""
        key = (claim.id, root)
        found = self._items.get(key)
        if found is None:
            found = Markup(
                f'<li class="claim-item"><a class="claim-link" href="{esc(root)}claims/'
                f'{esc(claim.id)}.html">{esc(plain(claim.statement))}</a> '
                f"{self.badges(claim, root)}</li>"
            )
            self._items[key] = found
        return found

    def source_claim(
        self, found: SourceClaim, source_id: str, targets: Mapping[tuple[str, int], str], root: str
    ) -> Markup:
        """A claim on its source's page: its item, then each quote with a link to where it
        is in the text (hundreds per source page, so built here rather than in Jinja)."""
        claim = found.claim
        quotes = "".join(
            f"<li><q>{esc(item.quote)}</q> {self.stance(item.stance, root)} "
            f'<a href="{root}sources/{source_id}.html#{esc(targets[(claim.id, index)])}">'
            'Passage<span class="vh"> in the text</span></a></li>\n'
            for index, item, _ in found.items
        )
        return Markup(
            f'<li class="claim-item"><a class="claim-link" href="{root}claims/{claim.id}.html">'
            f"{esc(plain(claim.statement))}</a> {self.badges(claim, root)}\n"
            f'<ul class="quotes">\n{quotes}</ul>\n</li>'
        )
