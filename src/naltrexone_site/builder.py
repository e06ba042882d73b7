"""`build`: check, analyse, render, write. Nothing is written unless every step succeeded."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from jinja2 import TemplateError, TemplateSyntaxError

from .cli import EXIT_OK, EXIT_PROBLEMS, print_problems, summary
from .load import rel
from .output import OutputError, collect, write_site
from .pages import analyse
from .pipeline import Checked, check_project
from .render import data_files, render_site

TEMPLATES = "templates"  # Jinja templates, and static/ with the CSS, JS and icon
SCHEMAS = "schema"  # JSON Schemas for editors' tools, published under schema/


@dataclass(frozen=True)
class Outcome:
    checked: Checked
    pages: int  # HTML pages written; 0 when the build stopped at the check

    @property
    def built(self) -> bool:
        return self.pages > 0


def build(root: Path, out: Path) -> Outcome:
    """The whole build, top to bottom."""
    checked = check_project(root)  # load, anchor every quote, validate
    if checked.errors or checked.context is None:
        return Outcome(checked, pages=0)  # bad data never reaches a template
    site = analyse(checked.context, checked.warnings)  # group, derive marks and conflicts
    pages = render_site(site, root / TEMPLATES)  # HTML strings, nothing written yet
    files = collect(
        [
            *((page.path, page.text.encode("utf-8")) for page in pages),
            *((path, text.encode("utf-8")) for path, text in data_files(site, pages).items()),
            *assets(root),
        ]
    )
    write_site(files, out, protect=root)  # replaces `out` only when all of it is written
    return Outcome(checked, pages=len(pages))


def assets(root: Path) -> list[tuple[str, bytes]]:
    """The static files (templates/static/ to static/) and the JSON Schemas, as bytes."""
    found = []
    static = root / TEMPLATES / "static"
    for path in sorted(static.rglob("*")):
        if path.is_file():
            found.append((f"static/{path.relative_to(static).as_posix()}", path.read_bytes()))
    schemas = root / SCHEMAS
    for path in sorted(schemas.glob("*.json")) if schemas.is_dir() else ():
        found.append((f"schema/{path.name}", path.read_bytes()))
    return found


def build_command(root: Path, out: Path) -> int:
    started = time.perf_counter()
    try:
        outcome = build(root, out)
    except TemplateSyntaxError as exc:
        where = rel(root, Path(exc.filename)) if exc.filename else exc.name or "a template"
        return _failed(f"{where}:{exc.lineno}: error: {exc.message}", out)
    except TemplateError as exc:
        return _failed(f"{_template_frame(root, exc)}error: {exc.message}", out)
    except OutputError as exc:
        return _failed(f"error: {exc}", out)
    except OSError as exc:
        name = exc.filename or out
        return _failed(f"error: cannot write the site: {name}: {exc.strerror}", out)
    checked = outcome.checked
    if not outcome.built:
        print_problems(checked.problems)
        print(summary(checked))
        print(f"not built: fix the errors above; {_shown(out)} was left as it was")
        return EXIT_PROBLEMS
    registry = checked.context.registry if checked.context else None
    claims = len(registry.claims) if registry else 0
    warnings = checked.warnings
    print(
        f"built {outcome.pages} pages ({claims} claim{'s' * (claims != 1)}, "
        f"{warnings} warning{'s' * (warnings != 1)}) in {time.perf_counter() - started:.2f} s"
    )
    return EXIT_OK


def _template_frame(root: Path, exc: BaseException) -> str:
    """'templates/x.html:12: ' for the innermost template line in the traceback, if any."""
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
