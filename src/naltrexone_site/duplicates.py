"""Near-duplicate statements: which pairs of claims say nearly the same.

Scoring all pairs is quadratic (11 s for 10,000 statements), so the candidates are the
pairs that share one of their three rarest words (prefix filtering); words common to
more than one statement in a hundred, or to more than 100 statements, are too common to
pick candidates by (the second bound keeps the number of candidates linear in the
number of claims, whatever the registry's vocabulary). Each statement is scored against
all its candidates in one call of rapidfuzz, which passes over, in C, those whose lengths
rule the threshold out: token_sort_ratio is the Indel ratio of the sorted words, at most
2 * min(len) / (len + len).

What a search found is kept between builds (cache.py) and updated for the claims whose
statements changed, and for the claims whose choice of rare words those changes moved:
a pair of claims whose statements and rare words are both unchanged has the same score
and is a candidate or not as before. The result is the same as searching afresh.
"""

from __future__ import annotations

import bisect
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import chain, count
from operator import itemgetter
from pathlib import Path

from . import cache

DUPLICATE_SCORE = 90.0  # token_sort_ratio of two statements at or above: near-duplicates
COMMON_MAX = 100  # statements: a word in more is too common to pick candidates by
_STOPWORDS = frozenset(
    "the and that with from this into than their there these those which while about "
    "naltrexone ldn dose low standard may can could effects effect".split()
)
_WORD = re.compile(r"[a-z0-9]{4,}")  # runs of letters and digits, longer than three


def content_words(statement: str) -> frozenset[str]:
    """The words that can pick candidates: longer than three letters, not stopwords."""
    lowered = statement.lower()
    # interned: one string per word however many statements use it, which the cached
    # search then pickles once, and sets and dicts compare by identity
    words = frozenset(map(sys.intern, _WORD.findall(lowered))) - _STOPWORDS
    return words or frozenset(map(sys.intern, lowered.split()))


@dataclass
class Search:
    """Everything the last search worked out, by claim id."""

    common: int = 0
    statements: dict[str, str] = field(default_factory=dict)  # as given
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
    common = min(max(50, len(statements) // 100), COMMON_MAX)
    previous = cache.load(root, "duplicates") if root is not None else None
    changed: set[str] = set()
    if isinstance(previous, Search) and previous.common == common:
        # by the statements as given: normalising every one took 14 ms at 10,000 claims
        changed = {c for c, s in statements.items() if previous.statements.get(c) != s}
        changed |= previous.statements.keys() - statements.keys()
    if (
        not isinstance(previous, Search)
        or previous.common != common
        or len(changed) * 20 > len(statements)
    ):
        search = _search(statements, common)
    else:
        search = _update(previous, statements, changed)
    if root is not None and search is not previous:
        cache.save(root, "duplicates", search)
    return sorted((a, b, score) for (a, b), score in search.hits.items())


def _select(words: Iterable[str], frequency: Mapping[str, int], common: int) -> tuple[str, ...]:
    ws = list(words)
    rare = [w for w in ws if frequency[w] <= common] or ws
    return tuple(sorted(rare, key=lambda w: (frequency[w], w))[:3])


def _normal(statement: str) -> str:
    """What is scored: lower case, single-spaced."""
    return " ".join(statement.lower().split())


def _search(statements: Mapping[str, str], common: int) -> Search:
    words = {cid: content_words(text) for cid, text in statements.items()}
    frequency = Counter(chain.from_iterable(words.values()))
    # _select for every claim at once: a word's rank in the order (frequency, word) sorts
    # in C, and the words used by at most `common` statements are those ranked below `rare`
    order = sorted(frequency.items(), key=itemgetter(1, 0))
    rank = dict(zip((w for w, _ in order), count()))
    rare = bisect.bisect_right([n for _, n in order], common)
    selected = {}
    for cid, ws in words.items():
        top = sorted(ws, key=rank.__getitem__)[:3]
        selected[cid] = tuple([w for w in top if rank[w] < rare] or top)
    search = Search(common, dict(statements), words, frequency, selected)
    # the pairs that share a selected word, by position in key order: for each claim,
    # the later claims in its words' buckets
    keys = sorted(selected)
    buckets: dict[str, list[int]] = defaultdict(list)
    for i, cid in enumerate(keys):
        for w in selected[cid]:
            buckets[w].append(i)
    later: list[set[int]] = [set() for _ in keys]
    for bucket in buckets.values():
        for n, i in enumerate(bucket[:-1]):
            later[i].update(bucket[n + 1 :])
    norm = {cid: _normal(text) for cid, text in statements.items()}
    search.hits = _score_later(keys, later, norm)
    return search


def _update(previous: Search, statements: Mapping[str, str], changed: set[str]) -> Search:
    """The previous search with the changed claims' statements replaced."""
    words, frequency = dict(previous.words), Counter(previous.frequency)
    moved: set[str] = set()  # words whose frequency changed
    for cid in changed:
        old = previous.words.get(cid, frozenset())
        new = content_words(statements[cid]) if cid in statements else frozenset()
        frequency.subtract(old)
        frequency.update(new)
        moved |= old ^ new
        if cid in statements:
            words[cid] = new
        else:
            words.pop(cid, None)
    frequency = +frequency  # drop the words no statement uses any more
    selected = dict(previous.selected)
    for cid in list(selected):
        if cid not in statements:
            del selected[cid]
    touched = set(changed & statements.keys())
    for cid, ws in words.items():
        if cid in changed or not ws.isdisjoint(moved):
            choice = _select(ws, frequency, previous.common)
            if choice != selected.get(cid):
                selected[cid] = choice
                touched.add(cid)
    wanted = {w for a in touched for w in selected[a]}
    buckets: dict[str, list[str]] = defaultdict(list)
    for cid, choice in selected.items():
        for w in choice:
            if w in wanted:
                buckets[w].append(cid)
    pairs = {
        (min(a, b), max(a, b)) for a in touched for w in selected[a] for b in buckets[w] if a != b
    }
    hits = {
        pair: score
        for pair, score in previous.hits.items()
        if pair[0] not in touched
        and pair[1] not in touched
        and pair[0] in statements
        and pair[1] in statements
    }
    norm = {cid: _normal(statements[cid]) for pair in pairs for cid in pair}
    hits.update(_score(pairs, norm))
    return Search(previous.common, dict(statements), words, frequency, selected, hits)


def _score(
    pairs: Iterable[tuple[str, str]], norm: Mapping[str, str]
) -> dict[tuple[str, str], float]:
    """Each pair whose statements score at or above the threshold, with the score."""
    keys = sorted({cid for pair in pairs for cid in pair})
    at = {cid: i for i, cid in enumerate(keys)}
    later: list[set[int]] = [set() for _ in keys]
    for a, b in pairs:
        later[at[a]].add(at[b])
    return _score_later(keys, later, norm)


def _score_later(
    keys: list[str], later: list[set[int]], norm: Mapping[str, str]
) -> dict[tuple[str, str], float]:
    """The pairs (keys[i], keys[j]) for j in later[i] that score at or above the
    threshold, with the score. token_sort_ratio(a, b) == ratio(sorted words of a, sorted
    words of b): the words are sorted once per statement. rapidfuzz's cut-off sits a
    little below the threshold, so that rounding there cannot lose a pair: the few
    survivors are scored again one by one, as before."""
    from rapidfuzz import fuzz, process  # imported when there is something to score

    tokens = [" ".join(sorted(norm[cid].split(" "))) for cid in keys]
    hits = {}
    for i, partners in enumerate(later):
        if not partners:
            continue
        js = list(partners)
        found = process.extract(
            tokens[i],
            [tokens[j] for j in js],
            scorer=fuzz.ratio,
            processor=None,
            score_cutoff=DUPLICATE_SCORE - 0.5,
            limit=None,
        )
        for _, _, n in found:
            score = fuzz.ratio(tokens[i], tokens[js[n]])
            if score >= DUPLICATE_SCORE:
                hits[(keys[i], keys[js[n]])] = score
    return hits
