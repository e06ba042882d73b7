"""Every check is a generator of problems; none stops at the first."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz

from .analysis import AnchoredEvidence, Coverage
from .anchoring import CLOSE_SCORE, SourceText
from .models import Claim, Registry
from .problems import Location, Problem, error, warning
from .schema import CLAIM_FIELDS, EVIDENCE_FIELDS, nearest

DUPLICATE_SCORE = 90.0  # token_sort_ratio of two statements at or above: near-duplicates
_STOPWORDS = frozenset(
    [
        "the",
        "and",
        "that",
        "with",
        "from",
        "this",
        "into",
        "than",
        "their",
        "there",
        "these",
        "those",
        "which",
        "while",
        "about",
        "naltrexone",
        "ldn",
        "dose",
        "low",
        "standard",
        "may",
        "can",
        "could",
        "effects",
        "effect",
    ]
)
_CLAIM_LINK = re.compile(r"\(claim:([^)\s]*)\)")


@dataclass(frozen=True)
class Context:
    """Everything a check may look at, computed once by the pipeline."""

    registry: Registry
    texts: Mapping[str, SourceText]
    anchored: tuple[AnchoredEvidence, ...]
    coverage: Mapping[str, Coverage]
    claim_files: tuple[str, ...]  # stems of every claim file, even ones that failed to parse
    source_files: tuple[str, ...] = ()  # likewise for sources: their own errors say why


def run_checks(ctx: Context) -> list[Problem]:
    checks = (
        check_ids,
        check_references,
        check_anchoring,
        check_relations,
        check_grades,
        check_duplicates,
        check_sources,
        check_overviews,
        check_coverage,
    )
    return [problem for check in checks for problem in check(ctx)]


def _unknown(where: Location, field: str, value: str, what: str, choices: Iterable[str]) -> Problem:
    options = sorted(choices)
    guess = nearest(value, options)
    if guess:
        hint = f"did you mean '{guess}'?"
    elif len(options) <= 8:
        hint = f"choose one of: {', '.join(options)}"
    else:
        hint = f"see the list of {what}s"
    return error(where, field, f"'{value}' is not a known {what}", hint)


def check_ids(ctx: Context) -> Iterator[Problem]:
    first: dict[str, Claim] = {}
    for claim in ctx.registry.claims:
        stem = claim.path.rsplit("/", 1)[-1].removesuffix(".yaml")
        if claim.id != stem:
            yield error(
                claim.at("id"),
                "id",
                f"'{claim.id}' does not match the file name '{stem}.yaml'",
                f"rename the file to '{claim.id}.yaml' or set 'id: {stem}'",
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
    seen: dict[str, str] = {}
    for source in ctx.registry.sources:
        stem = source.path.rsplit("/", 1)[-1].removesuffix(".md")
        if source.id != stem:
            yield error(
                source.at("id"),
                "id",
                f"'{source.id}' does not match the file name '{stem}.md'",
                f"rename the file to '{source.id}.md' or set 'id: {stem}'",
            )
        if source.id.lower() in seen:
            yield error(
                source.at("id"), "id", f"'{source.id}' is already used by {seen[source.id.lower()]}"
            )
        seen.setdefault(source.id.lower(), source.path)


def check_references(ctx: Context) -> Iterator[Problem]:
    taxonomy = ctx.registry.taxonomy
    sources = {s.id: s for s in ctx.registry.sources}
    claim_ids = set(ctx.claim_files) | {c.id for c in ctx.registry.claims}
    refs = {f.name: f.ref for f in CLAIM_FIELDS if f.ref}
    evidence_refs = {f.name: f.ref for f in EVIDENCE_FIELDS if f.ref}
    for claim in ctx.registry.claims:
        for name, ref in refs.items():
            values = getattr(claim, name)
            for i, value in enumerate((values,) if isinstance(values, str) else values):
                key = name if isinstance(values, str) else f"{name}[{i}]"
                known: Iterable[str] = claim_ids if ref == "claims" else taxonomy.lookup(ref)
                if value not in known:
                    yield _unknown(claim.at(key), name, value, _WHAT[ref], known)
        for i, item in enumerate(claim.evidence):
            key = f"evidence[{i}]"
            for name, ref in evidence_refs.items():
                value = getattr(item, name)
                choices: Iterable[str] = sources if ref == "sources" else taxonomy.lookup(ref)
                if value not in choices and value not in ctx.source_files:
                    yield _unknown(
                        claim.at(f"{key}.{name}"), f"{key}.{name}", value, _WHAT[ref], choices
                    )
            source = sources.get(item.source)
            for n in item.cites:
                if source is not None and n > len(source.references):
                    yield error(
                        claim.at(f"{key}.cites"),
                        f"{key}.cites",
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


def check_anchoring(ctx: Context) -> Iterator[Problem]:
    for item in ctx.anchored:
        anchor = item.anchor
        if anchor is None or anchor.exact:
            continue  # an unknown source is reported by check_references
        key = f"evidence[{item.index}].quote"
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


def check_relations(ctx: Context) -> Iterator[Problem]:
    for claim in ctx.registry.claims:
        for name in ("contradicts", "related"):
            for i, other in enumerate(getattr(claim, name)):
                if other == claim.id:
                    yield error(
                        claim.at(f"{name}[{i}]"),
                        name,
                        "a claim cannot name itself",
                        f"remove '{other}'",
                    )
        for other in sorted(set(claim.contradicts) & set(claim.related)):
            yield warning(
                claim.at("related"),
                "related",
                f"'{other}' is listed as both contradicting and related",
                "keep it under 'contradicts' only",
            )
        for source, count in Counter(
            (e.source, " ".join(e.quote.split())) for e in claim.evidence
        ).items():
            if count > 1:
                yield warning(
                    claim.at("evidence"),
                    "evidence",
                    f"the same quote from '{source[0]}' is given {count} times",
                    "keep one",
                )


def check_grades(ctx: Context) -> Iterator[Problem]:
    stances = ctx.registry.taxonomy.lookup("stances")
    for claim in ctx.registry.claims:
        known = all(e.stance in stances for e in claim.evidence)  # else reported as unknown
        if known and not any(e.stance == "supports" for e in claim.evidence):
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


def check_duplicates(ctx: Context) -> Iterator[Problem]:
    """Near-duplicate statements. Scoring all pairs is quadratic, so candidates are the
    pairs that share one of their three rarest words (prefix filtering); words common
    to more than one statement in a hundred are too common to pick candidates by."""
    claims = sorted(ctx.registry.claims, key=lambda c: c.id)
    words = [_content_words(c.statement) for c in claims]
    frequency = Counter(w for ws in words for w in ws)
    common = max(50, len(claims) // 100)
    buckets: dict[str, list[int]] = defaultdict(list)
    for i, ws in enumerate(words):
        rare = [w for w in ws if frequency[w] <= common] or list(ws)
        for w in sorted(rare, key=lambda w: (frequency[w], w))[:3]:
            buckets[w].append(i)
    pairs = {(a, b) for bucket in buckets.values() for a in bucket for b in bucket if a < b}
    statements = [" ".join(c.statement.lower().split()) for c in claims]
    for a, b in sorted(pairs):
        first, second = claims[a], claims[b]
        if second.id in first.contradicts or first.id in second.contradicts:
            continue
        score = fuzz.token_sort_ratio(statements[a], statements[b], score_cutoff=DUPLICATE_SCORE)
        if score:
            yield warning(
                second.at("statement"),
                "statement",
                f"nearly the same as claim '{first.id}' ({score:.0f}% similar)",
                f"if both say the same, add this claim's source as evidence to '{first.id}'",
            )


def _content_words(statement: str) -> set[str]:
    return {
        w for w in re.findall(r"[a-z0-9]+", statement.lower()) if len(w) > 3 and w not in _STOPWORDS
    } or set(statement.lower().split())


def check_sources(ctx: Context) -> Iterator[Problem]:
    kinds = ctx.registry.taxonomy.lookup("source_kinds")
    for source in ctx.registry.sources:
        if source.kind not in kinds:
            yield _unknown(source.at("kind"), "kind", source.kind, "source kind", kinds)
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
    for overview in ctx.registry.overviews:
        stem = overview.path.rsplit("/", 1)[-1].removesuffix(".md")
        if overview.id != stem:
            yield error(
                overview.at("id"),
                "id",
                f"'{overview.id}' does not match the file name '{stem}.md'",
                f"rename the file to '{overview.id}.md'",
            )
        if overview.id not in mechanisms:
            yield _unknown(overview.at("id"), "id", overview.id, "mechanism", mechanisms)
        for match in _CLAIM_LINK.finditer(overview.body):
            if match.group(1) not in claim_ids:
                line = overview.body_line + overview.body.count("\n", 0, match.start())
                col = match.start() - overview.body.rfind("\n", 0, match.start())
                yield _unknown(
                    Location(overview.path, line, col), "body", match.group(1), "claim", claim_ids
                )


def check_coverage(ctx: Context) -> Iterator[Problem]:
    minimum = ctx.registry.settings.coverage_minimum
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
