"""Every check is a generator of problems; none stops at the first."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from itertools import accumulate, chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .analysis import WEAK_GRADES, AnchoredEvidence, Coverage, worded_as_fact
from .anchoring import BLOCK_BREAK, CLOSE_SCORE, SEARCHED_UP_TO, SourceText, normalize
from .cache import Memo, stable
from .duplicates import near_duplicates
from .models import Claim, Registry, Source
from .problems import Location, Problem, Severity, error, warning
from .schema import (
    CLAIM_FIELDS,
    EVIDENCE_FIELDS,
    file_name_hint,
    file_stem,
    unknown_value,
    within,
)

if TYPE_CHECKING:
    from .snapshot import Step


@dataclass(frozen=True)
class Context:
    """Everything a check may look at, computed once by the pipeline."""

    registry: Registry
    texts: Mapping[str, SourceText]
    anchored: tuple[AnchoredEvidence, ...]
    coverage: Mapping[str, Coverage]
    claim_files: tuple[str, ...]  # stems of every claim file, even ones that failed to parse
    source_files: tuple[str, ...] = ()  # likewise for sources: their own errors say why
    digests: Mapping[str, bytes] = field(default_factory=dict)  # claim path -> file digest
    flat: Mapping[str, tuple[int, ...]] | None = None  # claim path -> analysis.flat_evidence


@dataclass(frozen=True)
class Found:
    """A check's problems, by the check and the claim file: what a check one step on from
    its registry may keep (see `run_checks`)."""

    ids: dict[str, tuple[Problem, ...]]  # check_ids', by claim path, where any
    own: dict[str, tuple[Problem, ...]]  # each claim's own (see `own_problems`), likewise
    overviews: tuple[Problem, ...]
    rest: tuple[Problem, ...]  # the sources', the coverage's and the duplicate search's

    def problems(self, registry: Registry) -> list[Problem]:
        found = [
            *chain.from_iterable(self.ids.values()),
            *chain.from_iterable(self.own.values()),
            *self.overviews,
            *self.rest,
        ]
        return judged(found, registry)


@dataclass(frozen=True)
class Since:
    """What the last check found, and the claim files changed since, where nothing else
    did but what those files say (see snapshot.Step)."""

    found: Found
    changed: Collection[str]  # claim paths
    # the ids and file names of claims that came, went or took another id since
    moved: Collection[str] = ()


def run_checks(
    ctx: Context,
    memo: Memo | None = None,
    root: Path | None = None,
    duplicates: Callable[[], list[Problem]] | None = None,
    since: Since | None = None,
) -> Found:
    """Every check. With `since`, what depends only on claim ids and files unchanged
    since is kept: the other claims' own problems and those of their ids, and the
    overviews'. Else each claim's own problems are reused from earlier builds (the memo,
    cache.py) while what they depend on is unchanged. `duplicates`: the duplicate
    search's problems, when it was started earlier (see `check_duplicates`)."""
    rest = (
        *check_sources(ctx),
        *check_coverage(ctx),
        *(duplicates() if duplicates else check_duplicates(ctx.registry.claims, root)),
    )
    if since is not None and since.moved:
        # A claim came, went or took another id: every id checked again, and the claims
        # whose own problems that may change, with the changed ones
        naming = _naming(ctx, since.found.own, since.moved)
        own = own_problems(ctx, None, replace(since, changed={*since.changed, *naming}))
        return Found(_by_path(check_ids(ctx)), own, tuple(check_overviews(ctx)), rest)
    own = own_problems(ctx, memo, since)
    if since is None:
        return Found(_by_path(check_ids(ctx)), own, tuple(check_overviews(ctx)), rest)
    earlier, changed = since.found, set(since.changed)
    ids = {path: found for path, found in earlier.ids.items() if path not in changed}
    for claim in ctx.registry.claims:
        if claim.path in changed and claim.path in earlier.ids:
            # the same problems as before, where the claim's id is written now: each
            # says only what ids and file names, unchanged, make of it
            ids[claim.path] = tuple(
                replace(p, location=claim.at(p.field)) for p in earlier.ids[claim.path]
            )
    return Found(ids, own, earlier.overviews, rest)


def _naming(
    ctx: Context, earlier: Mapping[str, tuple[Problem, ...]], moved: Collection[str]
) -> set[str]:
    """The claim files whose own problems depend on which claims there are, and may have
    changed as those named `moved` came or went: the claims that name one of them, and
    those told before that a claim they name is not known (its hint lists the nearest
    ids there are)."""
    found = set()
    for claim in ctx.registry.claims:
        links = _links_claims(claim)
        if not (claim.contradicts or claim.related or links):
            continue
        if (
            any(p.field in _NAMING for p in earlier.get(claim.path, ()))
            or any(i in moved for i in (*claim.contradicts, *claim.related))
            or (  # the ids its links name, in Markdown: read only when it is checked
                links
                and any(name in t for t in (claim.statement, claim.note or "") for name in moved)
            )
        ):
            found.add(claim.path)
    return found


_NAMING = frozenset(("contradicts", "related", "statement", "note"))  # fields naming claims


def _by_path(problems: Iterable[Problem]) -> dict[str, tuple[Problem, ...]]:
    found: dict[str, list[Problem]] = {}
    for problem in problems:
        found.setdefault(problem.location.path, []).append(problem)
    return {path: tuple(group) for path, group in found.items()}


def judged(problems: list[Problem], registry: Registry) -> list[Problem]:
    """The problems but, in the file of a claim, source or overview made with stand-ins
    (see load), those of the stood-in fields, said already, and every warning: such a
    file has errors, and the other fields' errors are what its editor needs in the same
    pass; a warning may come of a stand-in (an empty `cites` leaves a 'clinical' grade
    without its trial, an empty `boilerplate` a source under its coverage minimum), and
    waits until the file is mended."""
    stood = {
        record.path: record.stood_in
        for records in (registry.claims, registry.sources, registry.overviews)
        for record in records
        if record.stood_in
    }
    if not stood:
        return problems
    return [
        p
        for p in problems
        if (units := stood.get(p.location.path)) is None
        or (p.severity is Severity.ERROR and not within(p.field, units))
    ]


def check_ids(ctx: Context) -> Iterator[Problem]:
    first: dict[str, Claim] = {}
    claims = ctx.registry.claims
    stems = [file_stem(claim.path) for claim in claims]  # once each: this runs over every claim
    gives: dict[str, str | None] = dict.fromkeys(ctx.claim_files)  # None: unread
    pairs = list(zip(claims, stems, strict=True))
    gives.update((stem, claim.id) for claim, stem in pairs)
    # The claim in the file its id names holds the id: a copy whose name sorts before it
    # ("a-copy.yaml") had the original told that its id was taken
    named = [(claim, stem) for claim, stem in pairs if claim.id == stem]
    misnamed = [(claim, stem) for claim, stem in pairs if claim.id != stem]
    for claim, stem in chain(named, misnamed):
        if claim.id != stem:
            yield error(
                claim.at("id"),
                "id",
                f"'{claim.id}' does not match the file name '{stem}.yaml'",
                file_name_hint(claim.id, stem, ".yaml", "claim", gives),
            )
        key = claim.id.lower()
        if key in first:
            yield error(
                claim.at("id"),
                "id",
                f"'{claim.id}' is already used by {first[key].path}",
                "give this claim its own id, or merge the two files",
            )
        else:
            first[key] = claim


@dataclass(frozen=True)
class _Known:
    """What a claim's references are checked against, gathered once per check."""

    lookups: Mapping[str, Mapping[str, Any]]  # taxonomy name (and "sources") -> id -> value
    claim_ids: frozenset[str]
    source_files: frozenset[str]
    sources: Mapping[str, Source]
    # (field, what it names, the ids it may name), for a claim and for an evidence item
    refs: tuple[tuple[str, str, Collection[str]], ...] = ()
    evidence_refs: tuple[tuple[str, str, Collection[str]], ...] = ()

    @classmethod
    def of(cls, ctx: Context) -> _Known:
        taxonomy = ctx.registry.taxonomy
        sources = {s.id: s for s in ctx.registry.sources}
        names = {f.ref for f in (*CLAIM_FIELDS, *EVIDENCE_FIELDS) if f.ref}
        lookups: dict[str, Mapping[str, Any]] = {
            n: taxonomy.lookup(n) for n in names - {"claims", "sources"}
        }
        lookups["sources"] = sources
        claim_ids = frozenset(ctx.claim_files) | {c.id for c in ctx.registry.claims}
        choices = {**lookups, "claims": claim_ids}
        return cls(
            lookups,
            claim_ids,
            frozenset(ctx.source_files),
            sources,
            tuple((f.name, f.ref, choices[f.ref]) for f in CLAIM_FIELDS if f.ref),
            tuple((f.name, f.ref, choices[f.ref]) for f in EVIDENCE_FIELDS if f.ref),
        )


def own_problems(
    ctx: Context, memo: Memo | None = None, since: Since | None = None
) -> dict[str, tuple[Problem, ...]]:
    """Each claim's own problems, by its path, where it has any. They depend on its file,
    the taxonomy and sources (their bodies too, which with the file decide its anchors),
    and (when it names other claims) the set of claim ids: with those unchanged, they are
    reused from the last check (`since`: only the changed claims are checked), or else
    from the memo."""
    # one step on, made only if a claim is to be checked, with the changed claims' items
    known = _Known.of(ctx) if since is None else None
    items: dict[str, list[AnchoredEvidence]] | None = None  # by claim path, made if needed
    changed = set(since.changed) if since is not None else None

    def problems(claim: Claim) -> tuple[Problem, ...]:
        nonlocal items, known
        if known is None:
            known = _Known.of(ctx)
        if items is None:
            items = defaultdict(list)
            for item in ctx.anchored:
                if changed is None or item.claim.path in changed:
                    items[item.claim.path].append(item)
        return (
            *_references(claim, known),
            *_anchoring(ctx, items.get(claim.path, [])),
            *_relations(claim),
            *_grades(claim, known.lookups),
            *_claim_links(claim, known.claim_ids),
        )

    if since is not None and changed is not None:
        found = {path: kept for path, kept in since.found.own.items() if path not in changed}
        found.update((c.path, problems(c)) for c in ctx.registry.claims if c.path in changed)
    elif memo is None:
        found = {claim.path: problems(claim) for claim in ctx.registry.claims}
    else:
        found = _remembered(ctx, memo, known or _Known.of(ctx), problems)
    return {path: kept for path, kept in found.items() if kept}


def _remembered(
    ctx: Context,
    memo: Memo,
    known: _Known,
    problems: Callable[[Claim], tuple[Problem, ...]],
) -> dict[str, tuple[Problem, ...]]:
    """Each claim's own problems, from the memo while what they depend on is unchanged."""
    base = _digest(
        repr(ctx.registry.taxonomy),
        # a source's body apart: its repr would copy and escape the whole article
        *(part for s in ctx.registry.sources for part in (repr(replace(s, body="")), s.body)),
        *sorted(ctx.source_files),
    )
    ids = _digest(stable(tuple(sorted(known.claim_ids))))  # marshal's, in C: a part each was 9 ms
    found: dict[str, tuple[Problem, ...]] = {}
    digests, lookup = ctx.digests, memo.lookup
    for claim in ctx.registry.claims:
        digest = digests.get(claim.path)
        if digest is None:
            found[claim.path] = problems(claim)
            continue
        names = ids if claim.contradicts or claim.related or _links_claims(claim) else b""
        depends = (digest, base, names)
        hit = lookup(claim.path, depends)
        if hit is None:
            found[claim.path] = problems(claim)
            memo.put(claim.path, depends, found[claim.path])
        else:
            found[claim.path] = hit[0]
    return found


def _links_claims(claim: Claim) -> bool:
    return "claim:" in claim.statement or "claim:" in (claim.note or "")


def _claim_links(claim: Claim, claim_ids: Collection[str]) -> Iterator[Problem]:
    """Links to other claims in the statement and note (`[text](claim:id)`), as in the
    mechanism overviews: one to a claim that does not exist was a broken link."""
    for name in ("statement", "note") if _links_claims(claim) else ():
        text = getattr(claim, name) or ""
        for target, _ in _broken_links(text, claim_ids, whole=name == "note"):
            yield unknown_value(claim.at(name), name, target, "claim", claim_ids)


def _broken_links(
    text: str, claim_ids: Collection[str], whole: bool = True
) -> Iterator[tuple[str, int]]:
    """The links of a Markdown text to claims that do not exist, as the page reads them
    (a search of the text for `(claim:` missed `[x][ref]` and `<claim:x>`, and took one in
    a code span for a link): each id, and where in the text it is written."""
    if "claim:" not in text:
        return
    from .markup import claim_links  # markdown-it, imported only where a claim is linked

    lines = list(accumulate((len(line) + 1 for line in text.split("\n")), initial=0))
    after: dict[str, int] = {}  # a link given twice is located at each place in turn
    for target, line in claim_links(text, whole):
        if target in claim_ids:
            continue
        written, block = f"claim:{target}", lines[min(line, len(lines) - 1)]
        at = text.find(written, max(block, after.get(written, 0)))
        if at == -1:  # in a reference's definition, elsewhere in the text
            at = text.find(written, after.get(written, 0))
        after[written] = at + 1 if at != -1 else after.get(written, 0)
        yield target, at if at != -1 else block


def _digest(*parts: str | bytes) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.digest()


def _references(claim: Claim, known: _Known) -> Iterator[Problem]:
    for name, ref, choices in known.refs:
        values = getattr(claim, name)
        if isinstance(values, str):
            if values not in choices:
                yield unknown_value(claim.at(name), name, values, _WHAT[ref], choices)
            continue
        for i, value in enumerate(values):
            if value not in choices:
                yield unknown_value(claim.at(f"{name}[{i}]"), name, value, _WHAT[ref], choices)
    for i, item in enumerate(claim.evidence):
        for name, ref, choices in known.evidence_refs:
            value = getattr(item, name)
            if value not in choices and value not in known.source_files:
                key = f"evidence[{i}].{name}"
                yield unknown_value(claim.at(key), key, value, _WHAT[ref], choices)
        source = known.sources.get(item.source) if item.cites else None
        if source is not None and "references" in source.stood_in:
            continue  # the source's list cannot be read: its own error says so
        for n in item.cites:
            if source is not None and n > len(source.references):
                yield error(
                    claim.at(f"evidence[{i}].cites"),
                    f"evidence[{i}].cites",
                    f"reference {n} does not exist: '{item.source}' lists "
                    f"{len(source.references)} references",
                    "cite a number from the source's reference list",
                )


_WHAT = {
    "sources": "source",
    "claims": "claim",
    "mechanisms": "mechanism",
    "doses": "dose",
    "strengths": "strength",
    "stances": "stance",
    "claim_kinds": "claim kind",
    "source_kinds": "source kind",
}


# A quote of fewer words anchors nothing: "a" or "naltrexone" is found in every source.
# The registry's shortest is four ("By helping maintain sobriety").
MIN_QUOTE_WORDS = 3
_SHORT = 40  # characters: a quote this long has three words unless one is very long


def _words(text: str) -> int:
    """Words with a letter or digit in them: "LDN — helps" is two."""
    return sum(any(c.isalnum() for c in word) for word in text.split())


def check_anchoring(ctx: Context) -> Iterator[Problem]:
    """Quotes that are not, word for word, in their source."""
    return _anchoring(ctx, ctx.anchored)


def _anchoring(ctx: Context, anchored: Iterable[AnchoredEvidence]) -> Iterator[Problem]:
    for item in anchored:
        anchor = item.anchor
        if anchor is None:
            continue  # an unknown source is reported by check_references
        key = f"evidence[{item.index}].quote"
        if anchor.exact:
            quote = item.evidence.quote
            if len(quote) < _SHORT and _words(quote) < MIN_QUOTE_WORDS:
                yield error(
                    item.claim.at(key),
                    key,
                    f"the quote is under {MIN_QUOTE_WORDS} words: too short to show what the "
                    "source says, and it may be found anywhere in it",
                    f"quote the clause that makes the claim, at least {MIN_QUOTE_WORDS} words",
                )
                continue
            body = ctx.texts[item.evidence.source].body
            if BLOCK_BREAK.search(body, anchor.start, anchor.end):
                yield warning(
                    item.claim.at(key),
                    key,
                    "the quote runs from one paragraph, heading or list item of the source "
                    "into the next: read together, they may say what neither says alone",
                    "quote one passage per evidence item, or split it into two items",
                )
            continue
        text = ctx.texts[item.evidence.source]
        passage = text.passage(anchor)
        source_path = f"content/sources/{item.evidence.source}.md"
        if anchor.score >= CLOSE_SCORE:
            yield error(
                item.claim.at(key),
                key,
                f"the quote differs from the source ({anchor.score:.0f}% match); "
                f'the source says: "{passage}"',
                "paste the source's exact words",
            )
        elif (length := len(normalize(item.evidence.quote))) > SEARCHED_UP_TO:
            yield error(
                item.claim.at(key),
                key,
                f"the quote is not in source '{item.evidence.source}', and at {length:,} "
                "characters it is too long to look for the nearest passage",
                f"quote one passage of at most {SEARCHED_UP_TO:,} characters, copied from "
                f"{source_path}",
            )
        elif not anchor.score:  # an empty source, or a quote of Markdown signs only
            yield error(
                item.claim.at(key),
                key,
                f"the quote is not in source '{item.evidence.source}', and no passage "
                "there is like it",
                f"copy the passage from {source_path}",
            )
        else:
            start, end = text.context(anchor)
            passage = " ".join(text.body[start:end].split())
            yield error(
                item.claim.at(key),
                key,
                f"the quote is not in source '{item.evidence.source}'; best candidate "
                f'({anchor.score:.0f}% match): "{passage}"',
                f"copy the passage from {source_path}",
            )


def _relations(claim: Claim) -> Iterator[Problem]:
    # each part is skipped at once in the common case: nothing that could be wrong
    for name in ("contradicts", "related") if claim.contradicts or claim.related else ():
        for i, other in enumerate(getattr(claim, name)):
            if other == claim.id:
                yield error(
                    claim.at(f"{name}[{i}]"),
                    name,
                    "a claim cannot name itself",
                    f"remove '{other}'",
                )
    for other in sorted(set(claim.contradicts) & set(claim.related)) if claim.related else ():
        yield warning(
            claim.at("related"),
            "related",
            f"'{other}' is listed as both contradicting and related",
            "keep it under 'contradicts' only",
        )
    if len({e.source for e in claim.evidence}) == len(claim.evidence):
        return  # no two quotes from one source
    quotes = [(e.source, " ".join(e.quote.split())) for e in claim.evidence]
    for source, count in Counter(quotes).items():
        if count > 1:
            yield warning(
                claim.at("evidence"),
                "evidence",
                f"the same quote from '{source[0]}' is given {count} times",
                "keep one",
            )


def _grades(claim: Claim, lookups: Mapping[str, Mapping[str, Any]]) -> Iterator[Problem]:
    used = {e.stance for e in claim.evidence}
    known = used <= lookups["stances"].keys()  # else reported as unknown
    if known and "supports" not in used:
        yield warning(
            claim.at("evidence"),
            "evidence",
            "no evidence item supports the claim",
            "add the passage that asserts it, with 'stance: supports'",
        )
    if claim.strength == "clinical" and not any(
        e.cites for e in claim.evidence if e.stance == "supports"
    ):
        yield warning(
            claim.at("strength"),
            "strength",
            "'clinical' needs a controlled trial that a source names, and no supporting "
            "evidence item cites one",
            "add 'cites: [n]' where the article links the study, or grade it lower",
        )
    strength = lookups["strengths"].get(claim.strength)
    if claim.strength in WEAK_GRADES and strength and worded_as_fact(claim.statement):
        yield warning(
            claim.at("statement"),
            "statement",
            f"worded as fact, but graded '{claim.strength}' (“{strength.wording}”), and "
            "lists show the statement without its grade",
            "word it as its grade is: 'may', 'is thought to', 'some users report', "
            "'one article asserts that'; or grade it higher if the evidence allows",
        )


def check_duplicates(
    claims: Iterable[Claim],
    root: Path | None = None,
    state: bytes = b"",
    step: Step | None = None,
) -> Iterator[Problem]:
    """Near-duplicate statements (see duplicates.py); with `root`, the last search is
    updated rather than done again: one `step` from the registry it was of (`state` names
    this one), for the claims whose files changed only. It needs the claims only: the
    costliest check, it can run beside anchoring and the other checks (`parallel.Beside`).
    A claim made with stand-ins takes no part: its statement or id may be one (see
    `judged`)."""
    claims = list(claims)
    # unique even if ids are not; the search gives each pair in the order of these keys
    keyed = {f"{c.id}\x00{c.path}": c for c in claims if not c.stood_in}
    since = None
    if step is not None and not step.moved:
        since = (step.before, {f"{c.id}\x00{c.path}" for c in claims if c.path in step.changed})
    statements = {key: c.statement for key, c in keyed.items()}
    found = near_duplicates(statements, root, state, since)
    for a, b, score in found:
        first, second = keyed[a], keyed[b]
        if second.id in first.contradicts or first.id in second.contradicts:
            continue
        if first.id == second.id:  # a copy: said as its id's clash ("the same as itself")
            continue
        yield warning(
            second.at("statement"),
            "statement",
            f"nearly the same as claim '{first.id}' ({score:.0f}% similar)",
            f"if both say the same, add this claim's source as evidence to '{first.id}'",
        )


def check_sources(ctx: Context) -> Iterator[Problem]:
    kinds = ctx.registry.taxonomy.lookup("source_kinds")
    for source in ctx.registry.sources:
        if source.kind not in kinds:
            yield unknown_value(source.at("kind"), "kind", source.kind, "source kind", kinds)
        text = ctx.texts[source.id]
        for i, passage in enumerate(source.boilerplate):
            if not text.find(passage).exact:
                yield error(
                    source.at(f"boilerplate[{i}]"),
                    f"boilerplate[{i}]",
                    "this passage is not in the article body",
                    "copy it verbatim from the body below the front matter",
                )


def check_overviews(ctx: Context) -> Iterator[Problem]:
    mechanisms = ctx.registry.taxonomy.lookup("mechanisms")
    claim_ids = {c.id for c in ctx.registry.claims} | set(ctx.claim_files)
    named = {Path(overview.path).stem for overview in ctx.registry.overviews}
    for overview in ctx.registry.overviews:
        stem = Path(overview.path).stem
        if overview.id != stem:
            hint = (  # not one that would overwrite the other
                f"'{overview.id}.md' is that overview: delete this file if it is a copy"
                if overview.id in named
                else f"rename the file to '{overview.id}.md'"
            )
            yield error(
                overview.at("id"),
                "id",
                f"'{overview.id}' does not match the file name '{stem}.md'",
                hint,
            )
        if overview.id not in mechanisms:
            yield unknown_value(overview.at("id"), "id", overview.id, "mechanism", mechanisms)
        for target, offset in _broken_links(overview.body, claim_ids):
            at = Location.of(overview.path, overview.body, offset, overview.body_line)
            yield unknown_value(at, "body", target, "claim", claim_ids)


def check_coverage(ctx: Context) -> Iterator[Problem]:
    minimum = ctx.registry.settings.coverage_minimum
    if minimum is None:  # the settings' error says why; the summary, that this is unjudged
        return
    for source in ctx.registry.sources:
        cov = ctx.coverage[source.id]
        if cov.percent < minimum:
            missing = len(cov.sentences) - sum(cov.covered)
            yield warning(
                Location(source.path),
                "coverage",
                f"{cov.percent:.0f}% of substantive sentences are anchored by a quote, "
                f"under the {minimum}% minimum ({missing} uncovered)",
                f"list them with 'python build.py coverage {source.id}'",
            )
