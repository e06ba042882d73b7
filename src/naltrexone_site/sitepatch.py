"""The analysed site of an earlier build, patched for the claims whose files changed since.

The analysis (pages.analyse) and the claims' versions (pagekeys.claim_versions) pass over
every claim: 0.09 s of a one-claim rebuild at 10,000 claims. They are kept after the
registry in the snapshot's file (snapshot.py), and loaded only by a build, once the
checks' child has started (0.035 s). A claim's edit changes only its own marks and those
of the claims it names or named, the groups and source lists it is or was in, and the
few tallies made from those (0.01 s); the rest is taken as it was. A claim added or
removed (or a file that now gives a claim, or no longer does) is patched the same way, its
marks, groups and source lists with it. The result equals the analysis of the whole
registry: a test compares them, field by field and in order, after each kind of edit.
Where a patch would be more than that (an id changed, two files giving one id, another
history, no analysis kept), there is none, and the whole registry is analysed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .analysis import AnchoredEvidence, contradictions, resting_alone, symmetric
from .anchoring import Anchor
from .checks import Context
from .history import History
from .models import Claim
from .pages import (
    Site,
    SourceClaim,
    StatedRange,
    claims_by_source,
    contradiction_pairs,
    derive_marks,
    disputes,
    dose_comparisons,
    dose_ranges,
    evidence_map,
    group_keys,
    group_order,
    marked_spans,
    ordered_rows,
)

if TYPE_CHECKING:
    from .snapshot import Earlier


@dataclass(frozen=True)
class Analysed:
    """A site as analysed, and its claims' versions."""

    site: Site
    versions: dict[str, bytes]
    patched: bool = False  # from an earlier analysis


def patched(earlier: Earlier, ctx: Context, history: History) -> Analysed | None:
    """The analysis of `ctx` from the earlier one, or None where it cannot be patched."""
    pairs = earlier.swapped
    if any(old is not None and new is not None and old.id != new.id for old, new in pairs):
        return None
    kept = earlier.analysed()
    if kept is None or kept.site.history != history:
        return None
    site, versions = kept.site, kept.versions
    olds: dict[str, Claim] = {old.id: old for old, _ in pairs if old is not None}
    news: dict[str, Claim] = {new.id: new for _, new in pairs if new is not None}
    gone = olds.keys() - news.keys()  # removed, or their file no longer gives a claim
    added = news.keys() - olds.keys()
    if (
        len(olds) < sum(old is not None for old, _ in pairs)
        or len(news) < sum(new is not None for _, new in pairs)
        or any(cid in site.claims for cid in added)
    ):
        return None  # two files of one id: their checks say so, against the whole registry
    claims = {cid: c for cid, c in {**site.claims, **news}.items() if cid not in gone}
    if added:
        claims = dict(sorted(claims.items()))  # in id order, as pages.analyse has them
    registry = ctx.registry
    taxonomy = registry.taxonomy

    # Marks: of the claims changed, and of those they name or named either way
    contradicted = contradictions(claims.values())
    related = symmetric(claims.values(), "related")
    named = set(news)
    for cid in olds.keys() | news.keys():
        was = site.marks.get(cid)
        if was is not None:
            named.update(was.contradictions, was.related)
        named.update(contradicted.get(cid, ()), related.get(cid, ()))
    again = [claims[cid] for cid in sorted(named) if cid in claims]
    marks = {**site.marks, **derive_marks(again, ctx.flat, (contradicted, related))}
    if gone or added:
        marks = {cid: marks[cid] for cid in claims}

    # Groups: those the changed claims are or were in, made again
    order = group_order({t.id: t.rank for t in taxonomy.strengths})
    keys: set[tuple[str, str]] = set()
    for claim in (*olds.values(), *news.values()):
        keys.update(group_keys(claim))
    groups = dict(site.groups)
    for key in keys:
        members = [c for c in groups.get(key, ()) if c.id not in olds and c.id not in news]
        members += (c for c in news.values() if key in group_keys(c))
        found = tuple(sorted(members, key=order))
        if found:
            groups[key] = found
        else:
            groups.pop(key, None)
    if groups.keys() != site.groups.keys():
        groups = dict(sorted(groups.items()))

    # The map's rows that show a changed group, or a claim whose marks were worked out again
    rows = ordered_rows(taxonomy.mechanisms)
    touched_rows = {row for row, _ in keys} | {m for c in again for m in c.mechanism}
    redone = {
        row.term.id: row
        for row in evidence_map(
            [t for t in rows if t.id in touched_rows], groups, marks, taxonomy.strengths
        )
    }
    mapped = tuple(redone.get(row.term.id, row) for row in site.rows)

    # Sources' lists of claims: those the changed claims quote or quoted, listed again
    sources = {e.source for c in (*olds.values(), *news.values()) for e in c.evidence}
    quoting = [a for a in ctx.anchored if a.evidence.source in sources]
    by_source = {s: found for s, found in site.by_source.items() if s not in sources}
    by_source = dict(sorted({**by_source, **claims_by_source(quoting)}.items()))
    ranges = _ranges(site, sources, by_source)
    spans = marked_spans({s: by_source[s] for s in sources if s in by_source})
    marked = {s: spans[s] if s in sources else site.marked[s] for s in by_source}
    changed_items = [a for a in quoting if a.claim.id in news]

    # The changed claims' anchors, in place where each still has as many items
    anchors = _anchors(site, ctx, olds, changed_items)

    alone = site.alone
    if (
        gone
        or added
        or any(resting_alone([olds[c]]) != resting_alone([n]) for c, n in news.items())
    ):
        alone = resting_alone(claims.values())

    from .pagekeys import claim_versions  # imports the templates' engine: a build's only

    versions = {
        **versions,
        **claim_versions([claims[c.id] for c in again], marks, ctx.digests, history),
    }
    if gone or added:
        versions = {cid: versions[cid] for cid in claims}
    patched_site = replace(
        site,
        registry=registry,
        claims=claims,
        texts=ctx.texts,
        anchors=anchors,
        coverage=ctx.coverage,
        marks=marks,
        groups=groups,
        rows=mapped,
        comparisons=dose_comparisons(rows, groups, claims, marks),
        ranges=ranges,
        contradictions=contradiction_pairs(claims, marks),
        disputes=disputes(claims.values()),
        by_source=by_source,
        marked=marked,
        alone=alone,
    )
    return Analysed(patched_site, versions, patched=True)


def _ranges(
    site: Site, sources: set[str], by_source: Mapping[str, tuple[SourceClaim, ...]]
) -> tuple[StatedRange, ...]:
    """pages.dose_ranges, made again for the sources in `sources`."""
    again = [site.sources[s] for s in sorted(sources) if s in site.sources]
    redone = {r.source.id: r for r in dose_ranges(again, by_source)}
    return tuple(redone.get(r.source.id, r) for r in site.ranges)


def _anchors(
    site: Site, ctx: Context, olds: Mapping[str, Claim], changed: Sequence[AnchoredEvidence]
) -> dict[tuple[str, int], Anchor]:
    """The anchors by (claim id, index), as pages.analyse lists them: the changed claims'
    put in place of theirs when found for the same items, else all listed again."""
    was = {(cid, i) for cid, old in olds.items() for i in range(len(old.evidence))}
    now = {(a.claim.id, a.index): a.anchor for a in changed if a.anchor is not None}
    if now.keys() != was & site.anchors.keys():
        return {(a.claim.id, a.index): a.anchor for a in ctx.anchored if a.anchor is not None}
    return {**site.anchors, **now}
