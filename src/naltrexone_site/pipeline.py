"""The stages in order: load, anchor, check. `build_site` adds analyse, render, write."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .analysis import anchor_all, coverage, source_texts
from .checks import Context, run_checks
from .load import load_registry
from .problems import Problem, Severity


@dataclass(frozen=True)
class Checked:
    """The outcome of `check`: the context (when the registry could be read) and problems."""

    context: Context | None
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> int:
        return sum(p.severity is Severity.ERROR for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.severity is Severity.WARNING for p in self.problems)


def check_project(root: Path) -> Checked:
    loaded = load_registry(root)
    registry = loaded.registry
    if registry is None:  # settings or taxonomy unreadable: nothing else can be judged
        return Checked(None, _sorted(loaded.problems))
    texts = source_texts(registry.sources)
    anchored = anchor_all(registry.claims, texts)
    by_source = {
        source.id: coverage(source, texts[source.id], anchored) for source in registry.sources
    }
    context = Context(
        registry, texts, anchored, by_source, loaded.claim_files, loaded.source_files
    )
    return Checked(context, _sorted([*loaded.problems, *run_checks(context)]))


def _sorted(problems: list[Problem]) -> tuple[Problem, ...]:
    return tuple(sorted(set(problems), key=lambda p: p.sort_key))
