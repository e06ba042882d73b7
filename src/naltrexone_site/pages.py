"""What the pages show, as values: the evidence map, claims by mechanism and dose, the
dose comparison, conflicts and claims per source in text order.

Pure functions on the checked registry; no HTML and no I/O. `analyse` computes all of it
once, so rendering a page never scans the whole registry.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple, TypeVar

from .analysis import (
    WEAK_GRADES,
    AnchoredEvidence,
    Coverage,
    contradictions,
    corroboration,
    flat_evidence,
    resting_alone,
    supporting_sources,
    symmetric,
)
from .anchoring import Anchor, SourceText
from .checks import Context
from .history import History
from .markup import merge_spans
from .models import Claim, Evidence, Overview, Registry, Source, Term
from .schema import COLUMNS  # the map's dose columns, in order

BOTH = "both"  # counted in the standard and the low column
BACKGROUND = "background"  # claims about the body or other drugs, not about naltrexone
STATUS = "status"  # claims about its approval or use, not evidence that it works
ADVICE = "advice"  # what a person is told to do: a recommendation, not an effect
OUTSIDE_MIX = frozenset({BACKGROUND, STATUS})  # kinds the map counts but keeps out of the mix
# Kinds never marked overstated: a use stated flatly ("LDN is used off-label for autism")
# and advice ("use it under supervision") claim no effect that a hedge could have weakened
NEVER_OVERSTATED = frozenset({STATUS, ADVICE})
T = TypeVar("T")


def columns_of(dose: str) -> tuple[str, ...]:
    return ("standard", "low") if dose == BOTH else (dose,)


class Marks(NamedTuple):
    """A claim's derived marks: never typed by editors. (A named tuple: one per claim,
    made in about half the time of a frozen dataclass, 0.55 against 1.0 to 1.1 us.)"""

    corroboration: int  # distinct sources that support it
    contested: bool  # a source disputes it or a contradicting claim exists
    overstated: bool  # a weak grade stated flatly by a source
    contradictions: tuple[str, ...]  # both directions, sorted
    related: tuple[str, ...]  # both directions, sorted, without the contradictions
    flat: tuple[int, ...] = ()  # of a weakly graded claim: supporting items without a hedge


_marks = partial(tuple.__new__, Marks)  # made in C, without a Python call each


@dataclass(frozen=True)
class Cell:
    """What the map shows of a row's claims at one dose: tallies, not the claims, so that
    the map's page key (pagekeys.py) changes with what it shows, not with every edit."""

    row: Term
    dose: str
    count: int
    strengths: tuple[tuple[Term, int], ...]  # the strength mix, strongest first, no zeros
    contested: int  # claims in the cell that are contested
    # In the count, but kept out of the strength mix, where a grade would read as one of
    # naltrexone's effects: background (textbook physiology, not about naltrexone) and
    # status ("its use for bipolar disorder is off-label", established, read as an
    # established effect on mood).
    background: int = 0
    status: int = 0


@dataclass(frozen=True)
class Row:
    term: Term
    cells: tuple[Cell, ...]  # in COLUMNS order


@dataclass(frozen=True)
class Opposite:
    """Two contradicting claims, one about the standard dose and one about LDN."""

    standard: Claim
    low: Claim


@dataclass(frozen=True)
class DoseComparison:
    row: Term
    standard: tuple[Claim, ...]  # claims about the standard dose or both doses
    low: tuple[Claim, ...]
    opposite: tuple[Opposite, ...]
    # claims of the row that state no dose (background left out: it is not about
    # naltrexone): on neither side, but counted and linked, or the view reads as if
    # nothing were known (the label's safety facts state no dose)
    unstated: int = 0

    @property
    def difference(self) -> str:
        """'opposite', 'standard-only', 'low-only', or '' when nothing sets the doses apart."""
        if self.opposite:
            return "opposite"
        if self.standard and not self.low:
            return "standard-only"
        if self.low and not self.standard:
            return "low-only"
        return ""


@dataclass(frozen=True)
class StatedRange:
    """What one source says about the low dose: its dosing claims' quotes, in text order."""

    source: Source
    items: tuple[tuple[Claim, int, Evidence], ...]


@dataclass(frozen=True)
class Contradiction:
    first: Claim
    second: Claim

    @property
    def within(self) -> str:
        """The one source that both claims come from, or "": an article that says both
        (often with a difference it explains, such as the dose) is not two sources
        disagreeing, and the page says so, without calling it at odds with itself."""
        first, second = supporting_sources(self.first), supporting_sources(self.second)
        return next(iter(first)) if len(first) == 1 and first == second else ""


@dataclass(frozen=True)
class Dispute:
    claim: Claim
    index: int
    item: Evidence


class SourceClaim(NamedTuple):
    """A claim drawn from a source, with its evidence items from that source in text order
    (a named tuple: one per claim and source)."""

    claim: Claim
    items: tuple[tuple[int, Evidence, Anchor], ...]

    @property
    def start(self) -> int:
        return self.items[0][2].start


_source_claim = partial(tuple.__new__, SourceClaim)  # made in C, without a Python call each


@dataclass(frozen=True)
class Site:
    """Everything the pages need, computed once."""

    registry: Registry
    terms: Mapping[str, Mapping[str, Term]]  # taxonomy name -> id -> term
    claims: Mapping[str, Claim]  # by id, in id order
    sources: Mapping[str, Source]  # by id, in id order
    overviews: Mapping[str, Overview]
    texts: Mapping[str, SourceText]
    anchors: Mapping[tuple[str, int], Anchor]  # (claim id, evidence index) -> anchor
    coverage: Mapping[str, Coverage]
    marks: Mapping[str, Marks]
    groups: Mapping[tuple[str, str], tuple[Claim, ...]]  # (row id, column) -> claims
    rows: tuple[Row, ...]
    comparisons: tuple[DoseComparison, ...]
    ranges: tuple[StatedRange, ...]
    contradictions: tuple[Contradiction, ...]
    disputes: tuple[Dispute, ...]
    by_source: Mapping[str, tuple[SourceClaim, ...]]
    marked: Mapping[str, tuple[tuple[int, int], ...]]  # source id -> see `marked_spans`
    alone: Mapping[str, int]  # source id -> claims resting on it alone (analysis.resting_alone)
    history: History = field(default_factory=dict)  # claim id -> commits, newest first


def analyse(ctx: Context, history: History | None = None) -> Site:
    registry = ctx.registry
    taxonomy = registry.taxonomy
    names = ("mechanisms", "doses", "strengths", "source_kinds", "stances", "claim_kinds")
    terms = {name: taxonomy.lookup(name) for name in names}
    claims = {c.id: c for c in sorted(registry.claims, key=lambda c: c.id)}
    marks = derive_marks(claims.values(), ctx.flat)
    ranks = {t.id: t.rank for t in taxonomy.strengths}
    groups = group_claims(claims.values(), ranks)
    rows = ordered_rows(taxonomy.mechanisms)
    anchors = {(a.claim.id, a.index): a.anchor for a in ctx.anchored if a.anchor is not None}
    by_source = claims_by_source(ctx.anchored)
    return Site(
        registry=registry,
        terms=terms,
        claims=claims,
        sources={s.id: s for s in sorted(registry.sources, key=lambda s: s.id)},
        overviews={o.id: o for o in registry.overviews},
        texts=ctx.texts,
        anchors=anchors,
        coverage=ctx.coverage,
        marks=marks,
        groups=groups,
        rows=evidence_map(rows, groups, marks, taxonomy.strengths),
        comparisons=dose_comparisons(rows, groups, claims, marks),
        ranges=dose_ranges(registry.sources, by_source),
        contradictions=contradiction_pairs(claims, marks),
        disputes=disputes(claims.values()),
        by_source=by_source,
        marked=marked_spans(by_source),
        alone=resting_alone(claims.values()),
        history=history or {},
    )


def derive_marks(
    claims: Iterable[Claim],
    known: Mapping[str, tuple[int, ...]] | None = None,
    links: tuple[Mapping[str, tuple[str, ...]], Mapping[str, tuple[str, ...]]] | None = None,
) -> dict[str, Marks]:
    """`known`: flat_evidence of each claim by path, when worked out already; `links`:
    the contradictions and related claims of the whole registry, both ways (see
    analysis.symmetric), when the marks of only some of its claims are wanted."""
    claims = list(claims)
    contradicted, related = links or (contradictions(claims), symmetric(claims, "related"))
    marks = {}
    # One claim at a time, in a loop that calls no Python function for most claims (one
    # piece of evidence, no links): 2.5 against 5 us a claim.
    no_links: tuple[str, ...] = ()
    for claim in claims:
        cid, evidence = claim.id, claim.evidence
        flat: tuple[int, ...] = ()
        if claim.strength in WEAK_GRADES and claim.kind not in NEVER_OVERSTATED:
            if known is not None and claim.path in known:
                flat = known[claim.path]
            else:
                flat = flat_evidence(claim)
        against = contradicted.get(cid, no_links)
        linked = related.get(cid, no_links)
        if linked and against:
            linked = tuple(r for r in linked if r not in against)
        if len(evidence) == 1:
            stance = evidence[0].stance
            supporting, disputed = int(stance == "supports"), stance == "disputes"
        else:
            supporting = corroboration(claim)
            disputed = any(e.stance == "disputes" for e in evidence)
        contested = bool(against) or disputed
        marks[cid] = _marks((supporting, contested, bool(flat), against, linked, flat))
    return marks


def group_claims(
    claims: Iterable[Claim], ranks: Mapping[str, int]
) -> dict[tuple[str, str], tuple[Claim, ...]]:
    """Claims by (mechanism or topic, dose column), strongest first, then by id."""
    grouped: dict[tuple[str, str], list[Claim]] = defaultdict(list)
    for claim in claims:
        for key in group_keys(claim):
            grouped[key].append(claim)
    order = group_order(ranks)
    return {key: tuple(sorted(found, key=order)) for key, found in sorted(grouped.items())}


def group_keys(claim: Claim) -> list[tuple[str, str]]:
    """The (row, column) groups a claim is in: each of its mechanisms at each of its doses'
    columns (sitepatch.py patches the groups a claim is or was in by this too)."""
    return [
        (row, column) for row in dict.fromkeys(claim.mechanism) for column in columns_of(claim.dose)
    ]


def group_order(ranks: Mapping[str, int]) -> Callable[[Claim], tuple[int, str]]:
    """The order within a group: strongest first, then by id."""
    return lambda c: (ranks.get(c.strength, 99), c.id)


def ordered_rows(mechanisms: Sequence[Term]) -> tuple[Term, ...]:
    """Mechanisms first, then topics; taxonomy order within each group."""
    return tuple(sorted(mechanisms, key=lambda t: t.group != "mechanism"))


def evidence_map(
    rows: Sequence[Term],
    groups: Mapping[tuple[str, str], tuple[Claim, ...]],
    marks: Mapping[str, Marks],
    strengths: Sequence[Term],
) -> tuple[Row, ...]:
    ranked = sorted(strengths, key=lambda s: s.rank)

    def cell(row: Term, column: str) -> Cell:
        found = groups.get((row.id, column), ())
        counts = Counter(c.strength for c in found if c.kind not in OUTSIDE_MIX)
        kinds = Counter(c.kind for c in found)
        return Cell(
            row,
            column,
            len(found),
            tuple((s, counts[s.id]) for s in ranked if s.id in counts),
            sum(marks[c.id].contested for c in found),
            kinds[BACKGROUND],
            kinds[STATUS],
        )

    return tuple(Row(row, tuple(cell(row, column) for column in COLUMNS)) for row in rows)


def dose_comparisons(
    rows: Sequence[Term],
    groups: Mapping[tuple[str, str], tuple[Claim, ...]],
    claims: Mapping[str, Claim],
    marks: Mapping[str, Marks],
) -> tuple[DoseComparison, ...]:
    opposite: dict[str, list[Opposite]] = defaultdict(list)
    for claim in claims.values():
        if claim.dose != "standard":
            continue
        for other_id in marks[claim.id].contradictions:
            other = claims.get(other_id)
            if other is not None and other.dose == "low":
                for row in dict.fromkeys((*claim.mechanism, *other.mechanism)):
                    opposite[row].append(Opposite(claim, other))
    return tuple(
        DoseComparison(
            row,
            groups.get((row.id, "standard"), ()),
            groups.get((row.id, "low"), ()),
            tuple(sorted(opposite[row.id], key=lambda o: (o.standard.id, o.low.id))),
            sum(c.kind != BACKGROUND for c in groups.get((row.id, "unspecified"), ())),
        )
        for row in rows
    )


_AMOUNT = re.compile(r"\d\s*(?:mg|milligrams?)\b", re.IGNORECASE)  # "4.5 mg", "4.5mg"


def dose_ranges(
    sources: Iterable[Source], by_source: Mapping[str, tuple[SourceClaim, ...]]
) -> tuple[StatedRange, ...]:
    """For every source, its low-dose dosing claims' quotes that give an amount: the
    ranges it states ("in a much smaller dose" states none, and read as a range)."""
    return tuple(
        StatedRange(
            source,
            tuple(
                (found.claim, index, item)
                for found in by_source.get(source.id, ())
                if found.claim.kind == "dosing" and found.claim.dose == "low"
                for index, item, _ in found.items
                if _AMOUNT.search(item.quote)
            ),
        )
        for source in sorted(sources, key=lambda s: s.title.lower())
    )


def contradiction_pairs(
    claims: Mapping[str, Claim], marks: Mapping[str, Marks]
) -> tuple[Contradiction, ...]:
    return tuple(
        Contradiction(claims[a], claims[b])
        for a in claims
        for b in marks[a].contradictions
        if a < b and b in claims
    )


def disputes(claims: Iterable[Claim]) -> tuple[Dispute, ...]:
    return tuple(
        Dispute(claim, i, item)
        for claim in claims
        for i, item in enumerate(claim.evidence)
        if item.stance == "disputes"
    )


def marked_spans(
    by_source: Mapping[str, tuple[SourceClaim, ...]],
) -> dict[str, tuple[tuple[int, int], ...]]:
    """Per source, the words its page's article marks: the exact quotes of every claim
    drawn from it, listed on that page or a later one, merged. Worked out with the
    analysis, and patched with it for the sources a change touches: a page key holds them
    (render.Article), and working them out for every source took 10 ms of a one-claim
    rebuild at 10,000 claims."""
    return {
        source_id: merge_spans(
            (anchor.start, anchor.end)
            for found in listed
            for _, _, anchor in found.items
            if anchor.exact
        )
        for source_id, listed in by_source.items()
    }


def claims_by_source(anchored: Iterable[AnchoredEvidence]) -> dict[str, tuple[SourceClaim, ...]]:
    """Per source, every claim with evidence from it, ordered by where its first quote is
    (then by id), each with its items from that source in text order (then by index)."""
    found: dict[str, list[tuple[int, str, int, Claim, Evidence, Anchor]]] = {}
    for claim, index, evidence, anchor in anchored:
        if anchor is None:
            continue
        rows = found.get(evidence.source)
        if rows is None:
            rows = found[evidence.source] = []
        rows.append((anchor.start, claim.id, index, claim, evidence, anchor))
    result = {}
    for source_id, rows in sorted(found.items()):
        # Sorted whole by (start, id, index), which are unique, so the rest is never
        # compared: a claim's items come in text order, and the claims in the order of
        # their first item. One sort of tuples, in C: the function took a third less time
        # than sorting each claim's items and then the claims by a key (38 against 26 ms
        # at 10,000 claims).
        rows.sort()
        items: dict[str, list[tuple[int, Evidence, Anchor]]] = {}
        claims: list[Claim] = []
        for _, cid, index, claim, evidence, anchor in rows:
            kept = items.get(cid)
            if kept is None:
                kept = items[cid] = []
                claims.append(claim)
            kept.append((index, evidence, anchor))
        result[source_id] = tuple(_source_claim((c, tuple(items[c.id]))) for c in claims)
    return result


def chunks(items: Sequence[T], size: int) -> tuple[tuple[T, ...], ...]:
    """Items in pages of at most `size`; always at least one (maybe empty) page."""
    return tuple(tuple(items[i : i + size]) for i in range(0, len(items), size)) or ((),)
