"""What the registry says, derived: anchors, coverage, corroboration, contest, overstatement.

Pure functions on models; no HTML and no I/O.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from .anchoring import Anchor, SourceText, normalize
from .models import Claim, Evidence, Source

# Wording that marks a passage as hedged; a supporting passage without any is "flat".
_HEDGES = re.compile(
    r"\b(may|might|could|can|possibly|potential(?:ly)?|perhaps|likely|suggests?|suggested|"
    r"thought|believed?|hypothes\w*|propos\w*|theoretical(?:ly)?|some studies|some research|"
    r"appears?|seems?|uncertain|unclear|not fully understood|preliminary|limited|"
    r"report(?:s|ed)?)\b",
    re.IGNORECASE,
)
WEAK_GRADES = frozenset({"preliminary", "theoretical", "anecdotal", "unsupported"})


class AnchoredEvidence(NamedTuple):
    """An evidence item and where its quote is (a named tuple: one per quote)."""

    claim: Claim
    index: int  # type: ignore[assignment]  # the field, not tuple.index
    evidence: Evidence
    anchor: Anchor | None  # None when the source is unknown


@dataclass(frozen=True)
class Coverage:
    source_id: str
    sentences: tuple[tuple[int, int], ...]  # substantive sentences: spans in the body
    covered: tuple[bool, ...]
    excluded: int  # sentences left out as boilerplate

    @property
    def percent(self) -> float:
        return 100.0 * sum(self.covered) / len(self.sentences) if self.sentences else 100.0

    def uncovered(self) -> tuple[tuple[int, int], ...]:
        return tuple(s for s, ok in zip(self.sentences, self.covered, strict=True) if not ok)


def boilerplate_spans(source: Source, text: SourceText) -> list[tuple[int, int]]:
    spans = []
    for passage in source.boilerplate:
        anchor = text.find(passage)
        if anchor.exact:
            spans.append((anchor.start, anchor.end))
    return spans


def coverage(source: Source, text: SourceText, anchored: Iterable[AnchoredEvidence]) -> Coverage:
    """A sentence counts as covered when exact quotes overlap at least half of it."""
    excluded = boilerplate_spans(source, text)
    sentences, dropped = [], 0
    for start, end in text.sentences:
        if any(_overlap((start, end), b) * 2 >= end - start for b in excluded):
            dropped += 1
        else:
            sentences.append((start, end))
    merged = _merge(
        span
        for a in anchored
        if a.evidence.source == source.id and a.anchor and a.anchor.exact
        for span in ((a.anchor.start, a.anchor.end), *a.anchor.repeats)
    )
    starts = [start for start, _ in merged]
    covered = []
    for start, end in sentences:
        first = max(bisect.bisect_right(starts, start) - 1, 0)
        last = bisect.bisect_left(starts, end)
        quoted = sum(_overlap((start, end), span) for span in merged[first:last])
        covered.append(quoted * 2 >= end - start)
    return Coverage(source.id, tuple(sentences), tuple(covered), dropped)


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans joined, sorted: each character of the body counted once."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def corroboration(claim: Claim) -> int:
    """How many distinct sources support the claim."""
    return len({e.source for e in claim.evidence if e.stance == "supports"})


def contradictions(claims: Iterable[Claim]) -> dict[str, tuple[str, ...]]:
    """Contradiction links made symmetric: naming it on one side is enough."""
    return symmetric(claims, "contradicts")


def symmetric(claims: Iterable[Claim], relation: str) -> dict[str, tuple[str, ...]]:
    """A relation between claims (`contradicts`, `related`) in both directions, sorted."""
    linked: dict[str, set[str]] = defaultdict(set)
    for claim in claims:
        for other in getattr(claim, relation):
            if other != claim.id:
                linked[claim.id].add(other)
                linked[other].add(claim.id)
    return {cid: tuple(sorted(others)) for cid, others in linked.items()}


def is_contested(claim: Claim, contradicted: Mapping[str, tuple[str, ...]]) -> bool:
    return bool(contradicted.get(claim.id)) or any(e.stance == "disputes" for e in claim.evidence)


_HEDGES_LOWER = re.compile(_HEDGES.pattern)  # three times faster, for lower-case ASCII


def is_hedged(passage: str) -> bool:
    text = normalize(passage)  # lower case, except for a few letters outside ASCII
    if _HEDGES_LOWER.search(text):
        return True
    return not text.isascii() and bool(_HEDGES.search(text))


def flat_evidence(claim: Claim) -> tuple[int, ...]:
    """The supporting evidence items that state the claim flatly, without a hedge."""
    return tuple(
        i for i, e in enumerate(claim.evidence) if e.stance == "supports" and not is_hedged(e.quote)
    )
