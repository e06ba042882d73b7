"""The download files spliced (downloads.py): after an edit, claims.json, claims.csv and
the search index are the current files with the changed claims' rows put in, and after
claims were added or removed, the rows kept copied in runs: byte for byte what making
them whole gives; where the current files are not those the layout describes, or most
rows are new, they are made whole."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import MakeSite, claim_yaml, rewrite
from hypothesis import given
from hypothesis import strategies as st

from naltrexone_site import cache, downloads, exports
from naltrexone_site.builder import build
from naltrexone_site.downloads import Downloads

PATHS = downloads.PATHS


def built(root: Path, out: Path) -> None:
    outcome = build(root, out)
    assert outcome.built, [str(p) for p in outcome.checked.problems if p.severity.value == "error"]


def made_whole(root: Path, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The download files of a build without any cache or earlier site."""
    with monkeypatch.context() as m:
        m.setenv("NALTREXONE_SITE_CACHE", "0")
        out = tmp / f"whole-{len(list(tmp.glob('whole-*')))}"
        built(root, out)
    return {path: (out / path).read_bytes() for path in PATHS}


@pytest.fixture
def spliced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, the files each build spliced (rather than made whole)."""
    found: list[str] = []
    splice = Downloads._spliced

    def recorded(self: Downloads, *args: object) -> object:
        for path, content in splice(self, *args):  # type: ignore[arg-type]
            found.append(path)
            yield path, content

    monkeypatch.setattr(Downloads, "_spliced", recorded)
    return found


def _statement(root: Path) -> None:
    rewrite(root / "claims/sleep-better.yaml", "sleeping better", "sleeping longer")


def _first_and_last(root: Path) -> None:  # the first row and the last: no span before, after
    rewrite(root / "claims/blocks-receptors.yaml", 'brain."\nkind', 'brain, it says."\nkind')
    rewrite(root / "claims/std-dopamine-down.yaml", "lower dopamine", "reduce dopamine")


def _next_to_last(root: Path) -> None:  # the separator after it, before the last row
    rewrite(root / "claims/standard-stops-high.yaml", 'high."\nkind', 'high at all."\nkind')


def _stance(root: Path) -> None:  # the marks change: corroboration, rows of both claims
    rewrite(root / "claims/sleep-better.yaml", "stance: supports", "stance: qualifies")


def _comment(root: Path) -> None:  # a new version, the same rows: no file written
    path = root / "claims/fibro-pain.yaml"
    path.write_text("# reviewed again\n" + path.read_text(encoding="utf-8"), encoding="utf-8")


def _add(root: Path, claim_id: str) -> None:
    text = claim_yaml(
        claim_id, f"Some users report {claim_id}.", quote="Some users report better sleep."
    )
    (root / f"claims/{claim_id}.yaml").write_text(text, encoding="utf-8")


def _added_middle(root: Path) -> None:  # between ldn-endorphins and ldn-range-demo
    _add(root, "ldn-middle")


def _added_first(root: Path) -> None:
    _add(root, "aaa-first")


def _added_last(root: Path) -> None:
    _add(root, "zzz-last")


def _first_removed(root: Path) -> None:  # the one _added_first made
    (root / "claims/aaa-first.yaml").unlink()


def _removed_middle(root: Path) -> None:  # named by no other claim
    (root / "claims/fibro-pain.yaml").unlink()


def _removed_last(root: Path) -> None:
    (root / "claims/std-dopamine-down.yaml").unlink()


def _four_added(root: Path) -> None:  # to nine: over SPLICE_UP_TO of the rows new, made whole
    for n in range(4):
        _add(root, f"new-{n}")


def _added_and_edited(root: Path) -> None:  # a new row and a changed one, in one build
    _added_middle(root)
    _statement(root)


Edit = Callable[[Path], None]


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        ([_statement], list(PATHS)),
        ([_first_and_last], list(PATHS)),
        ([_stance], list(PATHS)),
        ([_comment], []),
        ([_next_to_last], list(PATHS)),
        ([_statement, _stance, _first_and_last], list(PATHS) * 3),
        # claims added or removed: the rows kept copied in runs
        ([_added_middle], list(PATHS)),
        ([_added_first], list(PATHS)),
        ([_added_last], list(PATHS)),
        ([_removed_middle], list(PATHS)),
        ([_removed_last], list(PATHS)),
        ([_added_first, _first_removed], list(PATHS) * 2),
        ([_added_and_edited], list(PATHS)),
        ([_removed_middle, _added_last, _statement], list(PATHS) * 3),
        ([_four_added, _removed_last], list(PATHS)),  # spliced again from files made whole
    ],
    ids=[
        "statement",
        "first-and-last",
        "stance",
        "comment",
        "next-to-last",
        "three-builds",
        "added",
        "added-first",
        "added-last",
        "removed",
        "removed-last",
        "first-removed",
        "added-and-edited",
        "removed-added-edited",
        "most-new-then-one-removed",
    ],
)
def test_spliced_downloads_are_the_files_made_whole(
    edits: list[Edit],
    expected: list[str],
    make_site: MakeSite,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    spliced: list[str],
) -> None:
    root = make_site()
    out = tmp_path / "site"
    built(root, out)
    for edit in edits:
        edit(root)
        built(root, out)
        assert {p: (out / p).read_bytes() for p in PATHS} == made_whole(root, tmp_path, monkeypatch)
    assert spliced == expected


def test_without_copy_file_range_the_spans_are_read_and_written(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spliced: list[str]
) -> None:
    """Another system, or a file system the kernel cannot copy within: the same bytes."""
    root = make_site()
    out = tmp_path / "site"
    built(root, out)

    def refused(*args: object) -> int:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "copy_file_range", refused)
    _statement(root)
    built(root, out)
    assert spliced == list(PATHS)
    assert {p: (out / p).read_bytes() for p in PATHS} == made_whole(root, tmp_path, monkeypatch)


def test_files_that_are_not_the_layouts_are_made_whole(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spliced: list[str]
) -> None:
    """A download file of another size than the layout says (changed by someone else), a
    lost layout: made whole, and spliced again at the next edit."""
    root = make_site()
    out = tmp_path / "site"
    built(root, out)
    with (out / "claims.csv").open("ab") as handle:
        handle.write(b"x\n")
    _statement(root)
    built(root, out)
    assert spliced == []
    assert {p: (out / p).read_bytes() for p in PATHS} == made_whole(root, tmp_path, monkeypatch)
    _stance(root)
    built(root, out)
    assert spliced == list(PATHS)
    folder = cache.cache_dir(root)
    assert folder is not None
    for path in folder.glob(f"{downloads.LAYOUT}-*.pickle"):
        path.unlink()
    _comment(root)
    built(root, out)
    assert spliced == list(PATHS)  # not again: made whole
    assert {p: (out / p).read_bytes() for p in PATHS} == made_whole(root, tmp_path, monkeypatch)


@given(st.data())
def test_differing_items_are_found_block_by_block(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, 4))
    count = data.draw(st.integers(0, 700))
    old = data.draw(st.binary(min_size=size * count, max_size=size * count))
    now = bytearray(old)
    for i in data.draw(st.lists(st.integers(0, max(count - 1, 0)), max_size=6)) if count else ():
        now[i * size] = (now[i * size] + 1) % 256
    expected = [
        i for i in range(count) if old[i * size : (i + 1) * size] != now[i * size : (i + 1) * size]
    ]
    block = data.draw(st.integers(1, 300))
    assert downloads._differing(old, bytes(now), size, block) == expected


@given(st.lists(st.integers(0, 50), min_size=1, max_size=40), st.data())
def test_row_starts_are_the_lengths_summed(lengths: list[int], data: st.DataObject) -> None:
    frame = exports.Frame("f", b"head", b",\n", b"tail")
    wanted = sorted(data.draw(st.sets(st.integers(0, len(lengths)))))
    every = [len(frame.head)]
    for n in lengths:
        every.append(every[-1] + n + len(frame.separator))
    assert downloads._starts(frame, lengths, wanted) == {i: every[i] for i in wanted}


@given(st.lists(st.binary(max_size=6), max_size=30), st.data())
def test_runs_of_kept_rows_make_the_new_file(old: list[bytes], data: st.DataObject) -> None:
    """Rows kept (a subsequence of the current file's, in order) and new rows between them:
    the pieces, the spans read from the current file, are the new file."""
    frame = exports.Frame("f", b"[", b",\n", b"]")
    current = frame.head + frame.separator.join(old) + frame.tail
    kept = sorted(data.draw(st.sets(st.sampled_from(range(len(old))))) if old else [])
    places: list[int | None] = []
    rows: dict[int, bytes] = {}
    for j in [*kept, None]:
        for _ in range(data.draw(st.integers(0, 2))):  # new rows before the next kept one
            rows[len(places)] = data.draw(st.binary(max_size=6))
            places.append(None)
        if j is not None:
            places.append(j)
    new = [rows[i] if place is None else old[place] for i, place in enumerate(places)]
    starts = [len(frame.head)]
    for row in old:
        starts.append(starts[-1] + len(row) + len(frame.separator))
    pieces = downloads._runs(frame, starts, [len(r) for r in old], places, rows)
    made = b"".join(p if isinstance(p, bytes) else current[p[0] : p[0] + p[1]] for p in pieces)
    assert made == frame.head + frame.separator.join(new) + frame.tail
