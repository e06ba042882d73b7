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
and is a candidate or not as before. The result is the same as searching afresh. It is
kept as the search saved whole and what changed in it since (a few kilobytes): saving
all of it again after each edit took 0.02 s at 10,000 claims.
"""

from __future__ import annotations

import bisect
import os
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import chain, count
from operator import itemgetter
from pathlib import Path
from typing import TypeVar

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


V = TypeVar("V")
SEARCH, SINCE = "duplicates", "duplicates-since"  # cache entries: see `_Since`
REWRITE_AFTER = 500  # entries changed since the search was saved whole: then it is again


@dataclass
class Search:
    """Everything the last search worked out, by claim id."""

    stamp: bytes = b""  # names the search saved whole, to what changed in it since
    state: bytes = b""  # the registry searched, if named (see snapshot.Step)
    common: int = 0
    statements: dict[str, str] = field(default_factory=dict)  # as given
    # content_words, as tuples: unpickling 10,000 frozensets took 11 ms, tuples 4 ms
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    frequency: Counter[str] = field(default_factory=Counter)  # statements using each word
    selected: dict[str, tuple[str, ...]] = field(default_factory=dict)  # the rarest words
    hits: dict[tuple[str, str], float] = field(default_factory=dict)  # (first, second) -> score


@dataclass
class _Since:
    """What changed in a search since it was saved whole (None: an entry removed)."""

    stamp: bytes  # the whole search's
    state: bytes = b""
    statements: dict[str, str | None] = field(default_factory=dict)
    words: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    selected: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    frequency: dict[str, int] = field(default_factory=dict)  # 0: no statement uses it
    hits: dict[tuple[str, str], float] = field(default_factory=dict)  # all of them

    def apply(self, search: Search) -> None:
        _overlay(search.statements, self.statements)
        _overlay(search.words, self.words)
        _overlay(search.selected, self.selected)
        _overlay(search.frequency, {w: n or None for w, n in self.frequency.items()})
        search.state, search.hits = self.state, self.hits


def _overlay(table: dict[str, V], changes: Mapping[str, V | None]) -> None:
    for key, value in changes.items():
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value


def near_duplicates(
    statements: Mapping[str, str],
    root: Path | None = None,
    state: bytes = b"",
    since: tuple[bytes, Collection[str]] | None = None,
) -> list[tuple[str, str, float]]:
    """(first, second, score) for every pair of statements at or above the threshold, by
    their keys in `statements`, first < second; with `root`, the last search is updated
    rather than done again. `state` names the registry the statements are of; `since`:
    the state the last one was of, and the keys whose statements may differ from it (the
    others are not compared)."""
    common = min(max(50, len(statements) // 100), COMMON_MAX)
    previous, kept = _load(root) if root is not None else (None, None)
    changed: set[str] = set()
    if previous is not None and previous.common == common:
        if since is not None and previous.state and previous.state == since[0]:
            known = previous.statements
            changed = {c for c in since[1] if known.get(c) != statements.get(c)}
        else:  # by the statements as given: normalising every one took 14 ms
            changed = {c for c, s in statements.items() if previous.statements.get(c) != s}
            changed |= previous.statements.keys() - statements.keys()
    if previous is None or previous.common != common or len(changed) * 20 > len(statements):
        search = _search(statements, common)
        search.state = state
        if root is not None:
            _save_whole(root, search)
        return _found(search)
    assert kept is not None
    if changed:
        _update(previous, statements, changed, kept)
    if root is not None and (changed or previous.state != state):
        previous.state = kept.state = state
        if len(kept.statements) + len(kept.selected) > REWRITE_AFTER:
            _save_whole(root, previous)
        else:
            cache.save(root, SINCE, kept)
    return _found(previous)


def _found(search: Search) -> list[tuple[str, str, float]]:
    return sorted((a, b, score) for (a, b), score in search.hits.items())


def _load(root: Path) -> tuple[Search | None, _Since | None]:
    """The last search, with what changed in it since it was saved whole."""
    # Let go of once the step is done: at 100,000 claims, 80 MB that a one-claim rebuild
    # carried to its peak (1.04 GB with a claim added), for 20 ms to free it
    search = cache.load(root, SEARCH, hold=False)
    if not isinstance(search, Search):
        return None, None
    kept = cache.load(root, SINCE)
    if isinstance(kept, _Since) and kept.stamp == search.stamp:
        kept.apply(search)
    else:
        kept = _Since(search.stamp, search.state, hits=search.hits)
    return search, kept


def _save_whole(root: Path, search: Search) -> None:
    search.stamp = os.urandom(8)
    cache.save(root, SINCE, None)  # first: kept with the new search, it would be refused
    cache.save(root, SEARCH, search)


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
    kept = {cid: tuple(ws) for cid, ws in words.items()}
    search = Search(common=common, statements=dict(statements), words=kept)
    search.frequency, search.selected = frequency, selected
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


def _update(
    previous: Search, statements: Mapping[str, str], changed: set[str], kept: _Since
) -> None:
    """The previous search with the changed claims' statements replaced, in place (it is
    not used again, and copying its tables was a third of the update); what changed in
    it is added to `kept`."""
    words, frequency = previous.words, previous.frequency
    was: dict[str, int] = {}  # the words whose frequency changed, and it before
    for cid in changed:
        old = frozenset(words.get(cid, ()))
        new = content_words(statements[cid]) if cid in statements else frozenset()
        for word in old ^ new:
            was.setdefault(word, frequency[word])
        frequency.subtract(old)
        frequency.update(new)
        if cid in statements:
            words[cid] = tuple(new)
        else:
            words.pop(cid, None)
    moved = was.keys()
    for word in moved:
        if frequency[word] <= 0:
            del frequency[word]  # no statement uses it any more
    selected = previous.selected
    for cid in changed - statements.keys():
        selected.pop(cid, None)
    touched = set(changed & statements.keys())
    # A claim's choice is of its rare words, or of all its words where none is rare: a
    # word as common after as before (most words of a claim added) changes only the
    # choice of a claim without a rare word. (Choosing again for every claim that shares
    # a word with a claim added was 5,000 claims of 10,000: 10 ms.)
    common = previous.common
    rarity = {word for word, before in was.items() if min(before, frequency[word]) <= common}
    for cid, ws in words.items():
        if cid not in changed and moved.isdisjoint(ws):
            continue
        chosen = selected.get(cid)
        if (
            cid in changed
            or not rarity.isdisjoint(ws)
            or not chosen
            or frequency[chosen[0]] > common
        ):
            choice = _select(ws, frequency, common)
            if choice != chosen:
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
    for cid in changed:
        new_statement = statements.get(cid)
        if new_statement is None:
            previous.statements.pop(cid, None)
        else:
            previous.statements[cid] = new_statement
        kept.statements[cid] = new_statement
        kept.words[cid] = words.get(cid)
    for cid in touched | changed:
        kept.selected[cid] = selected.get(cid)
    for word in moved:
        kept.frequency[word] = frequency.get(word, 0)
    previous.hits = kept.hits = hits


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
