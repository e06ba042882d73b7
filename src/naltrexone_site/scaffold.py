"""`new`: a claim file with its evidence filled in and its quote already anchored.

The fields only an editor can decide (statement, kind, mechanism, dose, strength) are left
empty, so `check` reports each of them with its line until it is filled; a comment on the
line lists the valid choices. Nothing is written when the id, source or quote is wrong,
and an existing claim is never overwritten.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .analysis import AnchoredEvidence
from .anchoring import SourceText
from .checks import Context, check_anchoring
from .load import load_registry
from .models import Claim, Evidence, Registry, Taxonomy
from .pipeline import check_project
from .problems import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, Problem
from .schema import ID_HINT, ID_RE, LONG_ID_HINT, MAX_ID, unknown_hint

SCHEMA_LINE = "# yaml-language-server: $schema=../schema/claim.schema.json"


@dataclass(frozen=True)
class Request:
    claim_id: str
    source: str
    quote: str
    mechanisms: tuple[str, ...] = ()
    dose: str | None = None
    stance: str = "supports"


@dataclass(frozen=True)
class Result:
    code: int
    path: str = ""  # the file written, relative to the project; "" when nothing was written
    anchored_at: str = ""  # where the quote is in its source: "content/sources/x.md:12"
    errors: tuple[str, ...] = ()  # why nothing was written
    todo: tuple[Problem, ...] = ()  # what `check` still reports in the new file


def new_claim(root: Path, request: Request) -> Result:
    """Write claims/<id>.yaml for `request`, or explain why not."""
    claim_id = request.claim_id
    if not ID_RE.fullmatch(claim_id):
        return _refuse(EXIT_USAGE, f"error: '{claim_id}' is not a valid claim id ({ID_HINT})")
    if len(claim_id) > MAX_ID:
        return _refuse(
            EXIT_USAGE, f"error: the claim id is {len(claim_id)} characters long ({LONG_ID_HINT})"
        )
    rel_path = f"claims/{claim_id}.yaml"
    path = root / "claims" / f"{claim_id}.yaml"
    if path.exists():
        return _refuse(
            EXIT_PROBLEMS,
            f"error: {rel_path} already exists: edit it, or choose another id "
            "(nothing was written)",
        )
    loaded = load_registry(root)
    registry = loaded.registry
    if registry is None:
        return Result(EXIT_PROBLEMS, errors=tuple(str(p) for p in loaded.problems))
    taken = next((c for c in registry.claims if c.id.lower() == claim_id), None)
    if taken is not None:
        return _refuse(EXIT_PROBLEMS, f"error: '{claim_id}' is already the id of {taken.path}")
    errors = _argument_errors(request, registry, loaded.problems)
    if errors:
        return Result(EXIT_USAGE, errors=errors)
    source = next(s for s in registry.sources if s.id == request.source)
    text = SourceText(source.body)
    anchor = text.find(request.quote)
    mismatch = _anchoring_problem(request, rel_path, registry, text)
    if mismatch is not None:
        return _refuse(
            EXIT_PROBLEMS,
            f"error: --quote: {mismatch.message} ({mismatch.hint}); nothing was written",
        )
    path.parent.mkdir(exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8", newline="\n") as handle:
            handle.write(claim_text(request, registry.taxonomy))
    except FileExistsError:  # created since we looked
        return _refuse(EXIT_PROBLEMS, f"error: {rel_path} already exists (nothing was written)")
    todo = tuple(p for p in check_project(root).problems if p.location.path == rel_path)
    line = source.body_line + source.body.count("\n", 0, anchor.start)
    return Result(EXIT_OK, path=rel_path, anchored_at=f"{source.path}:{line}", todo=todo)


def _refuse(code: int, message: str) -> Result:
    return Result(code, errors=(message,))


def _argument_errors(
    request: Request, registry: Registry, problems: Sequence[Problem]
) -> tuple[str, ...]:
    taxonomy = registry.taxonomy
    errors: list[str] = []
    sources = [s.id for s in registry.sources if not s.stood_in]  # else its errors first
    if request.source not in sources:
        broken = [str(p) for p in problems if p.location.path == _source_path(request)]
        if broken:
            errors += [f"error: --source: '{request.source}' cannot be read:", *broken]
        else:
            errors.append(_unknown("--source", request.source, "source", sources))
    if not " ".join(request.quote.split()):
        errors.append(f"error: --quote: is empty (copy a passage from {_source_path(request)})")
    for mechanism in request.mechanisms:
        if mechanism not in taxonomy.lookup("mechanisms"):
            errors.append(
                _unknown("--mechanism", mechanism, "mechanism", list(taxonomy.lookup("mechanisms")))
            )
    if request.dose is not None and request.dose not in taxonomy.lookup("doses"):
        errors.append(_unknown("--dose", request.dose, "dose", list(taxonomy.lookup("doses"))))
    if request.stance not in taxonomy.lookup("stances"):
        errors.append(
            _unknown("--stance", request.stance, "stance", list(taxonomy.lookup("stances")))
        )
    return tuple(errors)


def _unknown(option: str, value: str, what: str, choices: list[str]) -> str:
    """An option's unknown value: every choice listed, as the command line has no list
    to point to."""
    hint = unknown_hint(value, choices, what)
    return f"error: {option}: '{value}' is not a known {what} ({hint})"


def _source_path(request: Request) -> str:
    return f"content/sources/{request.source}.md"


def _anchoring_problem(
    request: Request, rel_path: str, registry: Registry, text: SourceText
) -> Problem | None:
    """The problem `check` would report for this quote, worded exactly as `check` words it."""
    evidence = Evidence(request.source, request.quote, request.stance)
    claim = Claim(
        id=request.claim_id,
        statement="",
        kind="",
        mechanism=(),
        dose="",
        strength="",
        evidence=(evidence,),
        path=rel_path,
    )
    anchor = text.find(request.quote)
    if anchor.exact:
        return None
    ctx = Context(
        registry=registry,
        texts={request.source: text},
        anchored=(AnchoredEvidence(claim, 0, evidence, anchor),),
        coverage={},
        claim_files=(),
    )
    return next(iter(check_anchoring(ctx)), None)


def claim_text(request: Request, taxonomy: Taxonomy) -> str:
    """The new file: the editor's-tool schema line, the evidence, commented placeholders."""

    def ids(name: str) -> str:
        return " | ".join(term.id for term in taxonomy.terms(name))

    mechanisms = (
        f"mechanism: [{', '.join(request.mechanisms)}]"
        if request.mechanisms
        else "mechanism:  # one or more ids from content/taxonomy/mechanisms.yaml, e.g. [dopamine]"
    )
    dose = f"dose: {request.dose}" if request.dose else f"dose:  # {ids('doses')}"
    lines = [
        SCHEMA_LINE,
        f"id: {request.claim_id}",
        "statement:  # a neutral paraphrase of what the source asserts (Markdown allowed)",
        f"kind:  # {ids('claim_kinds')}",
        mechanisms,
        dose,
        f"strength:  # {ids('strengths')}",
        "evidence:",
        f"  - source: {request.source}",
        "    quote: >-",
        *folded(request.quote, indent=6),
        f"    stance: {request.stance}",
    ]
    return "\n".join(lines) + "\n"


def folded(text: str, indent: int, width: int = 88) -> list[str]:
    """Text as the lines of a YAML folded block (`>-`), the registry's house style.

    Whitespace runs become single spaces (anchoring ignores them); folding joins the lines
    with one space again, so the value reads back as the collapsed text exactly.
    """
    words = " ".join(text.split())
    lines = textwrap.wrap(words, width - indent, break_long_words=False, break_on_hyphens=False)
    return [" " * indent + line for line in lines]
