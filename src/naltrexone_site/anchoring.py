"""Finding a quote in its source: text normalisation and rapidfuzz matching.

Returns spans and scores; deciding what is an error is `checks.py`'s job.
A quote passes when it is an exact substring after normalising whitespace, case,
curly versus straight quotes and apostrophes, dash variants and Markdown syntax.
"""

from __future__ import annotations

import bisect
import re
import zlib
from collections import Counter
from collections.abc import Sequence
from functools import cached_property
from itertools import accumulate, count
from operator import add
from typing import NamedTuple

CLOSE_SCORE = 90.0  # at or above: "close match", the editor pastes the source's text
# A quote not found as it is is looked for approximately only up to this length (normalised):
# the search's cost grows with the square of it (30 ms at 1,000 characters in a 17 KB
# article; a 17 KB quote that did not match kept `check` busy for 77 s). The longest quote
# in the registry is 318 characters.
SEARCHED_UP_TO = 1000
PIECE = 32  # characters: the length aimed at when cutting a source's text for look-ups

_CHARS = {  # one character to one: indices survive
    **dict.fromkeys("‘’‚‛′`´", "'"),
    **dict.fromkeys("“”„‟″«»", '"'),
    **dict.fromkeys("‐‑‒–—―−", "-"),
    **dict.fromkeys("\u00a0\u2007\u202f\u2009\u200a", " "),
}
_ASCII_CHARS = {old: new for old, new in _CHARS.items() if old.isascii()}  # "`"
_MARKDOWN = re.compile(r"[*_#|\\]")  # inline and heading syntax, dropped inside words
_DROPPED = dict.fromkeys("*_#|\\", "")  # the same, deleted
_MARKERS = r"[-+*•>]|#{1,6}"  # what opens a list item, block quote or heading
_LINE_MARKER = re.compile(rf"(?m)^[ \t]*(?:{_MARKERS})[ \t]+")
# The same after the first line: led by a literal newline, which the regex engine finds
# at C speed instead of trying `^` at every position of a long body.
_LATER_MARKER = re.compile(rf"\n([ \t]*(?:{_MARKERS})[ \t]+)")
# Where one Markdown block ends and another starts: a blank line, or a line that opens a
# heading, list item (numbered too) or block quote.
BLOCK_BREAK = re.compile(rf"\n[ \t]*\n|\n[ \t]*(?:{_MARKERS}|\d+\.)[ \t]")
_NUMBERED = re.compile(r"[ \t]*\d+\.[ \t]+")
_LETTER = re.compile(r"[A-Za-z]")
# A sentence ends after [.!?] (group 1 is the gap to the next); led by the character
# class rather than a look-behind, so that the engine skips to candidates quickly, and
# by a literal full stop for a line with no ! or ?, which it finds five times quicker.
_SENTENCE_END = re.compile(r"[.!?]([\"”’)]?\s+)(?=[\"“‘(]?[A-Z0-9])")
_SENTENCE_STOP = re.compile(r"\.([\"”’)]?\s+)(?=[\"“‘(]?[A-Z0-9])")
_WORD = re.compile(r"\S+")
# Every character but " " that str.split() and the regex \s take for white space (a test
# holds this to Python's own tables), and a table making each of them a space.
WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
    map(chr, range(0x2000, 0x200B))
)
_SPACES = dict.fromkeys(WHITESPACE, " ")
_LONG_RUN = re.compile("  +")
_MARKER_STARTS = frozenset(" \t-+*•>#")
_SEGMENT = re.compile(r"[^*_#|\\]+")


def replace_chars(text: str, table: dict[str, str]) -> str:
    """`text.translate(str.maketrans(table))`, for a table of characters to strings that
    hold none of them. For a text not all ASCII, str.translate looks up every character
    in a dict in turn: 0.2 s for the 2.5 MB of sources at 10,000 claims. Here each
    character of the table is looked for in C, and most are not there."""
    for old, new in table.items():
        if old in text:
            text = text.replace(old, new)
    return text


def plain_marks(text: str) -> str:
    """Curly quotes, dashes and spaces of other widths as their plain forms (_CHARS)."""
    if text.isascii():  # none of the others can be there
        return replace_chars(text, _ASCII_CHARS)
    return replace_chars(text, _CHARS)


def _blank_markers(text: str) -> str:
    """Replace line-start Markdown markers with spaces, keeping every index."""
    first = _LINE_MARKER.match(text)
    if first is not None:
        text = " " * first.end() + text[first.end() :]
    if "\n" not in text:
        return text
    return _LATER_MARKER.sub(lambda m: "\n" + " " * len(m.group(1)), text)


def normalize(text: str) -> str:
    """The comparison form of a quote: what matching ignores is gone. Deleting Markdown
    syntax before splitting into words equals deleting it word by word and dropping
    the words left empty."""
    prepared = plain_marks(text)
    if (
        prepared.isascii()
        and prepared.isprintable()  # so no white space but " "
        and "  " not in prepared
        and prepared[:1] not in _MARKER_STARTS
        and prepared[-1:] != " "
        and not _has_markdown(prepared)
    ):
        return prepared.lower()  # the common case: single-spaced already, nothing to drop
    if "\n" in prepared or prepared[:1] in _MARKER_STARTS:
        prepared = _blank_markers(prepared)
    if _has_markdown(prepared):
        prepared = replace_chars(prepared, _DROPPED)
    return _fold(" ".join(prepared.split()))


def _has_markdown(text: str) -> bool:
    """Whether _MARKDOWN occurs in the text: five searches for one character each are
    several times quicker than the regex, on a quote as on a whole article."""
    return "*" in text or "_" in text or "#" in text or "|" in text or "\\" in text


def _fold(text: str) -> str:
    """Lower case, one character for one (a few letters, like 'İ', lower to two)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def sentence_ids(body: str, sentences: Sequence[tuple[int, int]]) -> tuple[str, ...]:
    """An id for each sentence made from its words ("s-" and eight hex digits; a sentence
    said again, or a rare clash, gets "-2", "-3" in order), not from its place: a link to
    a passage keeps its sentence when the source is edited elsewhere, and points at none
    (rather than at another sentence, as a number would) when that sentence changed."""
    ids, used = [], set()
    for start, end in sentences:
        words = " ".join(body[start:end].split()).encode()
        base = f"s-{zlib.crc32(words):08x}"
        found, n = base, 1
        while found in used:
            n += 1
            found = f"{base}-{n}"
        used.add(found)
        ids.append(found)
    return tuple(ids)


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
        prepared = _blank_markers(plain_marks(body))
        if not _has_markdown(prepared):  # no inline syntax: all of it in C but this
            # `norm` is `body` with each run of whitespace made one space: offsets shift
            # only at runs of two or more, so only those start a new segment of the map.
            # With every white space character made " ", a run is found by a literal
            # search, and the text between runs is `norm`'s.
            spaced = replace_chars(prepared, _SPACES)
            start, end = len(spaced) - len(spaced.lstrip(" ")), len(spaced.rstrip(" "))
            if start < end:
                self._norm_starts.append(0)
                self._orig_starts.append(start)
            shift, between = start, []  # the text between runs
            for run in _LONG_RUN.finditer(spaced, start, end):
                between.append(spaced[start : run.start()])
                start = run.end()
                shift += run.end() - run.start() - 1
                self._norm_starts.append(run.end() - shift)
                self._orig_starts.append(run.end())
            between.append(spaced[start:end])
            self.norm = _fold(" ".join(between))
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

    def __getstate__(self) -> dict[str, object]:
        """Pickled without the index of pieces: quicker to build again than to load."""
        return {k: v for k, v in self.__dict__.items() if k != "_pieces"}

    def drop_index(self) -> None:
        """Let go of the index of pieces (built again if another look-up comes): once the
        quotes are anchored, the pages need the text but not the index, which is about
        four times the size of the body, in every process forked after it."""
        self.__dict__.pop("_pieces", None)

    def find(self, quote: str) -> Anchor:
        """Where the quote is: an exact span, else rapidfuzz's best alignment and score."""
        return self.find_normalized(normalize(quote))

    def find_normalized(self, needle: str) -> Anchor:
        """`find` for a quote normalised already (`normalize(quote)`)."""
        if not needle:
            return Anchor(0, 0, 0.0, False)
        found_at = self._occurrences(needle)
        if found_at:  # an article may repeat a sentence word for word
            repeats = tuple([self._span(at, len(needle)) for at in found_at[1:]])
            start, end = self._span(found_at[0], len(needle))
            return Anchor(start, end, 100.0, True, repeats)
        if len(needle) > SEARCHED_UP_TO:
            return Anchor(0, 0, 0.0, False)  # not looked for: see SEARCHED_UP_TO
        from rapidfuzz import fuzz  # imported when a quote is not found as it is

        found = fuzz.partial_ratio_alignment(needle, self.norm)
        if found is None:
            return Anchor(0, 0, 0.0, False)
        start, end = self._widen(found.dest_start, found.dest_end)
        start, end = self._clip(needle, self.to_body(start), self.to_body(end - 1) + 1)
        return Anchor(start, end, found.score, False)

    def _occurrences(self, needle: str) -> list[int]:
        """Every position of `needle` in `norm`, overlapping ones too; in the common case
        without scanning `norm` (twice). `norm` is cut at every occurrence of one
        character (see `_pieces`). Wherever the needle occurs, its own pieces between two
        cuts are pieces of `norm`, at the same distance from the needle's start: one that
        `norm` lacks rules every place out, and one that it holds once pins the one place
        to compare. The scan is for needles with no such piece."""
        cut, first, last = self._pieces
        pieces = needle.split(cut)
        offset = len(pieces[0]) + 1  # of pieces[1] in the needle
        for piece in pieces[1:-1]:
            at = first.get(piece)
            if at is None:
                return []
            if at == last[piece]:
                at -= offset
                return [at] if at >= 0 and self.norm.startswith(needle, at) else []
            offset += len(piece) + 1
        found = []
        at = self.norm.find(needle)
        while at >= 0:
            found.append(at)
            at = self.norm.find(needle, at + 1)
        return found

    @cached_property
    def _pieces(self) -> tuple[str, dict[str, int], dict[str, int]]:
        """`norm` cut at each occurrence of one character (`cut_character`), with where
        each piece first and last starts. Built in C, without a loop in Python: 3 MB of
        sources in some 30 ms."""
        cut = cut_character(self.norm)
        pieces = self.norm.split(cut)
        starts = list(map(add, accumulate(map(len, pieces), initial=0), count()))
        del starts[-1]  # the end of the last piece
        first = dict(zip(reversed(pieces), reversed(starts), strict=True))
        return cut, first, dict(zip(pieces, starts, strict=True))

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
        from rapidfuzz import fuzz

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
        """to_body of the first and the last character (+1): one look-up when, as most
        often, both are in the same segment of the map."""
        starts, origins = self._norm_starts, self._orig_starts
        if not starts:
            return 0, 1
        first = max(bisect.bisect_right(starts, at) - 1, 0)
        last, end = first, at + length - 1
        if first + 1 < len(starts) and starts[first + 1] <= end:
            last = bisect.bisect_right(starts, end, first + 1) - 1
        return origins[first] + at - starts[first], origins[last] + end - starts[last] + 1

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

    @cached_property
    def sentence_ids(self) -> tuple[str, ...]:
        """Each sentence's id on the source page (see `sentence_ids`)."""
        return sentence_ids(self.body, self.sentences)


def cut_character(norm: str) -> str:
    """The character that cuts `norm` into pieces of about PIECE characters, judged on a
    sample. Any character gives the same results; this one makes look-ups quick."""
    sample = Counter(norm[:4096])
    target = sum(sample.values()) / PIECE
    return min(sample, key=lambda c: (abs(sample[c] - target), c), default=" ")


def sentence_spans(body: str) -> tuple[tuple[int, int], ...]:
    """Sentences of a Markdown body as (start, end) offsets. Headings and table rules are
    not sentences; each list item and table row is at least one."""
    spans: list[tuple[int, int]] = []
    offset = 0
    for line in body.splitlines(keepends=True):
        start = offset
        offset += len(line)
        rest = line.lstrip()
        if not rest or rest[0] == "#" or _LETTER.search(rest) is None:
            continue
        marker = _LINE_MARKER.match(line) or _NUMBERED.match(line)
        base = start + (marker.end() if marker else len(line) - len(rest))
        text = line[base - start :].rstrip()
        ends = _SENTENCE_END if "!" in text or "?" in text else _SENTENCE_STOP
        cursor = 0
        for cut in ends.finditer(text):
            spans.append((base + cursor, base + cut.start(1)))
            cursor = cut.end()
        spans.append((base + cursor, base + len(text)))
    return tuple(spans)
