"""Command line: parse arguments, print reports, choose the exit code. Nothing else prints."""

from __future__ import annotations

import argparse
import os
import select
import signal
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from . import interrupt
from .problems import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, Checked, Problem
from .schema import site_address

if TYPE_CHECKING:
    from .checks import Context


def entry() -> NoReturn:
    """What the console script of an install older than `__main__.entry` calls: this
    module's imports then run before the signal handlers are in place (reinstall)."""
    from .__main__ import entry

    entry()


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _run(argv)
        sys.stdout.flush()  # here, where a reader gone is told from a fault
        return code
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM or SIGHUP (see interrupt.py)
        return interrupt.report(stop)
    except OSError as exc:  # a disk or permission problem, not a fault in the registry
        if isinstance(exc, BrokenPipeError) and _reader_gone():
            # `check | head`: the reader has all it wants. Stop quietly, as a program
            # stopped by SIGPIPE does (cat, grep, git), not with "error: Broken pipe"; the
            # output still held goes nowhere, rather than fail again at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 128 + signal.SIGPIPE
        where = f" {exc.filename}:" if exc.filename else ""  # none for stdout: "error::" was
        print(f"error:{where} {exc.strerror or exc}", file=sys.stderr)
        return EXIT_PROBLEMS


def _reader_gone() -> bool:
    """Whether the output goes into a pipe that nothing reads any more (a broken pipe
    between a build and its own workers is a fault, and said). Such a pipe polls as an
    error."""
    poller = select.poll()
    poller.register(sys.stdout.fileno(), select.POLLOUT)
    return any(event & select.POLLERR for _, event in poller.poll(0))


def _run(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)  # exits with 2 on a usage error
    root = Path(args.root).resolve()
    if not (root / "content").is_dir():
        print(
            f"error: {root} is not a project: it has no content/ folder "
            "(run from the repository root or pass --root)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    command = args.command or "build"
    if command == "check":
        return _check(root, strict=args.strict)
    if command == "coverage":
        return _coverage(root, args.source, show_all=args.all)
    if command == "schema":
        return _schema(root, check_only=args.check)
    if command == "build":
        from .builder import build_command

        site = Path(args.out) if args.out else root / "_site"
        base_url = None if args.base_url is None else site_address(args.base_url)
        if args.base_url is not None and base_url is None:
            print(
                f"error: --base-url: '{args.base_url}' is not the address of a site "
                "(write it in full, such as https://owner.github.io/repo/)",
                file=sys.stderr,
            )
            return EXIT_USAGE
        return build_command(root, site, profile=args.profile, base_url=base_url)
    if command == "serve":
        from .serve import serve

        out = Path(args.out).resolve() if args.out else None
        # each line as it happens, also into a pipe or a file (`serve | tee log`), where
        # Python would otherwise hold them until 8 KB had gathered
        return serve(root, out, args.host, args.port, report=partial(print, flush=True))
    if command == "new":
        return _new(root, args)
    parser.error(f"unknown command {command!r}")
    return EXIT_USAGE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="naltrexone-site",
        description="Validate the claim registry and build the naltrexone evidence map.",
    )
    parser.add_argument("--root", default=".", help="the project folder (default: .)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    build = commands.add_parser("build", help="build the site (the default command)")
    build.add_argument("--out", type=_given, help="output folder (default: _site)")
    build.add_argument(
        "--profile", action="store_true", help="print the seconds each stage took (to stderr)"
    )
    build.add_argument(
        "--base-url",
        metavar="URL",
        help="the address the site is published at, instead of base_url in content/site.yaml "
        "(the Pages workflow passes the one GitHub Pages gives)",
    )
    check = commands.add_parser("check", help="validate the registry and report every problem")
    check.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    cov = commands.add_parser(
        "coverage", help="per-source share of sentences anchored by a quote; list the rest"
    )
    cov.add_argument("source", nargs="?", help="a source id: list its uncovered sentences")
    cov.add_argument("--all", action="store_true", help="with a source: list covered ones too")
    schema = commands.add_parser(
        "schema", help="write the JSON Schemas for editors' tools to schema/"
    )
    schema.add_argument("--check", action="store_true", help="exit 1 if the files are stale")
    serve = commands.add_parser(
        "serve", help="preview: build, serve on this machine, rebuild and reload on change"
    )
    serve.add_argument(
        "--port", type=_port, default=8000, help="0 picks a free port (default: 8000)"
    )
    serve.add_argument(
        "--host",
        type=_given,
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1)",
    )
    serve.add_argument("--out", type=_given, help="output folder (default: a temporary folder)")
    new = commands.add_parser("new", help="start a claim file with its quote anchored")
    new.add_argument("claim_id", metavar="CLAIM-ID", help="the new claim's id and file name")
    new.add_argument("--source", required=True, help="the id of the source the quote is from")
    new.add_argument("--quote", required=True, help="a verbatim passage from the source")
    new.add_argument(
        "--mechanism", action="append", default=[], help="a mechanism or topic id (repeatable)"
    )
    new.add_argument("--dose", help="standard, low, both or unspecified")
    new.add_argument("--stance", default="supports", help="supports (default), disputes, qualifies")
    parser.set_defaults(out=None, profile=False, base_url=None)  # `build` as the default
    return parser


def _port(text: str) -> int:
    # ASCII digits only: str.isdigit takes '٣' (int reads it as 3) and '²' (int refuses it)
    if not (text.isascii() and text.isdigit()) or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number (0 to 65535)")
    return int(text)


def _given(text: str) -> str:
    """A folder or address: an empty one built into _site (`--out ""`), or printed
    "serving http://:8000/"."""
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty (give a value, or leave the option out)")
    return text


def print_problems(problems: Sequence[Problem]) -> None:
    annotate = os.environ.get("GITHUB_ACTIONS") == "true"
    for problem in problems:
        print(problem)
        if annotate:
            print(github_annotation(problem))


def github_annotation(problem: Problem) -> str:
    """The problem as a GitHub Actions workflow command, shown on the pull request's diff."""

    def escape(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def escape_property(text: str) -> str:
        return escape(text).replace(":", "%3A").replace(",", "%2C")

    loc = problem.location
    where = f"file={escape_property(loc.path)}"
    if loc.line:
        where += f",line={loc.line},col={loc.col or 1}"
    field = f"{problem.field}: " if problem.field else ""
    hint = f" ({problem.hint})" if problem.hint else ""
    return f"::{problem.severity.value} {where}::{escape(field + problem.message + hint)}"


def summary(checked: Checked) -> str:
    ctx = checked.context
    counts = files_read(ctx) if ctx else checked.counts
    counted = f"{plural(counts[0], 'claim')}, {plural(counts[1], 'source')}: " if counts else ""
    line = f"{counted}{plural(checked.errors, 'error')}, {plural(checked.warnings, 'warning')}"
    if checked.unjudged:  # read, but not judged: said rather than left unsaid
        line += f"; {checked.unjudged}"
    return line


def files_read(ctx: Context) -> tuple[int, int]:
    """The claim and source files `check` read, whether or not each could be made a claim
    or source: the count was of those made, so a file's error changed it ("3 claims, 0
    sources" beside a project of four claims and one source)."""
    return len(ctx.claim_files), len(ctx.source_files)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _check(root: Path, strict: bool) -> int:
    checked = checked_project(root)
    print_problems(checked.problems)
    print(summary(checked))
    if checked.errors or (strict and checked.warnings):
        return EXIT_PROBLEMS
    return EXIT_OK


def checked_project(root: Path) -> Checked:
    """`check_project`, or its last result when no input file changed since (the cache
    keeps it with the stat of every input): what an editor re-running `check` waits for."""
    from . import cache
    from .inputs import scan_inputs

    inputs = scan_inputs(root)
    inputs[":code"] = (int(cache.code_fingerprint(), 16),)
    last = cache.load(root, "check")
    if isinstance(last, tuple) and len(last) == 4 and last[0] == inputs:
        return Checked(None, last[1], last[2], last[3])
    from .pipeline import check_project  # imported only when there is work to do

    checked = check_project(root, None, inputs)
    ctx = checked.context
    counts = files_read(ctx) if ctx else None
    cache.save(root, "check", (inputs, checked.problems, counts, checked.unjudged))
    cache.held(checked)  # see __main__.entry
    return checked


def _coverage(root: Path, source_id: str | None, show_all: bool) -> int:
    from .pipeline import check_project

    checked = check_project(root)
    ctx = checked.context
    if ctx is None:
        print_problems(checked.problems)
        print(summary(checked))
        return EXIT_PROBLEMS
    # A source that cannot be read, or is made with stand-ins (an empty `boilerplate`
    # would count its boilerplate in), has no coverage: say so, rather than leave it out
    # of the list (and exit 0) or call it unknown. (One read despite an error, a key
    # given twice, has its coverage.)
    judged = [source for source in ctx.registry.sources if not source.stood_in]
    made, listed = {s.path for s in judged}, {s.id for s in judged}
    unread = [
        p
        for p in checked.problems
        if p.severity == "error"
        and p.location.path.startswith("content/sources/")
        and p.location.path not in made
    ]
    if source_id is not None and f"content/sources/{source_id}.md" in {
        p.location.path for p in unread
    }:
        print_problems([p for p in unread if p.location.path.endswith(f"/{source_id}.md")])
        print(f"'{source_id}' cannot be read: fix the errors above, then ask again")
        return EXIT_PROBLEMS
    if source_id is None:
        for sid, cov in sorted(ctx.coverage.items()):
            if sid not in listed:
                continue
            print(
                f"{sid}: {cov.percent:.1f}% ({sum(cov.covered)} of {len(cov.sentences)} "
                f"sentences anchored; {cov.excluded} excluded as boilerplate)"
            )
        if unread:
            print_problems(unread)
            names = sorted({p.location.path.rsplit("/", 1)[-1][:-3] for p in unread})
            print(f"not listed (see the errors above): {', '.join(names)}")
            return EXIT_PROBLEMS
        return EXIT_OK
    if source_id not in ctx.coverage:
        known = ", ".join(sorted(ctx.coverage))
        print(f"error: '{source_id}' is not a known source (known: {known})", file=sys.stderr)
        return EXIT_USAGE
    cov = ctx.coverage[source_id]
    source = next(s for s in ctx.registry.sources if s.id == source_id)
    for (start, end), ok in zip(cov.sentences, cov.covered, strict=True):
        if show_all or not ok:
            line = source.body_line + source.body.count("\n", 0, start)
            mark = "covered" if ok else "uncovered"
            print(f"{source.path}:{line}: {mark}: {' '.join(source.body[start:end].split())}")
    print(
        f"{source_id}: {cov.percent:.1f}% ({sum(cov.covered)} of {len(cov.sentences)} "
        "sentences anchored)"
    )
    return EXIT_OK


def _schema(root: Path, check_only: bool) -> int:
    from .inputs import SCHEMAS
    from .load import load_registry
    from .schema import schema_files

    loaded = load_registry(root)
    if loaded.registry is None:
        print_problems(loaded.problems)
        return EXIT_PROBLEMS
    stale = []
    for name, text in schema_files(loaded.registry.taxonomy).items():
        path = root / SCHEMAS / name
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(name)
        if not check_only:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
    verb = "stale" if check_only else "written"
    print(f"schema/: {', '.join(stale) + ' ' + verb if stale else 'up to date'}")
    return EXIT_PROBLEMS if (check_only and stale) else EXIT_OK


def _new(root: Path, args: argparse.Namespace) -> int:
    from .scaffold import Request, new_claim

    given = (m.strip() for option in args.mechanism for m in option.split(","))
    mechanisms = tuple(dict.fromkeys(m for m in given if m))  # each once, as `check` wants
    request = Request(args.claim_id, args.source, args.quote, mechanisms, args.dose, args.stance)
    result = new_claim(root, request)
    for line in result.errors:
        print(line, file=sys.stderr)
    if not result.path:
        return result.code
    print(f"wrote {result.path}: the quote is anchored in {result.anchored_at}")
    if result.todo:
        print("fill in these fields, then run 'python build.py check':")
        print_problems(result.todo)
    return result.code
