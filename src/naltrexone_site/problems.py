"""Problems found in the registry, located to a file, line and column."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .checks import Context


EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2  # every command's exit codes


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Location:
    path: str  # relative to the project root, with forward slashes
    line: int = 0  # 1-based; 0 when the problem concerns the whole file
    col: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.path}:{self.line}:{self.col or 1}"
        return self.path

    @classmethod
    def of(cls, path: str, text: str, offset: int, first_line: int = 1) -> Location:
        """Where character `offset` of `text` is, `text` starting at line `first_line` of
        `path` (a source's body, a YAML document after its front matter)."""
        line_start = text.rfind("\n", 0, offset)  # -1 on the first line
        return cls(path, first_line + text.count("\n", 0, offset), offset - line_start)


@dataclass(frozen=True)
class Problem:
    severity: Severity
    location: Location
    field: str  # the offending field, dotted (evidence[1].quote); "" for the whole file
    message: str
    hint: str = ""

    def __str__(self) -> str:
        field = f"{self.field}: " if self.field else ""
        hint = f" ({self.hint})" if self.hint else ""
        line = f"{self.location}: {self.severity.value}: {field}{self.message}{hint}"
        return line.translate(_ESCAPED)  # one problem, one line: `id: "x\n"` took two

    @property
    def sort_key(self) -> tuple[Location, str, str]:
        return (self.location, self.field, self.message)


# What would break a problem's line or hide in it, written as an escape: control characters
# (a value's line break, from `"x\n"` in YAML) and the line and paragraph separators
_ESCAPED = {
    code: repr(chr(code))[1:-1] for code in (*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029)
}


def brief(text: str, most: int = 60) -> str:
    """A value as a message shows it: cut short past `most` characters (a number of 5,000
    digits was printed whole)."""
    return text if len(text) <= most else f"{text[: most - 1]}… ({len(text)} characters)"


def error(location: Location, field: str, message: str, hint: str = "") -> Problem:
    return Problem(Severity.ERROR, location, field, message, hint)


def warning(location: Location, field: str, message: str, hint: str = "") -> Problem:
    return Problem(Severity.WARNING, location, field, message, hint)


@dataclass(frozen=True)
class Checked:
    """The outcome of `check`: the context (when the registry could be read) and problems."""

    context: Context | None
    problems: tuple[Problem, ...]
    counts: tuple[int, int] | None = None  # (claims, sources), when there is no context
    unjudged: str = ""  # what could not be checked, and why: said in the count line

    @property
    def errors(self) -> int:
        return sum(p.severity is Severity.ERROR for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.severity is Severity.WARNING for p in self.problems)
