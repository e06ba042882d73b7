"""Near-duplicate statements: which pairs of claims say nearly the same.

Scoring all pairs is quadratic (11 s for 10,000 statements), so the candidates are the
pairs that share one of their three rarest words (prefix filtering); words common to
more than one statement in a hundred, or to more than 100 statements, are too common to
pick candidates by (the second bound keeps the number of candidates linear in the
number of claims, whatever the registry's vocabulary). A candidate
is scored only if the lengths allow the threshold: token_sort_ratio is the Indel ratio of
the sorted words, at most 2 * min(len) / (len + len).

What a search found is kept between builds (cache.py) and updated for the claims whose
statements changed, and for the claims whose choice of rare words those changes moved:
a pair of claims whose statements and rare words are both unchanged has the same score
and is a candidate or not as before. The result is the same as searching afresh.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import cache

DUPLICATE_SCORE = 90.0  # token_sort_ratio of two statements at or above: near-duplicates
_BOUND = DUPLICATE_SCORE / 200
COMMON_MAX = 100  # statements: a word in more is too common to pick candidates by
_STOPWORDS = frozenset(
    "the and that with from this into than their there these those which while about "
    "naltrexone ldn dose low standard may can could effects effect".split()
)
_WORD = re.compile(r"[a-z0-9]{4,}")  # runs of letters and digits, longer than three


def content_words(statement: str) -> frozenset[str]:
    """The words that can pick candidates: longer than three letters, not stopwords."""
    lowered = statement.lower()
    return frozenset(_WORD.findall(lowered)) - _STOPWORDS or frozenset(lowered.split())


@dataclass
class Search:
    """Everything the last search worked out, by claim id."""

    common: int = 0
    statements: dict[str, str] = field(default_factory=dict)  # lower case, single-spaced
    words: dict[str, frozenset[str]] = field(default_factory=dict)
    frequency: Counter[str] = field(default_factory=Counter)  # statements using each word
    selected: dict[str, tuple[str, ...]] = field(default_factory=dict)  # the rarest words
    hits: dict[tuple[str, str], float] = field(default_factory=dict)  # (first, second) -> score


def near_duplicates(
    statements: Mapping[str, str], root: Path | None = None
) -> list[tuple[str, str, float]]:
    """(first, second, score) for every pair of statements at or above the threshold, by
    their keys in `statements`, first < second; with `root`, the last search is updated
    rather than done again."""
    norm = {cid: " ".join(text.lower().split()) for cid, text in statements.items()}
    common = min(max(50, len(norm) // 100), COMMON_MAX)
    previous = cache.load(root, "duplicates") if root is not None else None
    changed: set[str] = set()
    if isinstance(previous, Search) and previous.common == common:
        changed = {c for c, s in norm.items() if previous.statements.get(c) != s}
        changed |= previous.statements.keys() - norm.keys()
    if (
        not isinstance(previous, Search)
        or previous.common != common
        or len(changed) * 20 > len(norm)
    ):
        search = _search(norm, common)
    else:
        search = _update(previous, norm, changed)
    if root is not None and search is not previous:
        cache.save(root, "duplicates", search)
    return sorted((a, b, score) for (a, b), score in search.hits.items())


def _select(words: Iterable[str], frequency: Mapping[str, int], common: int) -> tuple[str, ...]:
    ws = list(words)
    rare = [w for w in ws if frequency[w] <= common] or ws
    return tuple(sorted(rare, key=lambda w: (frequency[w], w))[:3])


def _search(norm: Mapping[str, str], common: int) -> Search:
    words = {cid: content_words(text) for cid, text in norm.items()}
    frequency = Counter(w for ws in words.values() for w in ws)
    selected = {cid: _select(ws, frequency, common) for cid, ws in words.items()}
    search = Search(common, dict(norm), words, frequency, selected)
    buckets: dict[str, list[str]] = defaultdict(list)
    for cid in sorted(selected):
        for w in selected[cid]:
            buckets[w].append(cid)
    pairs = {(a, b) for bucket in buckets.values() for a in bucket for b in bucket if a < b}
    search.hits = _score(pairs, norm)
    return search


def _update(previous: Search, norm: Mapping[str, str], changed: set[str]) -> Search:
    """The previous search with the changed claims' statements replaced."""
    words, frequency = dict(previous.words), Counter(previous.frequency)
    moved: set[str] = set()  # words whose frequency changed
    for cid in changed:
        old = previous.words.get(cid, frozenset())
        new = content_words(norm[cid]) if cid in norm else frozenset()
        frequency.subtract(old)
        frequency.update(new)
        moved |= old ^ new
        if cid in norm:
            words[cid] = new
        else:
            words.pop(cid, None)
    frequency = +frequency  # drop the words no statement uses any more
    selected = dict(previous.selected)
    for cid in list(selected):
        if cid not in norm:
            del selected[cid]
    touched = set(changed & norm.keys())
    for cid, ws in words.items():
        if cid in changed or not ws.isdisjoint(moved):
            choice = _select(ws, frequency, previous.common)
            if choice != selected.get(cid):
                selected[cid] = choice
                touched.add(cid)
    buckets: dict[str, list[str]] = defaultdict(list)
    for cid, choice in selected.items():
        for w in choice:
            buckets[w].append(cid)
    pairs = {
        (min(a, b), max(a, b)) for a in touched for w in selected[a] for b in buckets[w] if a != b
    }
    hits = {
        pair: score
        for pair, score in previous.hits.items()
        if pair[0] not in touched and pair[1] not in touched and pair[0] in norm and pair[1] in norm
    }
    hits.update(_score(pairs, norm))
    return Search(previous.common, dict(norm), words, frequency, selected, hits)


def _score(
    pairs: Iterable[tuple[str, str]], norm: Mapping[str, str]
) -> dict[tuple[str, str], float]:
    from rapidfuzz import fuzz  # imported when there is something to score

    # token_sort_ratio(a, b) == ratio(sorted words of a, sorted words of b): sort once
    tokens: dict[str, str] = {}
    hits = {}
    for a, b in pairs:
        sa, sb = norm[a], norm[b]
        la, lb = len(sa), len(sb)
        if min(la, lb) < _BOUND * (la + lb):
            continue  # too different in length to reach the threshold
        ta = tokens.get(a) or tokens.setdefault(a, " ".join(sorted(sa.split(" "))))
        tb = tokens.get(b) or tokens.setdefault(b, " ".join(sorted(sb.split(" "))))
        score = fuzz.ratio(ta, tb)
        if score >= DUPLICATE_SCORE:
            hits[(a, b)] = score
    return hits
