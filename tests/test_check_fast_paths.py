"""The quick ways of anchoring and checking give what the plain ways give.

Exact look-ups through a source's pieces against scanning its text, whatever character
cuts it; the one-look-up span against `to_body`; the whitespace table against Python's
own; the hedge test (grouped pattern, quick test first) against the list of hedges;
coverage's walk against summing overlaps; and the duplicate search against scoring every
candidate pair.
"""

from __future__ import annotations

import random
import re
import sys
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from naltrexone_site import analysis, anchoring, duplicates
from naltrexone_site.anchoring import WHITESPACE, SourceText, normalize

WORDS = st.sampled_from(["ab", "ba", "abab", "b", "cd", "e", "ee", "bee", "free", "x1"])
GAPS = st.sampled_from([" ", " ", "  ", "\n", "\n\n- ", ". ", "’", "\t", "é "])
BODIES = st.lists(st.tuples(WORDS, GAPS), min_size=1, max_size=60).map(
    lambda parts: "".join(word + gap for word, gap in parts)
)


def scan(norm: str, needle: str) -> list[int]:
    found, at = [], norm.find(needle)
    while at >= 0:
        found.append(at)
        at = norm.find(needle, at + 1)
    return found


@settings(max_examples=300, deadline=None)
@given(BODIES, st.data())
def test_exact_look_ups_equal_scanning_whatever_the_cut(body: str, data: st.DataObject) -> None:
    text = SourceText(body)
    cut = data.draw(st.sampled_from(sorted(set(text.norm)) or [" "]))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(anchoring, "cut_character", lambda norm: cut)
        for _ in range(5):
            start = data.draw(st.integers(0, len(body)))
            quote = body[start : start + data.draw(st.integers(1, 40))]
            if data.draw(st.booleans()):
                quote = quote.replace("b", "c", 1)  # often in the text nowhere
            needle = normalize(quote)
            assert text._occurrences(needle) == scan(text.norm, needle)


@settings(max_examples=100, deadline=None)
@given(BODIES, st.data())
def test_a_text_finds_the_same_after_dropping_its_index(body: str, data: st.DataObject) -> None:
    text = SourceText(body)
    start = data.draw(st.integers(0, len(body)))
    quote = body[start : start + data.draw(st.integers(1, 40))]
    before = text.find(quote)
    text.drop_index()
    assert "_pieces" not in vars(text)
    assert text.find(quote) == before


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab \n\t*_#-é", max_size=40), st.data())
def test_a_span_is_to_body_of_its_ends(body: str, data: st.DataObject) -> None:
    text = SourceText(body)
    if text.norm:
        at = data.draw(st.integers(0, len(text.norm) - 1))
        length = data.draw(st.integers(1, len(text.norm) - at))
        assert text._span(at, length) == (text.to_body(at), text.to_body(at + length - 1) + 1)


def test_the_whitespace_table_is_pythons() -> None:
    spaces = {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    assert set(WHITESPACE) | {" "} == spaces
    assert all(re.fullmatch(r"\s", c) for c in spaces)


HEDGES = (  # the list the grouped pattern was written from
    r"may|might|could|can|possibly|potential(?:ly)?|perhaps|likely|suggests?|suggested|"
    r"thought|believed?|hypothes\w*|propos\w*|theoretical(?:ly)?|some studies|some research|"
    r"appears?|seems?|uncertain|unclear|not fully understood|preliminary|limited|"
    r"report(?:s|ed)?|anecdotal(?:ly)?|argue(?:s|d)?|research is needed"
)
HEDGE_TEXT = st.lists(
    st.sampled_from(re.sub(r"\(\?:[^)]*\)[?*]?|\\w\*|\?", "", HEDGES).split("|"))
    | st.sampled_from(["x", "ly", "s", "ed", "-", "_", "(", " ", "/", "MAY", "ſ", "K", "é"]),
    max_size=8,
).map(lambda parts: " ".join(parts) if len(parts) % 2 else "".join(parts))


@settings(max_examples=500, deadline=None)
@given(HEDGE_TEXT)
def test_the_hedge_test_is_the_list(text: str) -> None:
    plain = re.compile(rf"\b({HEDGES})\b", re.IGNORECASE)
    lower = re.compile(plain.pattern)
    for passage in (text, normalize(text)):
        assert bool(analysis._HEDGES.search(passage)) == bool(plain.search(passage))
        expected = bool(lower.search(passage)) or (
            not passage.isascii() and bool(plain.search(passage))
        )
        assert analysis.hedged(passage) == expected


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 60), st.integers(1, 12)), max_size=12),
    st.lists(st.tuples(st.integers(0, 60), st.integers(1, 20)), max_size=8),
)
def test_coverage_walk_sums_the_overlaps(
    sentences: list[tuple[int, int]], quoted: list[tuple[int, int]]
) -> None:
    spans = sorted({(s, s + n) for s, n in sentences})
    kept = [spans[0]] if spans else []
    for s, e in spans[1:]:  # sentences do not overlap
        if s >= kept[-1][1]:
            kept.append((s, e))
    quotes = [(s, s + n) for s, n in quoted]

    class Text:
        sentences = tuple(kept)

    class Source:
        id, boilerplate = "s", ()

    cov = analysis.coverage(Source(), Text(), quotes)  # type: ignore[arg-type]
    merged = analysis._merge(quotes)
    expected = tuple(
        sum(max(0, min(e, b) - max(s, a)) for a, b in merged) * 2 >= e - s for s, e in kept
    )
    assert cov.covered == expected


def reference_search(statements: dict[str, str]) -> dict[tuple[str, str], float]:
    """The search as first written: every pair sharing a selected word, scored."""
    norm = {cid: " ".join(text.lower().split()) for cid, text in statements.items()}
    common = min(max(50, len(norm) // 100), duplicates.COMMON_MAX)
    words = {cid: duplicates.content_words(text) for cid, text in norm.items()}
    frequency: dict[str, int] = defaultdict(int)
    for ws in words.values():
        for w in ws:
            frequency[w] += 1
    buckets = defaultdict(list)
    for cid in sorted(words):
        listed = list(words[cid])
        rare = [w for w in listed if frequency[w] <= common] or listed
        for w in sorted(rare, key=lambda w: (frequency[w], w))[:3]:
            buckets[w].append(cid)
    pairs = {(a, b) for bucket in buckets.values() for a in bucket for b in bucket if a < b}
    scores = {(a, b): fuzz.token_sort_ratio(norm[a], norm[b]) for a, b in pairs}
    return {pair: score for pair, score in scores.items() if score >= duplicates.DUPLICATE_SCORE}


@pytest.mark.parametrize("seed", range(4))
def test_the_duplicate_search_finds_what_scoring_every_candidate_finds(seed: int) -> None:
    rng = random.Random(seed)
    vocabulary = [f"word{n}" for n in range(rng.choice([30, 200]))] + ["naltrexone", "sleep"]
    statements = {
        f"c-{n:04d}": " ".join(rng.choice(vocabulary) for _ in range(rng.randint(2, 12)))
        for n in range(600)
    }
    keys = sorted(statements)
    for key in rng.sample(keys, 150):  # near-duplicates: a word dropped, added or moved
        words = statements[rng.choice(keys)].split()
        words.insert(rng.randrange(len(words) + 1), rng.choice(vocabulary))
        rng.shuffle(words) if rng.random() < 0.3 else words.pop(rng.randrange(len(words)))
        statements[key] = " ".join(words)
    expected = reference_search(statements)
    assert expected  # the test means something
    found = duplicates.near_duplicates(statements)
    assert {(a, b): score for a, b, score in found} == expected
