"""What the registry says, derived: anchors, coverage, corroboration, contest, overstatement.

Pure functions on models; no HTML and no I/O.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from .anchoring import Anchor, SourceText, normalize
from .models import Claim, Evidence, Source

# Wording that marks a passage as hedged; a supporting passage without any is "flat". It
# includes "research is needed": what is yet to be found out claims nothing a hedge could
# weaken. "Report" hedges as an attribution ("users report"), not as an instruction ("it's
# important to report any persistent side effects" left "generally mild" unmarked). The
# look-behind comes after "re", so that it is tried only where "re" matched (put first,
# it made the search 30% slower).
# Grouped by first letter: the regex engine tries a dozen letters at each word, not every
# word of the list.
_HEDGE_WORDS = (
    r"a(?:necdotal(?:ly)?|ppears?|rgue[ds]?)|believed?|c(?:an|ould)|hypothes\w*|"
    r"l(?:ikely|imited)|m(?:ay|ight)|"
    r"not fully understood|p(?:erhaps|ossibly|otential(?:ly)?|reliminary|ropos\w*)|"
    r"re(?:(?<!\bto re)port(?:s|ed)?|search is needed)|"
    r"s(?:eems?|ome research|ome studies|uggests?|uggested)|"
    r"th(?:eoretical(?:ly)?|ought)|un(?:certain|clear)"
)
_HEDGES = re.compile(rf"\b(?:{_HEDGE_WORDS})\b", re.IGNORECASE)
# Wording that presents a claim as shown, whatever hedge follows: "has been shown to raise
# X, which may ..." asserts the rise flatly and hedges only what it leads to.
_SHOWN = re.compile(
    r"\b(?:ha(?:s|ve) been (?:demonstrated|found|proven|shown) to|(?:is|are) proven to|"
    r"(?:is|are) well-documented)\b"
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


def coverage(source: Source, text: SourceText, quoted: Iterable[tuple[int, int]]) -> Coverage:
    """A sentence counts as covered when exact quotes overlap at least half of it.
    `quoted`: the spans of the exact quotes of the source, repeats included."""
    excluded = boilerplate_spans(source, text)
    sentences, dropped = [], 0
    for start, end in text.sentences:
        if excluded and any(_overlap((start, end), b) * 2 >= end - start for b in excluded):
            dropped += 1
        else:
            sentences.append((start, end))
    merged = _merge(quoted)
    covered = []
    i = 0  # sentences and merged spans are both in order: one walk through each
    for start, end in sentences:
        while i < len(merged) and merged[i][1] <= start:
            i += 1
        overlap, j = 0, i
        while j < len(merged) and merged[j][0] < end:
            overlap += min(end, merged[j][1]) - max(start, merged[j][0])
            j += 1
        covered.append(overlap * 2 >= end - start)
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


def supporting_sources(claim: Claim) -> set[str]:
    """The distinct sources that support the claim: what it rests on. A source that only
    disputes or qualifies it is not one."""
    return {e.source for e in claim.evidence if e.stance == "supports"}


def corroboration(claim: Claim) -> int:
    """How many distinct sources support the claim."""
    return len(supporting_sources(claim))


def supporting_kinds(
    claim: Claim, sources: Mapping[str, Source], rank: Mapping[str, int]
) -> tuple[str, ...]:
    """The kinds of the sources that support the claim, each once, in the order of `rank`
    (kind -> its position in the taxonomy), which its badges and search results show."""
    evidence = claim.evidence
    if len(evidence) == 1:  # most claims: no set, no sort (a call for every list item)
        item = evidence[0]
        return (sources[item.source].kind,) if item.stance == "supports" else ()
    found = {sources[source].kind for source in supporting_sources(claim)}
    return tuple(sorted(found, key=rank.__getitem__))


def resting_alone(claims: Iterable[Claim]) -> dict[str, int]:
    """Per source, how many claims it supports that no other source supports: what the
    map would lose without it."""
    counts: dict[str, int] = {}
    for claim in claims:
        evidence = claim.evidence
        if len(evidence) == 1:  # most claims: no set (as in supporting_sources)
            if evidence[0].stance != "supports":
                continue
            source = evidence[0].source
        else:
            found = supporting_sources(claim)
            if len(found) != 1:
                continue
            (source,) = found
        counts[source] = counts.get(source, 0) + 1
    return counts


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
# faster still on ASCII text, for which ASCII and Unicode word boundaries are the same
_HEDGES_ASCII = re.compile(_HEDGES.pattern, re.ASCII)
# The quick test before it: in ASCII text with each non-word character made a space (and
# one space put before), every hedge follows a space. A search led by a literal runs in
# C several times faster than one led by `\b`; passing is not enough ("some-studies").
_HEDGE_AFTER_SPACE = re.compile(rf" (?:{_HEDGE_WORDS})\b", re.ASCII)
_WORD_BYTES = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
_NON_WORD_TO_SPACE = bytes(c if c in _WORD_BYTES else 32 for c in range(256))


def is_hedged(passage: str) -> bool:
    return hedged(normalize(passage))


def hedged(text: str) -> bool:
    """`is_hedged` for a passage normalised already (lower case, but for a few letters
    outside ASCII)."""
    if text.isascii():
        spaced = " " + text.encode().translate(_NON_WORD_TO_SPACE).decode()
        if _HEDGE_AFTER_SPACE.search(spaced) is None:
            return False
        return _HEDGES_ASCII.search(text) is not None
    return bool(_HEDGES_LOWER.search(text)) or bool(_HEDGES.search(text))


def flat(text: str) -> bool:
    """Whether a passage (normalised) states its claim flatly: without any hedge, or as
    shown ("has been found to")."""
    return not hedged(text) or _SHOWN.search(text) is not None


# A statement that says who asserts it ("one article asserts that ...") is not worded as fact.
_ATTRIBUTED = re.compile(r"\b(?:according to|assert(?:s|ed)?|claim(?:s|ed)?|sa(?:ys?|id))\b")
# Where a statement's main clause ends: "X raises Y, which may help" hedges only the help.
_CLAUSE_END = re.compile(r",\s*(?:which|meaning|so that)\b|;")


def worded_as_fact(statement: str) -> bool:
    """Whether a claim's own statement reads as established: no hedge and no attribution
    in its main clause. Lists show a claim by its statement alone, so a weak grade must
    be heard in it."""
    main = _CLAUSE_END.split(normalize(statement), maxsplit=1)[0]
    return not hedged(main) and _ATTRIBUTED.search(main) is None


def flat_evidence(
    claim: Claim, normalized: Sequence[str] | None = None, intros: Sequence[str] = ()
) -> tuple[int, ...]:
    """The supporting evidence items that state the claim flatly (see `flat`), unless the
    sentence that introduces the list an item is in hedges it (`intros`, normalised: see
    `lead_in`) and the item does not say "shown" itself. `normalized`: each item's quote
    normalised, when the caller has them already."""
    found = []
    for i, e in enumerate(claim.evidence):
        if e.stance != "supports":
            continue
        quote = normalize(e.quote) if normalized is None else normalized[i]
        intro = intros[i] if i < len(intros) else ""
        if flat(quote) and not (intro and not flat(intro) and not _SHOWN.search(quote)):
            found.append(i)
    return tuple(found)


_LIST_ITEM = re.compile(r"([ \t]*)(?:[-*+]|\d{1,9}[.)])[ \t]+")
_SENTENCE_GAP = re.compile(r"(?<=[.!?])\s+")  # plainer than anchoring's sentences


def lead_in(body: str, start: int) -> str:
    """The sentence that introduces the list whose item holds `start` in `body`, as a
    reader reads the item with it ("These anecdotal reports often include:" before
    "- Better sleep: ... frequently mentioned."): the end of the paragraph above the list,
    or of the item a nested list is under, when it ends in a colon. "" when the passage
    is not in a list item, or nothing introduces its list (a heading above it)."""
    lines = _lines_up(body, start)
    depth = None
    for text in lines:  # the item holding the passage: its line, or the one it continues
        item = _LIST_ITEM.match(text)
        if item:
            depth = len(item.group(1).expandtabs(4))
            break
        if not text.strip() or not text[:1].isspace():
            return ""  # a paragraph, not an item's continuation
    if depth is None:
        return ""
    paragraph: list[str] = []
    for text in lines:  # up through the list, to what is above it
        item, heading = _LIST_ITEM.match(text), text.startswith("#")
        if paragraph and (item or heading or not text.strip()):
            break  # the paragraph above the list ends there
        if item:  # an item of the same list or of one nested in it, or the item it is under
            if len(item.group(1).expandtabs(4)) < depth:
                return _introducing(text[item.end() :])
        elif heading:
            return ""  # a heading above the list: nothing introduces it
        elif text.strip() and not text[:1].isspace():  # not an item's continuation
            paragraph.append(text.strip())
    return _introducing(" ".join(reversed(paragraph)))


def _introducing(text: str) -> str:
    """The last sentence of `text` if it introduces what follows (ends in a colon)."""
    text = text.strip()
    return _SENTENCE_GAP.split(text)[-1] if text.endswith(":") else ""


def _lines_up(body: str, start: int) -> Iterator[str]:
    """The lines of `body` from the one holding `start` upward, without line endings."""
    end = body.find("\n", start)
    end = len(body) if end < 0 else end
    while True:
        begin = body.rfind("\n", 0, end) + 1
        yield body[begin:end].rstrip("\r")
        if begin == 0:
            return
        end = begin - 1
