"""`build`: check, analyse, render, write. Nothing is written unless every step succeeded.

Builds are incremental: the cache (cache.py) keeps, per output folder, the key of every
page written there (pagekeys.py: a digest of everything the page shows). A build renders
only the pages whose key changed, writes only those whose bytes changed, and when no
input file changed at all, writes nothing. Rendering and writing are split across cores
(parallel.py) when there are many pages to render.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from . import cache, history, output, parallel
from .cli import print_problems, summary
from .inputs import (
    BUILT_FROM,
    TEMPLATES,
    UNSETTLED,
    StatKey,
    read_as_scanned,
    rel,
    same_bytes,
    scan_inputs,
)
from .output import OutputError, Staging
from .problems import EXIT_OK, EXIT_PROBLEMS, Checked, Problem, Severity
from .stages import Stages

if TYPE_CHECKING:  # imported when there is work to do, or likely to be (see `_build`)
    from .checks import Context
    from .jobs import Ahead, Plan
    from .snapshot import Earlier

HERE = Path(__file__).resolve().parent  # this package's code, as tracebacks name it
PATCH_SHARE = 4  # replace files in place when at most 1/4 of the site changes
OVERLAP_FROM = 5000  # input files; from this many the look at them hides the imports
RECORD_BYTES = 100  # a build's record holds some 200 bytes an input file


@dataclass(frozen=True)
class Outcome:
    checked: Checked
    pages: int  # HTML pages in the site; 0 when the build stopped at the check
    written: int = 0  # files whose bytes changed

    @property
    def built(self) -> bool:
        return self.pages > 0


@dataclass
class Record:
    """What the cache remembers of the last build into one output folder."""

    inputs: dict[str, StatKey]  # every input file's stat, and the code's fingerprint
    build: bytes | None  # the build key (code, templates, settings, taxonomy, sources), if known
    keys: dict[str, bytes]  # output path -> key of what it shows
    inodes: dict[str, int]  # output path -> inode: the folder is still what was written
    pages: int
    problems: tuple[Problem, ...]
    counts: tuple[int, int]
    # input path -> digest of the bytes the build read, where known: a file whose stat
    # changed but whose bytes did not (a checkout, `git stash`, a save with no change)
    # changes nothing
    digests: dict[str, bytes]


def build(
    root: Path, out: Path, stages: Stages | None = None, base_url: str | None = None
) -> Outcome:
    """The whole build, top to bottom. `base_url`: the address the site is published at,
    in place of the settings' (`build --base-url`)."""
    output.refuse_unsafe(out, root)
    with cache.no_gc(), cache.written():
        return _build(root, out, stages or Stages(), base_url)


def _build(root: Path, out: Path, stages: Stages, base_url: str | None) -> Outcome:
    out = Path(os.path.abspath(out))
    with templates_compiled_beside(root) as templates_compiled:
        with stages("load"):
            # A first build, or a large registry (told by the size of the last build's
            # record): the look at every input and output file (0.07 s at 10,000 claims)
            # on another core, while this one loads that record (0.01 s) and imports what
            # a build with work to do needs (0.09 s). At 10,000 claims a one-claim rebuild
            # is then 0.06 s sooner, and a build with nothing to do 0.03 s later; a small
            # registry's look is too short to hide the imports behind.
            size = cache.stored_size(root, _record_name(out))
            overlap = size is None or size >= OVERLAP_FROM * RECORD_BYTES
            look = partial(_look, root, out, base_url)
            with parallel.Beside(look, enabled=overlap) as looking:
                loaded = cache.load(root, _record_name(out))
                record = loaded if isinstance(loaded, Record) else None
                if overlap:
                    from . import jobs, pipeline  # noqa: F401
                inputs, inodes = looking.result()
            if record is not None and record.inodes != inodes:
                record = None  # its folder was changed or removed by someone else
            if record is not None and record.inputs == inputs:
                stages.note("load", "no input changed: nothing to do")
                return Outcome(Checked(None, record.problems, record.counts), record.pages)
            if record is not None and same_bytes(root, inputs, record.inputs, record.digests):
                # kept with the new stat, so that the next build is the quicker no-op
                cache.save(root, _record_name(out), replace(record, inputs=inputs))
                stages.note("load", "only the inputs' times changed: nothing to do")
                return Outcome(Checked(None, record.problems, record.counts), record.pages)
        return _rebuild(root, out, stages, inputs, record, templates_compiled, base_url)


@contextmanager
def templates_compiled_beside(root: Path) -> Iterator[Callable[[], None]]:
    """Where the cache holds no compiled templates (a cold build), they are compiled into
    it by a child process, started first thing, while this one scans, loads and analyses;
    yields what waits for them. Rendering then loads them from the cache (5 ms) instead
    of compiling them here first (0.1 s: a quarter of a cold build of the real registry).
    While it waits, this process makes the Markdown parsers, which every source page of
    a cold build needs (markdown-it imported: 30 ms it otherwise spent after the wait)."""
    folder = cache.folder(root, "templates")
    if folder is None or parallel.workers() < 2 or any(folder.iterdir()):
        yield lambda: None
        return
    # Jinja imported before the child starts, so that it does not import it again: this
    # process needs it to render anyway. (A build that finds nothing to do has its
    # templates compiled already: it starts no child for them.)
    from . import markup, render  # noqa: F401

    with parallel.Beside(partial(_compile_templates, root / TEMPLATES, folder)) as compiling:

        def wait() -> None:
            markup.parsers()
            compiling.result()

        yield wait


def _compile_templates(templates: Path, compiled: Path) -> None:
    from .render import compile_all, environment

    # only a head start: the build compiles what it renders itself, and reports errors
    with suppress(Exception):
        compile_all(environment(templates, compiled))


def _rebuild(
    root: Path,
    out: Path,
    stages: Stages,
    inputs: dict[str, StatKey],
    record: Record | None,
    templates_compiled: Callable[[], None],
    base_url: str | None,
) -> Outcome:
    from . import jobs

    known = set(record.keys) if record is not None else None
    # The build key depends on the code and on files outside claims/ only: kept while
    # none of those changed.
    build_key = None
    if record is not None and record.build is not None and _frame(record.inputs) == _frame(inputs):
        build_key = record.build
    old_keys, old_build = (record.keys, record.build) if record is not None else (None, None)
    with jobs.Ahead(out, old_keys, old_build) as ahead:  # the downloads, early
        checked, plan = _checked_plan(root, stages, inputs, known, build_key, ahead, base_url)
        if plan is None:
            return Outcome(checked, pages=0)  # bad data never reaches a template
        files = _write(out, root, stages, record, plan, ahead, templates_compiled)
    pages = sum(path.endswith(".html") for path in files.keys)
    counts = (plan.claims, plan.sources)
    old_inputs, old_digests = (record.inputs, record.digests) if record else ({}, {})
    # The files outside claims/, read by now (a claim file's digest is of the bytes parsed).
    # One added, removed or written since the look (a checkout or `git stash` during the
    # build) may have been read as it was or as it is, and the build key worked out from
    # either: then the record keeps no build key and says the inputs were unsettled, and
    # the next build makes every page again, even if the files went back as they were.
    kept: bytes | None = plan.build
    digests = read_as_scanned(root, _frame(inputs), old_inputs, old_digests)
    if digests is None:
        inputs = {**inputs, UNSETTLED: (0,)}
        kept, digests = None, {}
    if checked.context is not None:
        digests.update(checked.context.digests)
    saved = Record(inputs, kept, files.keys, files.inodes, pages, checked.problems, counts, digests)
    cache.save(root, _record_name(out), saved)
    cache.held(record, plan, saved, checked)  # `saved` holds the new inputs, keys, digests
    return Outcome(checked, pages=pages, written=files.written)


def _checked_plan(
    root: Path,
    stages: Stages,
    inputs: dict[str, StatKey],
    known: set[str] | None,
    build_key: bytes | None,
    ahead: Ahead,
    base_url: str | None,
) -> tuple[Checked, Plan | None]:
    """Load, anchor, check and analyse: the plan of the site, or None when the registry
    has errors (or its taxonomy cannot be used)."""
    from . import jobs
    from .pipeline import BESIDE_FROM, anchor_project, run_all_checks, unjudged

    plan = None
    with anchor_project(root, stages, inputs) as anchored:  # load, anchor every quote
        context = _published_at(anchored.context, base_url)
        earlier = anchored.earlier
        loaded_clean = not any(p.severity is Severity.ERROR for p in anchored.problems)
        # One step from the last run's registry, only the changed claims (and, where a
        # claim came or went, those naming it) are checked again: quicker here than in a
        # child, whose fork made every page of this large process copy-on-write for the
        # rest of the build (see pipeline.run_all_checks)
        stepped = anchored.step is not None
        many = context is not None and len(context.registry.claims) >= BESIDE_FROM
        if context is not None and loaded_clean and many and not stepped:
            # Checks on another core while this one analyses, on the guess that they find
            # no error (loading found none: its settings may be a stand-in); a second child
            # cannot wait for the first, so the duplicate search is collected here first.
            alone = anchored
            if anchored.beside:
                duplicates = anchored.duplicates()
                alone = replace(anchored, duplicates=lambda: duplicates)
            with parallel.Beside(lambda: run_all_checks(root, alone)) as checking:
                plan = _guessed_plan(root, context, known, build_key, stages, ahead, earlier)
                with stages("check"):
                    problems = checking.result()
        else:
            with stages("check"):
                problems = run_all_checks(root, anchored)
        checked = Checked(context, problems, unjudged=unjudged(context))
        if checked.errors or context is None:
            return checked, None
        if plan is None:
            with stages("analyse"):
                plan = jobs.plan(root, context, known, build_key, ahead, earlier)
        anchored.keep_with(plan.analysed)  # the registry kept with its analysis
    return checked, plan


@dataclass(frozen=True)
class _Written:
    keys: dict[str, bytes]  # output path -> key of what it shows
    inodes: dict[str, int]
    written: int  # files whose bytes changed


def _write(
    out: Path,
    root: Path,
    stages: Stages,
    record: Record | None,
    plan: Plan,
    ahead: Ahead,
    templates_compiled: Callable[[], None],
) -> _Written:
    """Render the pages whose key changed and put the site in place: the changed files
    moved into it when few changed, else a new folder (the rest hard-linked) swapped in."""
    from . import jobs

    staging = ahead.staging or Staging(out)
    try:
        with stages("render"):
            dirty, keys, removed = plan.jobs, plan.keys, plan.removed
            changed = len(dirty) + len(removed)
            patch = record is not None and changed * PATCH_SHARE <= len(keys)
            templates_compiled()
            todo = [job for job in dirty if job is not ahead.job]
            written = jobs.produce(todo, staging, compare=patch, prepare=plan.prepare)
            written += ahead.result()
            made = sum(len(job.paths) for job in dirty)
            stages.note("render", f"{made} of {len(keys)} files made")
        with stages("write"):
            if patch:
                assert record is not None
                staging.patch(written, removed)
                found = {**record.inodes}
                for path in removed:
                    found.pop(path, None)
                for path in written:
                    found[path] = os.stat(out / path).st_ino
            else:
                if record is not None:  # files not written: hard links to the old site's
                    staging.link(sorted(keys.keys() - set(written)))
                staging.replace_all()
                found = output.inodes(out)
            stages.note("write", f"{len(written)} files written, {len(removed)} removed")
    finally:
        staging.discard()
    return _Written(keys, found, len(written))


def _guessed_plan(
    root: Path,
    context: Context,
    known: set[str] | None,
    build: bytes | None,
    stages: Stages,
    ahead: Ahead,
    earlier: Earlier | None,
) -> Plan | None:
    """The analysis, started before the checks have said the registry is sound: None
    where bad data broke it (the checks then say what is wrong; were they to find
    nothing, the analysis runs again after them, to fail as it is)."""
    from . import jobs

    with stages("analyse"):
        try:
            return jobs.plan(root, context, known, build, ahead, earlier)
        except Exception:
            return None


def _published_at(context: Context | None, base_url: str | None) -> Context | None:
    """The context with `base_url` in place of the settings' address, when one is given.
    (What the checks read of the settings does not include the address.)"""
    if context is None or base_url is None:
        return context
    registry = context.registry
    settings = replace(registry.settings, base_url=base_url)
    return replace(context, registry=replace(registry, settings=settings))


def _frame(inputs: dict[str, StatKey]) -> dict[str, StatKey]:
    """The inputs but the claim files."""
    return {path: key for path, key in inputs.items() if not path.startswith("claims/")}


def _record_name(out: Path) -> str:
    return "site-" + hashlib.sha256(str(out).encode()).hexdigest()[:16]


def _look(
    root: Path, out: Path, base_url: str | None = None
) -> tuple[dict[str, StatKey], dict[str, int]]:
    """The stat of every input, with the code's and the checkout's fingerprints and the
    address given in place of the settings', if any; and the inode of every file in `out`,
    which tells whether it is still the site the last build wrote there."""
    inputs = scan_inputs(root, BUILT_FROM)
    inputs[":code"] = (int(cache.code_fingerprint(), 16),)
    inputs[":git"] = (_fingerprint(history.head(root)),)
    if base_url is not None:
        inputs[":base_url"] = (_fingerprint(base_url),)
    return inputs, output.inodes(out)


def _fingerprint(text: str) -> int:
    return int(hashlib.sha1(text.encode()).hexdigest()[:15], 16)


def build_command(root: Path, out: Path, profile: bool = False, base_url: str | None = None) -> int:
    started = time.perf_counter()
    stages = Stages()
    try:
        outcome = build(root, out, stages, base_url)
    except OutputError as exc:
        return _failed(f"error: {exc}", out)
    except Exception as exc:
        failed = template_failure(root, exc)  # first: a missing template is an OSError too
        if failed is not None:
            return _failed(failed, out)
        if not isinstance(exc, OSError):
            raise
        return _failed(
            f"error: cannot write the site: {output.named(exc, out)}: {exc.strerror}", out
        )
    if profile:
        print("\n".join(stages.lines()), file=sys.stderr)
    checked = outcome.checked
    if not outcome.built:
        print_problems(checked.problems)
        print(summary(checked))
        print(f"not built: fix the errors above; {_shown(out)} was left as it was")
        return EXIT_PROBLEMS
    registry = checked.context.registry if checked.context else None
    claims = len(registry.claims) if registry else (checked.counts or (0, 0))[0]
    warnings = checked.warnings
    print(
        f"built {outcome.pages} pages ({claims} claim{'s' * (claims != 1)}, "
        f"{warnings} warning{'s' * (warnings != 1)}) in {time.perf_counter() - started:.2f} s"
    )
    return EXIT_OK


def template_failure(root: Path, exc: BaseException) -> str | None:
    """The error line for an exception raised by a template (for `build` and `serve`), or
    None when no template raised it."""
    jinja2 = sys.modules.get("jinja2")  # imported if a template was rendered at all
    if jinja2 is None:
        return None
    where = template_location(root, exc)
    if isinstance(exc, jinja2.TemplateNotFound):
        return (
            f"{where}error: there is no template '{exc.name}' in {TEMPLATES}/ "
            "(restore it from the repository, or correct the name)"
        )
    if isinstance(exc, jinja2.TemplateError):
        return f"{where}error: {exc.message}"
    if not where or _raised_here(exc):  # a bug of this package: its traceback is wanted
        return None
    if isinstance(exc, RecursionError):
        return f"{where}error: the template includes or extends itself, without end"
    return f"{where}error: the template failed: {type(exc).__name__}: {exc}"  # `1 // 0`


def _raised_here(exc: BaseException) -> bool:
    """Whether the innermost frame of the traceback is this package's code (a filter or
    function the templates call), not a template's."""
    frame = exc.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    return frame is not None and Path(frame.tb_frame.f_code.co_filename).resolve().parent == HERE


def template_location(root: Path, exc: BaseException) -> str:
    """'templates/x.html:12: ' for a Jinja error (for `build` and `serve`): where a syntax
    error is, else the innermost template line in the traceback ('' if none)."""
    from jinja2 import TemplateSyntaxError  # imported already: a template failed

    if isinstance(exc, TemplateSyntaxError):
        where = rel(root, Path(exc.filename)) if exc.filename else exc.name or "a template"
        return f"{where}:{exc.lineno}: "
    where = ""
    frame = exc.__traceback__
    while frame is not None:
        name = frame.tb_frame.f_code.co_filename
        if name.endswith(".html"):
            where = f"{rel(root, Path(name))}:{frame.tb_lineno}: "
        frame = frame.tb_next
    return where


def _failed(message: str, out: Path) -> int:
    print(message, file=sys.stderr)
    print(f"not built: {_shown(out)} was left as it was", file=sys.stderr)
    return EXIT_PROBLEMS


def _shown(out: Path) -> str:
    try:
        return str(out.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(out)
