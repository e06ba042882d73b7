"""claims.json, claims.csv and the search index: one row of each per claim, in id order.

The cache keeps where each row is in the files last made (`Layout`: each claim's version
and the build key, each row's length; a row is the same while they are: it holds the
claim's address and the positions of its terms in the taxonomy). When the files in the
site are those, the new files are the current ones with the changed claims' rows put in:
the rest is copied from the current files in the kernel (output.Spliced), not read and
joined again. Where claims were added or removed, the rows kept are found by their
version (a version is of one claim's file: no two claims have one) and copied in runs.
At 10,000 claims that is 20 MB that a one-claim rebuild no longer makes or loads, joins
and writes from a process of its own (0.1 s of CPU, and a fork of the build).

The current files are the rows' only cache: made whole (a first build, another output
folder, the build key changed, most rows new), every row is made. Kept in the cache as
well, the rows cost a cold build 21 MB more written and 0.04 s (10,000 claims), for the
rare build that makes the files whole with most rows unchanged.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate, repeat
from operator import add
from pathlib import Path

from . import cache, exports
from .output import Content, Spliced
from .pagekeys import digest
from .pages import Site

PATHS = ("claims.json", "claims.csv", "search-index.js")  # as exports.frames has them
LAYOUT = "downloads-layout"  # cache entry: see `Layout`
# Rows changed, out of all: from this share the files are made whole from the rows
SPLICE_UP_TO = 0.25


@dataclass(frozen=True)
class Layout:
    """Where each claim's row is in the download files last made."""

    key: bytes  # of the files made (`Downloads.job`), with
    build: bytes  # the build key
    # each claim's version and the build key, one after another: a row is the same where
    # they are (the version is of the claim's file, its marks and its history)
    versions: bytes
    lengths: tuple[array[int], ...]  # each file's rows' lengths in bytes, in PATHS' order


class Downloads:
    """The download files as one job: they hold every claim, so one process reads or
    makes the rows (see jobs.Job.alone). `current`: the site's folder and its files'
    keys valid for this build, where a site was built there before."""

    def __init__(
        self,
        root: Path,
        site: Site,
        versions: Mapping[str, bytes],
        build: bytes,
        current: tuple[Path, Mapping[str, bytes]] | None = None,
    ) -> None:
        self.root = root
        self.site = site
        self.versions = versions
        self.build = build
        self.key = digest(*(versions[c] for c in site.claims))
        self.rows = [versions[c] + build for c in site.claims]  # what each row is made of
        self.spliced = self._spliceable(current)

    @property
    def cost(self) -> int:
        """In jobs.COSTS' units: a row of every claim, or the changed rows only."""
        if self.spliced is not None:
            return 10 * len(self.spliced[1])
        return 3 * len(self.site.claims)

    def _rows(self, made: Sequence[int]) -> dict[int, exports.Encoded]:
        """The rows of the claims at these places, made."""
        codes = exports.SearchCodes.of(self.site)
        claims = list(self.site.claims.values())
        return {i: exports.encoded_rows(self.site, claims[i], codes) for i in made}

    def files(self) -> Iterator[tuple[str, Content]]:
        if self.spliced is not None:
            yield from self._spliced(*self.spliced)
            return
        rows = list(self._rows(range(len(self.rows))).values())
        lengths = tuple(array("I", [len(r[i]) for r in rows]) for i in range(len(PATHS)))
        self._keep(lengths)
        yield from exports.downloads(self.site, rows)

    def _spliceable(
        self, current: tuple[Path, Mapping[str, bytes]] | None
    ) -> tuple[Path, list[int], Layout, list[int | None] | None] | None:
        """(the site's folder, the rows to make, the layout, and where claims were added
        or removed, each row's place in the current files, or None for a row to make)
        where the current files can be spliced; else None."""
        if current is None or not self.site.claims:
            return None
        out, keys = current
        layout = cache.load(self.root, LAYOUT)
        if (
            not isinstance(layout, Layout)
            or layout.build != self.build
            or any(keys.get(path) != layout.key for path in PATHS)
        ):
            return None
        old, now = layout.versions, b"".join(self.rows)
        size = len(self.rows[0])
        places: list[int | None] | None = None
        if len(old) == len(now):  # the same places: compared a block at a time, in C
            changed = _differing(old, now, size)
        else:  # claims added or removed: each row found by its version, in one pass
            kept = {old[at : at + size]: at // size for at in range(0, len(old), size)}
            places = [kept.get(row) for row in self.rows]
            changed = [i for i, place in enumerate(places) if place is None]
        if len(changed) > SPLICE_UP_TO * len(self.rows):
            return None
        for frame, lengths in zip(exports.frames(self.site), layout.lengths, strict=True):
            whole = len(frame.head) + sum(lengths) + len(frame.separator) * (len(lengths) - 1)
            try:
                if os.stat(out / frame.path).st_size != whole + len(frame.tail):
                    return None  # not the files the layout is of
            except OSError:
                return None
        return out, changed, layout, places

    def _spliced(
        self, out: Path, changed: Sequence[int], layout: Layout, places: list[int | None] | None
    ) -> Iterator[tuple[str, Content]]:
        if places is not None:
            yield from self._moved(out, changed, layout, places)
            return
        new = self._rows(changed)
        lengths = tuple(array("I", found) for found in layout.lengths)
        count = len(self.rows)
        wanted = sorted({0, count, *changed, *(i + 1 for i in changed)})  # see _pieces
        for n, frame in enumerate(exports.frames(self.site)):
            starts = _starts(frame, lengths[n], wanted)
            rows = {i: new[i][n] for i in changed}
            source = out / frame.path
            if all(_read(source, starts[i], lengths[n][i]) == row for i, row in rows.items()):
                continue  # the same bytes: the file stays as it is
            for i, row in rows.items():
                lengths[n][i] = len(row)
            yield frame.path, Spliced(source, _pieces(frame, starts, layout.lengths[n], rows))
        self._keep(lengths)

    def _moved(
        self, out: Path, changed: Sequence[int], layout: Layout, places: list[int | None]
    ) -> Iterator[tuple[str, Content]]:
        """Spliced where claims were added or removed: the rows kept copied in runs."""
        new = self._rows(changed)
        made = []
        for n, frame in enumerate(exports.frames(self.site)):
            old = layout.lengths[n]
            rows = {i: new[i][n] for i in changed}
            separated = map(add, old, repeat(len(frame.separator)))  # each row's start, in C
            starts = list(accumulate(separated, initial=len(frame.head)))
            pieces = _runs(frame, starts, old, places, rows)
            yield frame.path, Spliced(out / frame.path, pieces)
            made.append(
                array(
                    "I", [old[p] if p is not None else len(rows[i]) for i, p in enumerate(places)]
                )
            )
        self._keep(tuple(made))

    def _keep(self, lengths: tuple[array[int], ...]) -> None:
        layout = Layout(self.key, self.build, b"".join(self.rows), lengths)
        cache.save(self.root, LAYOUT, layout)


def _differing(old: bytes, now: bytes, size: int, block: int = 256) -> list[int]:
    """The indices of the `size`-byte items that differ, a block of them at a time."""
    found = []
    step = size * block
    for at in range(0, len(now), step):
        if old[at : at + step] != now[at : at + step]:
            end = min(at + step, len(now))
            found += [
                i // size for i in range(at, end, size) if old[i : i + size] != now[i : i + size]
            ]
    return found


def _starts(frame: exports.Frame, lengths: Sequence[int], wanted: Sequence[int]) -> dict[int, int]:
    """Where row i starts, for each i in `wanted` (sorted; i may be the count of rows: where
    the row after the last would start): the lengths summed in C, not one by one."""
    found, at, last = {}, len(frame.head), 0
    for i in wanted:
        at += sum(lengths[last:i]) + (i - last) * len(frame.separator)
        found[i] = at
        last = i
    return found


def _pieces(
    frame: exports.Frame,
    starts: Mapping[int, int],
    lengths: Sequence[int],
    rows: Mapping[int, bytes],
) -> tuple[bytes | tuple[int, int], ...]:
    """The file with `rows` in place of those at their index: new bytes, and the spans
    (offset, length) of the current file between them. Row i starts at starts[i] and is
    followed by the separator, but for the last."""
    pieces: list[bytes | tuple[int, int]] = [frame.head]
    count, done = len(lengths), 0  # rows before `done` are placed
    for i in sorted(rows):
        if i > done:  # rows done .. i-1, each with the separator after it
            pieces.append((starts[done], starts[i] - starts[done]))
        pieces.append(rows[i])
        if i < count - 1:
            pieces.append(frame.separator)
        done = i + 1
    if done < count:  # the rest, up to the end of the last row
        pieces.append((starts[done], starts[count] - len(frame.separator) - starts[done]))
    pieces.append(frame.tail)
    return tuple(piece for piece in pieces if piece)


def _runs(
    frame: exports.Frame,
    starts: Sequence[int],
    lengths: Sequence[int],
    places: Sequence[int | None],
    rows: Mapping[int, bytes],
) -> tuple[bytes | tuple[int, int], ...]:
    """The file whose row i is the current file's row places[i], or rows[i] where that is
    None: each run of rows that follow one another in the current file is one span of it,
    the separators between them included. Row j starts at starts[j]."""
    pieces: list[bytes | tuple[int, int]] = [frame.head]
    count, i = len(places), 0
    while i < count:
        first, last = places[i], i
        if first is None:
            pieces.append(rows[i])
        else:
            end = first
            while last + 1 < count and places[last + 1] == end + 1:
                last, end = last + 1, end + 1
            pieces.append((starts[first], starts[end] + lengths[end] - starts[first]))
        if last < count - 1:
            pieces.append(frame.separator)
        i = last + 1
    pieces.append(frame.tail)
    return tuple(piece for piece in pieces if piece)


def _read(path: Path, offset: int, length: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.read(length)
