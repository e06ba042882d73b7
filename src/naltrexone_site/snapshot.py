"""The registry as a build loaded and anchored it, kept in the cache, and patched for the
claim files that changed since.

Loading and anchoring claim by claim from the per-claim caches (load.py,
pipeline.anchor_claims) makes every claim's objects again: 0.2 s of a one-claim rebuild
at 10,000 claims, where unpickling them whole takes 0.08 s. The patch reads, parses and
anchors only the files whose stat changed, with the functions a full load uses, so it
gives what a full load would; where anything else changed (a source, the taxonomy, the
settings, a file other than a claim file added or removed; the code changes the cache's
name), the full load runs instead. A claim file added or removed is patched too: in the
registry as an editor grows it, adding a claim is the commonest edit.

The snapshot is kept in two parts: a base, written when the full load runs, and the
claims changed since, written by each patched build. Writing the base again (0.13 s at
10,000 claims, in a child process) on every edit made a one-claim rebuild slower than
the full load; the changes are a few kilobytes. Each part names the base it belongs to,
and the base the stat of every input it was made from, so a change part that is lost,
or left from another base, is ignored and the files it covered are read again.

After the base's registry, its file holds the site a build analysed from it (none after
`check`): loaded only by a build, once the checks' child has started, and patched for
the claims changed since (sitepatch.py). A build that had to analyse the whole registry
keeps its analysis with a new base.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from . import cache
from .analysis import AnchoredEvidence, Coverage, coverage
from .checks import Context
from .inputs import REGISTRY, StatKey, is_claim_file
from .models import Claim
from .problems import Problem

if TYPE_CHECKING:
    from .sitepatch import Analysed

BASE, CHANGES = "anchored", "anchored-changes"
# Claim files changed since the base: beyond this many the base is written again
MOST = 64
WRITE_BESIDE_FROM = 2000  # claims; from this many the base is written by a child process
# Claims; above this many the base is kept as soon as the registry is anchored, without
# the site analysed from it: the child that writes it, forked once the analysis is done,
# was that much larger, and a 100,000-claim build's peak went from 857 to 945 MB (the
# target is 1 GB), for a one-claim rebuild of 6 s either way
ANALYSED_UP_TO = 50_000


@dataclass(frozen=True)
class Base:
    """A registry loaded and anchored, and the stat of the inputs it was made from."""

    stamp: bytes  # names this base to its changes
    inputs: dict[str, StatKey]
    context: Context  # without its claims and anchored evidence, which are below
    claims: dict[str, Claim | None]  # claim path -> claim (None: not parsed), path order
    anchored: dict[str, tuple[AnchoredEvidence, ...]]  # claim path -> its evidence anchored
    problems: dict[str, tuple[Problem, ...]]  # loading's, by the file they are in
    text_digests: dict[str, bytes]  # source id -> digest of its body


# A claim file as read since the base: the digest of its bytes, its claim (None when it
# could not be made), its evidence anchored, its flat_evidence, loading's problems
Entry = tuple[
    bytes, Claim | None, tuple[AnchoredEvidence, ...], tuple[int, ...], tuple[Problem, ...]
]


@dataclass
class Changes:
    """The claim files changed since a base, as the last build read them."""

    stamp: bytes  # the base's
    # where the stat differs: None for a claim file the base has and the registry no longer
    inputs: dict[str, StatKey | None] = field(default_factory=dict)
    # where the bytes differ: None for a claim file removed (a file the base has not, added
    # since, is here with its entry)
    entries: dict[str, Entry | None] = field(default_factory=dict)
    coverage: dict[str, Coverage] = field(default_factory=dict)  # sources' worked out again
    state: bytes = b""  # names the registry as these changes leave it ("": as the base is)


@dataclass(frozen=True)
class Step:
    """From the registry as the last build or check left it to this one: what kept
    results of that run (the checks', pipeline.run_all_checks) are to be redone for. Each
    state of the kept registry is named (the base's stamp, or its changes' `state`)."""

    before: bytes  # the state the last run left
    after: bytes  # this one's
    changed: frozenset[str]  # claim files whose bytes changed since
    # The ids and file names of the changed files whose claim has another id, or none, or
    # has one again, or that came or went (a file's name counts as an id: checks._Known)
    moved: frozenset[str]


@dataclass(frozen=True)
class Earlier:
    """The analysis kept with the base, loaded when asked (after the checks' child has
    started: 0.035 s at 10,000 claims); and the claims changed since: (then, now) for
    each claim file that differs (None where it gave no claim)."""

    analysed: Callable[[], Analysed | None]
    swapped: tuple[tuple[Claim | None, Claim | None], ...]


@dataclass(frozen=True)
class Kept:
    """The registry patched: what a full load gives, the earlier analysis with the claims
    changed since, the step from the last run's registry, and what keeps the build's
    analysis for the next (see `patched`)."""

    context: Context
    problems: list[Problem]  # loading's
    earlier: Earlier
    step: Step
    keep: Callable[[Analysed | None], None]


def save(
    root: Path,
    inputs: dict[str, StatKey],
    context: Context,
    problems: Iterable[Problem],
    text_digests: Mapping[str, bytes],
    stamp: bytes,
    analysed: Analysed | None = None,
) -> None:
    """Keep `context`, and the site analysed from it if any, as the new base named
    `stamp`: made and written by a child process when large (see cache.written: the build
    waits for it before it returns)."""

    def base() -> tuple[Base, Analysed | None]:
        claims: dict[str, Claim | None] = dict.fromkeys(sorted(context.digests))
        for claim in context.registry.claims:
            claims[claim.path] = claim
        anchored: dict[str, list[AnchoredEvidence]] = {}
        for item in context.anchored:
            anchored.setdefault(item.claim.path, []).append(item)
        by_file: dict[str, list[Problem]] = {}
        for problem in problems:
            by_file.setdefault(problem.location.path, []).append(problem)
        kept = Base(
            stamp,
            inputs,
            replace(context, registry=replace(context.registry, claims=()), anchored=()),
            claims,
            {path: tuple(items) for path, items in anchored.items()},
            {path: tuple(found) for path, found in by_file.items()},
            dict(text_digests),
        )
        # the site apart, after it: loaded only by a build, once the checks have started
        return kept, analysed

    if len(context.digests) > ANALYSED_UP_TO:
        analysed = None
    # The last base's changes removed: its stamp would refuse them, but only once loaded
    cache.save(root, CHANGES, None)
    if len(context.digests) >= WRITE_BESIDE_FROM:
        cache.save_beside(root, BASE, base)
    else:
        cache.save(root, BASE, *base())


def keeper(
    root: Path,
    inputs: dict[str, StatKey],
    context: Context,
    problems: Iterable[Problem],
    text_digests: Mapping[str, bytes],
    stamp: bytes,
) -> Callable[[Analysed | None], None]:
    """What keeps a registry loaded whole as the new base named `stamp`, with the site
    the build analyses from it; above ANALYSED_UP_TO claims it is kept at once, without
    one."""
    keep = partial(save, root, inputs, context, problems, text_digests, stamp)
    if len(context.digests) > ANALYSED_UP_TO:
        keep(None)
        return lambda analysed: None
    return keep


def patched(root: Path, scanned: dict[str, StatKey] | None) -> Kept | None:
    """The kept registry with the claim files changed since read again, and loading's
    problems; None when something else changed (then everything is loaded)."""
    if scanned is None:
        return None
    base, after = cache.load_parts(root, BASE)
    if not isinstance(base, Base):
        after.close()
        return None
    kept = cache.load(root, CHANGES)
    changes = (
        kept if isinstance(kept, Changes) and kept.stamp == base.stamp else Changes(base.stamp)
    )
    inputs = {**base.inputs, **changes.inputs}
    # Only the registry's files count: `check` looks at fewer than a build (not the
    # templates, nor the checkout), and either may patch the other's base
    changed = [p for p, key in scanned.items() if inputs.get(p) != key and _registry(p)]
    removed = [
        p for p, key in inputs.items() if key is not None and p not in scanned and _registry(p)
    ]
    if not all(path in base.claims or is_claim_file(path) for path in changed) or not all(
        map(is_claim_file, removed)
    ):
        after.close()
        return None  # a source, the taxonomy, the settings, another file: load everything
    from .load import read_claim_files
    from .pipeline import anchor_items, claim_facts, quoted_spans

    ctx = base.context
    old = {path: _entry(base, path) for path in changes.entries}
    # a claim file the base has not (added since it, or put back): put last, to be sorted
    unordered = False
    for path, entry in changes.entries.items():
        unordered |= _apply(base, path, entry)
    before = changes.state or base.stamp
    reread: set[str] = set()  # claim files whose bytes changed since the last run
    moved: set[str] = set()  # see Step
    touched: set[str] = set()  # sources whose quoted spans may have changed
    for path in removed:
        then = base.claims.get(path)  # None: a file that could not be read
        old.setdefault(path, _entry(base, path))
        if path in base.inputs:
            changes.inputs[path], changes.entries[path] = None, None
        else:  # added since the base: as if never there
            changes.inputs.pop(path, None)
            changes.entries.pop(path, None)
        _apply(base, path, None)
        reread.add(path)
        moved.add(_stem(path))
        if then is not None:
            moved.add(then.id)
            touched.update(e.source for e in then.evidence)
    for path in changed:
        # parsed unless the bytes are those the base or the changes read
        (done,) = read_claim_files(str(root), [(path, scanned[path][2], ctx.digests.get(path))])
        if isinstance(done, str):
            after.close()
            return None  # not read: said by the full load, with the file's name
        changes.inputs[path] = scanned[path]
        read, parse = done
        if parse is None:
            continue
        then = base.claims.get(path)  # None: a file added, or one that gave no claim
        claim, found = parse
        reread.add(path)
        if path not in base.claims or (then.id if then else None) != (claim.id if claim else None):
            moved.update((c.id for c in (then, claim) if c is not None), (_stem(path),))
        items: tuple[AnchoredEvidence, ...] = ()
        flat: tuple[int, ...] = ()
        if claim is not None:
            anchors, flat = claim_facts(claim, ctx.texts)
            items = anchor_items(claim, anchors)
        entry = (read, claim, items, flat, tuple(found))
        old.setdefault(path, _entry(base, path))
        changes.entries[path] = entry
        unordered |= _apply(base, path, entry)
        touched.update(e.source for c in (then, claim) if c is not None for e in c.evidence)
    for text in ctx.texts.values():
        text.drop_index()  # see pipeline.anchor_project
    for path, entry in list(changes.entries.items()):
        if entry == old[path]:
            del changes.entries[path]  # back as the base has it
    # The claim files as the changes leave them: the base's, but those gone, and those added
    claim_files = set(ctx.claim_files)  # (their stems, parsed or not)
    added = [
        path for path, key in changes.inputs.items() if key is not None and path not in base.inputs
    ]
    claim_files.difference_update(_stem(p) for p, key in changes.inputs.items() if key is None)
    claim_files.update(map(_stem, added))
    if unordered:
        _in_path_order(base.claims)
    claims = tuple(c for c in base.claims.values() if c is not None)
    registry = replace(ctx.registry, claims=claims)
    anchored = tuple(chain.from_iterable(base.anchored.get(c.path, ()) for c in claims))
    if touched:  # as pipeline.source_coverage has it, for the sources touched only
        quoted = quoted_spans(anchored, touched)
        for source in registry.sources:
            if source.id in touched:
                spans = sorted(quoted.get(source.id, ()))
                changes.coverage[source.id] = coverage(source, ctx.texts[source.id], spans)
    covered = {**ctx.coverage, **changes.coverage}
    files = tuple(sorted(claim_files, key=lambda stem: f"{stem}.yaml"))  # as load_registry
    context = replace(
        ctx, registry=registry, anchored=anchored, coverage=covered, claim_files=files
    )
    problems = list(chain.from_iterable(base.problems.values()))
    if changed or removed:  # a file only removed makes another registry too
        changes.state = os.urandom(8)  # a new state: what was kept of the last is refused
        cache.save(root, CHANGES, changes)
    step = Step(before, changes.state or base.stamp, frozenset(reread), frozenset(moved))
    swapped = tuple((_claim(old[path]), _claim(now)) for path, now in changes.entries.items())

    def analysed() -> Analysed | None:
        from .sitepatch import Analysed

        found = after.next()
        after.close()
        return found if isinstance(found, Analysed) else None

    earlier = Earlier(analysed, swapped)

    def keep(analysed: Analysed | None) -> None:
        after.close()  # the kept analysis, if nobody asked for it (`check`, an error)
        # A new base past MOST changes, or where the build analysed the whole registry
        # (there was no analysis kept to patch, or it could not be patched), if kept
        whole = analysed is not None and not analysed.patched
        if len(changes.inputs) > MOST or (whole and len(base.claims) <= ANALYSED_UP_TO):
            # named as this state is: what this run keeps of it holds for the new base
            save(root, scanned, context, problems, base.text_digests, step.after, analysed)

    return Kept(context, problems, earlier, step, keep)


def _entry(base: Base, path: str) -> Entry | None:
    """A claim file as `base` holds it now; None if it has none at that path."""
    ctx = base.context
    if path not in base.claims:
        return None
    flat = ctx.flat.get(path, ()) if ctx.flat is not None else ()
    return (
        ctx.digests[path],
        base.claims[path],
        base.anchored.get(path, ()),
        flat,
        base.problems.get(path, ()),
    )


def _apply(base: Base, path: str, entry: Entry | None) -> bool:
    """Put a claim file as read since into `base`, in place (None: it was removed). True
    when `base` did not have the path: it went last (see `_in_path_order`)."""
    ctx = base.context
    assert isinstance(ctx.digests, dict) and isinstance(ctx.flat, dict)
    if entry is None:
        for table in (ctx.digests, ctx.flat, base.claims, base.anchored, base.problems):
            table.pop(path, None)
        return False
    last = path not in base.claims
    read, claim, items, flat, found = entry
    ctx.digests[path] = read
    base.claims[path] = claim
    base.anchored[path] = items
    base.problems[path] = found
    if claim is None:
        ctx.flat.pop(path, None)  # as the full load has it: only claims have one
    else:
        ctx.flat[path] = flat
    return last


def _in_path_order(claims: dict[str, Claim | None]) -> None:
    """Sort the claims by path, in place: the full load reads them in that order, and the
    registry lists them so."""
    ordered = sorted(claims.items())
    claims.clear()
    claims.update(ordered)


def _registry(path: str) -> bool:
    """An input the registry is loaded from (the code names the cache itself)."""
    return path.startswith(_REGISTRY)


_REGISTRY = tuple(f"{folder}/" for folder in REGISTRY)


def _claim(entry: Entry | None) -> Claim | None:
    return entry[1] if entry is not None else None


def _stem(path: str) -> str:
    return path[len("claims/") : -len(".yaml")]
