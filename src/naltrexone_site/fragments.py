"""Small HTML pieces that appear on many pages: badges and claim list items.

A claim's list item shows up on its mechanism pages, the dose view, its sources' pages,
the browse list and every related claim's page. Rendering it through a Jinja macro at
each place cost most of the build at 10,000 claims, so each piece is built here once per
(value, root) with plain string formatting and reused. Pages themselves stay templates.
Every value is escaped; the pieces are `Markup`, so templates output them as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from markupsafe import Markup, escape

from .markup import plain
from .models import Claim, Term
from .pages import Marks

_ITEM = Markup(
    '<li class="claim-item"><a class="claim-link" href="{}claims/{}.html">{}</a> {}</li>'
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

    @staticmethod
    @lru_cache(maxsize=1024)
    def _badge(root: str, anchor: str, classes: str, inner: Markup) -> Markup:
        return Markup(
            f'<a class="badge {classes}" href="{root}methodology.html#{anchor}">{inner}</a>'
        )

    def dose(self, dose: str, root: str) -> Markup:
        t = self.terms["doses"][dose]
        inner = Markup('<span class="vh">Dose: </span>') + (t.short or t.label)
        return self._badge(root, f"dose-{t.id}", f"dose dose-{t.id}", inner)

    def strength(self, strength: str, root: str) -> Markup:
        t = self.terms["strengths"][strength]
        inner = Markup(
            '<span class="letter" aria-hidden="true">{}</span><span class="vh">Strength: </span> {}'
        ).format(t.letter, t.label)
        return self._badge(root, f"strength-{t.id}", f"strength st-{t.id}", inner)

    def corroboration(self, n: int, root: str) -> Markup:
        inner = Markup(f"{n} supporting source{'s' if n != 1 else ''}")
        return self._badge(root, "corroboration", "corroboration", inner)

    def contested(self, root: str) -> Markup:
        inner = Markup('<span class="sym" aria-hidden="true">!</span> Contested')
        return self._badge(root, "contested", "contested", inner)

    def overstated(self, root: str) -> Markup:
        inner = Markup('<span class="sym" aria-hidden="true">^</span> Overstated')
        return self._badge(root, "overstated", "overstated", inner)

    def kind(self, kind: str, root: str) -> Markup:
        t = self.terms["source_kinds"][kind]
        return self._badge(root, f"kind-{t.id}", "kind", escape(t.label))

    def stance(self, stance: str, root: str) -> Markup:
        t = self.terms["stances"][stance]
        return self._badge(root, f"stance-{t.id}", f"stance stance-{t.id}", escape(t.label))

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
            found = Markup('<span class="badges">{}</span>').format(Markup(" ").join(parts))
            self._badges[key] = found
        return found

    def item(self, claim: Claim, root: str) -> Markup:
        """A claim in a list: its statement as a link to its page, then its badges."""
        key = (claim.id, root)
        found = self._items.get(key)
        if found is None:
            found = _ITEM.format(root, claim.id, plain(claim.statement), self.badges(claim, root))
            self._items[key] = found
        return found
