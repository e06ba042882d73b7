"""The stages in order: load, anchor, check. `builder.build` adds analyse, render, write.

Each stage reuses what an earlier build computed for inputs that did not change (see
cache.py): parsed claim files, source texts prepared for matching, each claim's anchors
and problems, each source's coverage; and when only claim files changed, the whole
registry as the last build loaded and anchored it, patched (snapshot.py). The results are
the same as computing everything again; a test builds with a cold and a warm cache and
compares.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from . import cache, parallel, snapshot
from .analysis import AnchoredEvidence, Coverage, coverage, flat_evidence, lead_in
from .anchoring import Anchor, SourceText, normalize
from .cache import stable
from .checks import Context, Since, check_duplicates, run_checks
from .inputs import StatKey, digest
from .load import load_registry
from .models import Claim, Source
from .problems import Checked, Problem
from .stages import Stages

if TYPE_CHECKING:
    from .sitepatch import Analysed
    from .snapshot import Earlier, Step


def check_project(
    root: Path, stages: Stages | None = None, scanned: dict[str, StatKey] | None = None
) -> Checked:
    """Load, anchor and check. `scanned` is the stat of each input file when the caller
    has it already (see `inputs.scan_inputs`)."""
    stages = stages or Stages()
    with (
        cache.no_gc(),
        cache.written(),
        anchor_project(root, stages, scanned) as anchored,
        stages("check"),
    ):
        problems = run_all_checks(root, anchored)
        return Checked(anchored.context, problems, unjudged=unjudged(anchored.context))


def unjudged(context: Context | None) -> str:
    """What the checks could not judge, for the count line; "" when nothing."""
    if context is None:
        return "quotes, references and duplicates not checked: fix the taxonomy first"
    if context.registry.settings.coverage_minimum is None:
        return "sources' coverage not checked: fix the settings first"
    return ""


@dataclass
class Anchored:
    """The registry loaded and its quotes anchored: what the checks and the analysis both
    start from. `context` is None when the taxonomy cannot be used."""

    context: Context | None
    problems: list[Problem]  # loading's
    duplicates: Callable[[], list[Problem]]  # the duplicate search, maybe running beside
    beside: bool = True  # whether it may be: else the checks' child is to search
    earlier: Earlier | None = None  # an earlier build's analysis, to patch (sitepatch.py)
    state: bytes | None = None  # names the registry as kept for the next run (snapshot.py)
    step: Step | None = None  # from the registry the last run kept, when it was patched
    # Keeps the registry (snapshot.py) with the build's analysis; called with None on
    # leaving anchor_project's block, if nobody called it
    keep: Callable[[Analysed | None], None] | None = None
    kept: bool = False

    def keep_with(self, analysed: Analysed | None) -> None:
        """Keep the registry for the next build, with the site analysed from it."""
        if self.keep is not None and not self.kept:
            self.kept = True
            self.keep(analysed)


@contextmanager
def anchor_project(
    root: Path, stages: Stages, scanned: dict[str, StatKey] | None = None
) -> Iterator[Anchored]:
    """Load and anchor, with the duplicate search started beside anchoring on another
    core (it needs only the claims); leaving the block stops it if nobody asked, and
    keeps the registry for the next build (snapshot.py), without an analysis unless the
    block gave one to `Anchored.keep_with`."""
    with stages("load"):
        kept = snapshot.patched(root, scanned)
    if kept is not None:  # the last build's, patched for the claim files changed since
        claims = kept.context.registry.claims
        # searched by the checks, beside the analysis: nothing here to hide it behind
        patched = Anchored(
            kept.context,
            kept.problems,
            lambda: list(check_duplicates(claims, root, kept.step.after, kept.step)),
            False,
            kept.earlier,
            kept.step.after,
            kept.step,
            kept.keep,
        )
        yield patched  # outside the load stage: the caller's checks and analysis are theirs
        patched.keep_with(None)
        return
    with stages("load"):  # (a stage's times add up)
        loaded = load_registry(root, scanned)
    registry = loaded.registry
    if registry is None:  # the taxonomy unusable: no claim can be judged against it
        yield Anchored(None, loaded.problems, list)
        return

    # names the registry as loaded, for what is kept of it (see snapshot.Step)
    state = os.urandom(8) if scanned is not None else None

    def search() -> list[Problem]:
        return list(check_duplicates(registry.claims, root, state or b""))

    with parallel.Beside(search, enabled=len(registry.claims) >= BESIDE_FROM) as duplicates:
        with stages("anchor"):
            texts = source_texts(root, registry.sources)
            anchored, flat = anchor_claims(root, registry.claims, texts, loaded.digests)
            by_source = source_coverage(root, registry.sources, texts, anchored)
            texts.save()  # after coverage: the sentences are split and kept too
            for text in texts.texts.values():
                text.drop_index()  # every quote is anchored: 130 MB at 500 sources
            context = Context(
                registry,
                texts.texts,
                anchored,
                by_source,
                loaded.claim_files,
                loaded.source_files,
                loaded.digests,
                flat,
            )
        keep = None
        if scanned is not None and state is not None:
            keep = snapshot.keeper(root, scanned, context, loaded.problems, texts.digests, state)
        result = Anchored(context, loaded.problems, duplicates.result, state=state, keep=keep)
        yield result
        result.keep_with(None)


def run_all_checks(root: Path, anchored: Anchored) -> tuple[Problem, ...]:
    """Every problem, loading's included, sorted. What the checks found is kept with the
    name of the registry's state: a run one step from it checks again only what the
    changed claim files can change (at 10,000 claims the memo's 10,000 lookups, the ids
    and the overviews took 0.04 s of a one-claim rebuild)."""
    if anchored.context is None:
        return _sorted(anchored.problems)
    step = anchored.step
    since = None
    if step is not None:
        kept = cache.load(root, KEPT_CHECKS)
        if isinstance(kept, tuple) and len(kept) == 2 and kept[0] == step.before:
            since = Since(kept[1], step.changed, step.moved)
    memo = cache.Memo(root, "checks") if since is None else None
    found = run_checks(anchored.context, memo, root, anchored.duplicates, since)
    if memo is not None:
        memo.save()
    if anchored.state is not None and (since is None or step is None or step.after != step.before):
        # the duplicate search's apart: it keeps its own (duplicates.py)
        cache.save(root, KEPT_CHECKS, (anchored.state, replace(found, rest=())))
    return _sorted([*anchored.problems, *found.problems(anchored.context.registry)])


KEPT_CHECKS = "checked"


BESIDE_FROM = 5000  # claims; from this many the duplicate search gains from its own core


def _sorted(problems: list[Problem]) -> tuple[Problem, ...]:
    return tuple(sorted(set(problems), key=lambda p: p.sort_key))


@dataclass
class Texts:
    """Source bodies prepared for matching, by source id, with a digest of each body."""

    root: Path
    texts: dict[str, SourceText]
    digests: dict[str, bytes]
    cached: dict[str, tuple[bytes, SourceText]]

    def save(self) -> None:
        fresh = {sid: (self.digests[sid], text) for sid, text in self.texts.items()}
        if any(self.cached.get(sid, (b"",))[0] != d for sid, (d, _) in fresh.items()) or (
            fresh.keys() != self.cached.keys()
        ):
            for text in self.texts.values():
                text.sentence_ids  # noqa: B018 (worked out once, here, and kept with the text)
            cache.save(self.root, "texts", fresh)


def source_texts(root: Path, sources: Iterable[Source]) -> Texts:
    cached = cache.load(root, "texts")
    if not isinstance(cached, dict):
        cached = {}
    texts, digests = {}, {}
    for source in sources:
        known = digest(source.body.encode())
        hit = cached.get(source.id)
        texts[source.id] = (
            hit[1] if hit is not None and hit[0] == known else SourceText(source.body)
        )
        digests[source.id] = known
    return Texts(root, texts, digests, cached)


# A claim's anchors: (start, end, score, exact, repeats) per evidence item, or None for
# an unknown source; and which supporting items are worded without a hedge. Plain tuples
# rather than Anchors: the cache and the worker processes pickle them ten times faster.
Anchors = tuple[tuple[int, int, float, bool, tuple[tuple[int, int], ...]] | None, ...]
Facts = tuple[Anchors, tuple[int, ...]]
# The named tuples made in C, without a Python call each (there is one per quote)
_anchor = partial(tuple.__new__, Anchor)
_evidence = partial(tuple.__new__, AnchoredEvidence)
# Quotes to anchor; below this, one process is quicker and cheaper: at 16,771 quotes
# (10,000 claims) anchoring takes 0.3 s, and a forked worker adds 0.14 s of CPU time
# (copy-on-write faults, its results pickled back) without saving wall time.
PARALLEL_FROM = 40_000


def anchor_claims(
    root: Path, claims: Sequence[Claim], texts: Texts, digests: Mapping[str, bytes]
) -> tuple[tuple[AnchoredEvidence, ...], dict[str, tuple[int, ...]]]:
    """Every evidence item of every claim, located in its source; and each claim's
    flat_evidence (it reads every quote too). Both are reused while the claim's file and
    the bodies of the sources it quotes are unchanged; the rest are worked out across
    all cores when there are many."""
    memo = cache.Memo(root, "anchors")
    known: dict[str, Facts] = {}
    todo: list[Claim] = []
    depends: dict[str, bytes] = {}
    for claim in claims:
        depends[claim.path] = digests.get(claim.path, b"") + b"".join(
            [texts.digests.get(e.source, b"-") for e in claim.evidence]
        )
        hit = memo.lookup(claim.path, depends[claim.path]) if claim.path in digests else None
        if hit is None:
            todo.append(claim)
        else:
            known[claim.path] = hit[0]

    def locate(share: Sequence[Claim]) -> list[Facts]:
        return [claim_facts(claim, texts.texts) for claim in share]

    weights = [len(claim.evidence) for claim in todo]
    count = parallel.workers() if sum(weights) >= PARALLEL_FROM else 1
    found = parallel.fork_pieces(locate, todo, weights, count)
    for claim, anchors in zip(todo, found, strict=True):
        known[claim.path] = anchors
        if claim.path in digests:
            memo.put(claim.path, depends[claim.path], anchors)
    memo.save()
    anchored = tuple(
        chain.from_iterable(anchor_items(claim, known[claim.path][0]) for claim in claims)
    )
    return anchored, {path: flat for path, (_, flat) in known.items()}


def anchor_items(claim: Claim, anchors: Anchors) -> tuple[AnchoredEvidence, ...]:
    """One claim's evidence, each item with its anchor."""
    return tuple(
        _evidence((claim, index, item, _anchor(anchor) if anchor else None))
        for index, (item, anchor) in enumerate(zip(claim.evidence, anchors, strict=True))
    )


def claim_facts(claim: Claim, texts: Mapping[str, SourceText]) -> Facts:
    """Both facts read every quote: each is normalised once, for both. A quote from a
    list item is read with the sentence that introduces the list."""
    quotes = [normalize(item.quote) for item in claim.evidence]
    located, intros = [], []
    for item, quote in zip(claim.evidence, quotes, strict=True):
        text = texts.get(item.source)
        a = text.find_normalized(quote) if text is not None else None
        located.append(a[:] if a else None)  # a plain tuple
        intro = lead_in(text.body, a.start) if text is not None and a and a.exact else ""
        intros.append(normalize(intro) if intro else "")
    return tuple(located), flat_evidence(claim, quotes, intros)


def quoted_spans(
    anchored: Iterable[AnchoredEvidence], only: Container[str] | None = None
) -> dict[str, list[tuple[int, int]]]:
    """The exact spans quoted from each source (or from those in `only`), repeats too."""
    quoted: dict[str, list[tuple[int, int]]] = {}
    for item in anchored:
        a = item.anchor
        if a is not None and a.exact and (only is None or item.evidence.source in only):
            spans = quoted.setdefault(item.evidence.source, [])
            spans.append((a.start, a.end))
            spans.extend(a.repeats)
    return quoted


def source_coverage(
    root: Path, sources: Iterable[Source], texts: Texts, anchored: Iterable[AnchoredEvidence]
) -> dict[str, Coverage]:
    """Each source's coverage, reused while its body, boilerplate and quoted spans are."""
    quoted = quoted_spans(anchored)
    cached = cache.load(root, "coverage")
    if not isinstance(cached, dict):
        cached = {}
    fresh: dict[str, tuple[bytes, Coverage]] = {}
    for source in sources:
        spans = sorted(quoted.get(source.id, ()))
        # the body by its digest: hashing it again was a third of this function's time
        body = texts.digests[source.id]
        key = digest(stable((body, source.boilerplate, tuple(spans))))
        hit = cached.get(source.id)
        if hit is None or hit[0] != key:
            hit = (key, coverage(source, texts.texts[source.id], spans))
        fresh[source.id] = hit
    if any(cached.get(sid) is not hit for sid, hit in fresh.items()) or len(fresh) != len(cached):
        cache.save(root, "coverage", fresh)
    return {sid: cov for sid, (_, cov) in fresh.items()}
