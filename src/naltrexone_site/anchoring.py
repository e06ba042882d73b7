"""Finding a quote in its source: text normalisation and rapidfuzz matching.

Returns spans and scores; deciding what is an error is `checks.py`'s job.
A quote passes when it is an exact substring after normalising whitespace, case,
curly versus straight quotes and apostrophes, dash variants and Markdown syntax.
"""

from __future__ import annotations

import bisect
import re
from functools import cached_property
from typing import NamedTuple

from rapidfuzz import fuzz

CLOSE_SCORE = 90.0  # at or above: "close match", the editor pastes the source's text

_CHARS = {
    **dict.fromkeys("‘’‚‛′`´", "'"),
    **dict.fromkeys("“”„‟″«»", '"'),
    **dict.fromkeys("‐‑‒–—―−", "-"),
    **dict.fromkeys("\u00a0\u2007\u202f\u2009\u200a", " "),
}
_TABLE = str.maketrans(_CHARS)  # one character to one: indices survive
_MARKDOWN = re.compile(r"[*_#|\\]")  # inline and heading syntax, dropped inside words
_LINE_MARKER = re.compile(r"(?m)^[ \t]*(?:[-+*•>]|#{1,6})[ \t]+")  # list, quote, heading
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[\"“‘(]?[A-Z0-9])")
_WORD = re.compile(r"\S+")
_LONG_SPACES = re.compile(r"\s{2,}")
_MARKER_STARTS = frozenset(" \t-+*•>#")
_SEGMENT = re.compile(r"[^*_#|\\]+")


def _blank_markers(text: str) -> str:
    """Replace line-start Markdown markers with spaces, keeping every index."""
    return _LINE_MARKER.sub(lambda m: " " * len(m.group()), text)


def normalize(text: str) -> str:
    """The comparison form of a quote: what matching ignores is gone."""
    prepared = text.translate(_TABLE)
    if "\n" in prepared or prepared[:1] in _MARKER_STARTS:
        prepared = _blank_markers(prepared)
    if _MARKDOWN.search(prepared) is None:  # the common case: no inner scan per word
        return _fold(" ".join(prepared.split()))
    words = (_MARKDOWN.sub("", w) for w in prepared.split())
    return _fold(" ".join(w for w in words if w))


def _fold(text: str) -> str:
    """Lower case, one character for one (a few letters, like 'İ', lower to two)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


class Anchor(NamedTuple):
    """Where a quote is. A named tuple rather than a dataclass: a registry makes one per
    quote, tens of thousands, and the cache makes them again on every build."""

    start: int  # character offsets in the source body
    end: int
    score: float  # 100 for an exact (normalised) match
    exact: bool
    repeats: tuple[tuple[int, int], ...] = ()  # later exact occurrences, as (start, end)


class SourceText:
    """A source body prepared for many look-ups: normalised once, with a map back."""

    def __init__(self, body: str) -> None:
        self.body = body
        pieces: list[str] = []
        self._norm_starts: list[int] = []  # where each segment starts in `norm`
        self._orig_starts: list[int] = []  # and in `body`
        length = 0
        prepared = _blank_markers(body.translate(_TABLE))
        if _MARKDOWN.search(prepared) is None:  # no inline syntax: all of it in C but this
            self.norm = _fold(" ".join(prepared.split()))
            # `norm` is `body` with each run of whitespace made one space: offsets shift
            # only at runs of two or more, so only those start a new segment of the map.
            start = len(prepared) - len(prepared.lstrip())
            if start == len(prepared):
                return
            shift = start
            self._norm_starts.append(0)
            self._orig_starts.append(start)
            end = len(prepared.rstrip())
            for run in _LONG_SPACES.finditer(prepared, start, end):
                shift += run.end() - run.start() - 1
                self._norm_starts.append(run.end() - shift)
                self._orig_starts.append(run.end())
            return
        for word in _WORD.finditer(prepared):
            text = word.group()
            # most words hold no Markdown syntax: one segment, no inner scan
            segments = (
                [(word.start(), text)]
                if _MARKDOWN.search(text) is None
                else [(word.start() + m.start(), m.group()) for m in _SEGMENT.finditer(text)]
            )
            for n, (start, seg) in enumerate(segments):
                if n == 0 and pieces:
                    pieces.append(" ")
                    length += 1
                self._norm_starts.append(length)
                self._orig_starts.append(start)
                pieces.append(_fold(seg))
                length += len(seg)
        self.norm = "".join(pieces)

    def to_body(self, index: int) -> int:
        """A position in `norm` to a position in `body`."""
        if not self._norm_starts:
            return 0
        seg = max(bisect.bisect_right(self._norm_starts, index) - 1, 0)
        return self._orig_starts[seg] + (index - self._norm_starts[seg])

    def find(self, quote: str) -> Anchor:
        """Where the quote is: an exact span, else rapidfuzz's best alignment and score."""
        needle = normalize(quote)
        if not needle:
            return Anchor(0, 0, 0.0, False)
        at = self.norm.find(needle)
        if at >= 0:
            repeats = []
            later = self.norm.find(needle, at + 1)
            while later >= 0:  # an article may repeat a sentence word for word
                repeats.append(self._span(later, len(needle)))
                later = self.norm.find(needle, later + 1)
            start, end = self._span(at, len(needle))
            return Anchor(start, end, 100.0, True, tuple(repeats))
        found = fuzz.partial_ratio_alignment(needle, self.norm)
        if found is None:
            return Anchor(0, 0, 0.0, False)
        start, end = self._widen(found.dest_start, found.dest_end)
        start, end = self._clip(needle, self.to_body(start), self.to_body(end - 1) + 1)
        return Anchor(start, end, found.score, False)

    def _clip(self, needle: str, start: int, end: int) -> tuple[int, int]:
        """Keep a fuzzy passage out of headings, and off the ragged edge of a neighbouring
        sentence when starting or ending at a sentence boundary matches the quote better."""
        inside = [s for s in self.sentences if s[0] < end and start < s[1]]
        if not inside:
            return start, end
        if not inside[0][0] <= start < inside[0][1]:
            start = inside[0][0]
        if not inside[-1][0] < end <= inside[-1][1]:
            end = inside[-1][1]
        starts = {start} | {s for s, _ in inside[1:2]}
        ends = {end} | {e for _, e in inside[-2:-1]}
        return max(
            ((a, b) for a in starts for b in ends if a < b),
            key=lambda span: (
                fuzz.ratio(needle, normalize(self.body[span[0] : span[1]])),
                -span[0],
            ),
        )

    def _span(self, at: int, length: int) -> tuple[int, int]:
        return self.to_body(at), self.to_body(at + length - 1) + 1

    def _widen(self, start: int, end: int) -> tuple[int, int]:
        """Stretch an alignment to whole words so the text shown can be pasted."""
        while start > 0 and self.norm[start - 1] != " ":
            start -= 1
        while end < len(self.norm) and self.norm[end] != " ":
            end += 1
        return start, max(end, start + 1)

    def passage(self, anchor: Anchor) -> str:
        """The source's own words at an anchor, on one line."""
        return " ".join(self.body[anchor.start : anchor.end].split())

    def context(self, anchor: Anchor) -> tuple[int, int]:
        """The whole sentence or sentences an anchor falls in, as a span of the body."""
        around = [s for s in self.sentences if s[0] < anchor.end and anchor.start < s[1]]
        if not around:
            return anchor.start, anchor.end
        return around[0][0], around[-1][1]

    @cached_property
    def sentences(self) -> tuple[tuple[int, int], ...]:
        return sentence_spans(self.body)


def sentence_spans(body: str) -> tuple[tuple[int, int], ...]:
    """Sentences of a Markdown body as (start, end) offsets. Headings and table rules are
    not sentences; each list item and table row is at least one."""
    spans: list[tuple[int, int]] = []
    offset = 0
    for line in body.splitlines(keepends=True):
        start, text = offset, line
        offset += len(line)
        stripped = text.strip()
        if not stripped or stripped.startswith("#") or not re.search(r"[A-Za-z]", stripped):
            continue
        marker = _LINE_MARKER.match(text) or re.match(r"[ \t]*\d+\.[ \t]+", text)
        lead = marker.end() if marker else len(text) - len(text.lstrip())
        body_text = text[lead:].rstrip()
        cursor = 0
        for cut in _SENTENCE_END.finditer(body_text):
            spans.append((start + lead + cursor, start + lead + cut.start()))
            cursor = cut.end()
        spans.append((start + lead + cursor, start + lead + len(body_text)))
    return tuple(spans)
