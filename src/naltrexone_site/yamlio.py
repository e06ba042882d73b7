"""Safe YAML and front-matter parsing that keeps line numbers.

Only plain data is accepted: mappings, lists, strings, numbers, booleans, null and
dates. Duplicate keys, aliases and explicit tags are refused with a located problem
rather than silently accepted (PyYAML keeps the last duplicate and expands aliases).
"""

from __future__ import annotations

import html
import re
import unicodedata
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import yaml

from . import yamlfast
from .problems import Location, Problem, error

YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~10x faster

_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:map",
}


@dataclass
class Parsed:
    """A parsed document: its data, where each field sits, and what went wrong."""

    data: Any = None
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)  # fields whose value was refused: None


# What a reader cannot see: control characters (tab and line breaks aside) and Unicode's
# invisible format characters (zero-width spaces and joiners, the soft hyphen, direction
# marks and overrides, a byte-order mark inside the text). In a quote they made it differ
# from its source by a character nobody could find ("99% match"); in a source, they
# reached the page. YAML's reader refuses the ASCII controls of a YAML file itself.
# The line and paragraph separators too: a YAML reader breaks lines there, an editor does
# not, so a problem after one was said lines away from where the editor shows it.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xad\u061c\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)
# A character written as an HTML entity (`&#x202e;`, `&shy;`): Markdown turns it into the
# character itself, which reached the pages past the search for it above
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def decode(
    raw: bytes, path: str, limit: int, *, yaml_only: bool = False
) -> tuple[str | None, list[Problem]]:
    """Bytes to text, refusing oversized, non-UTF-8 and empty files, and characters a
    reader cannot see. `yaml_only`: the file is all YAML, whose reader finds the ASCII
    controls, so ASCII text need not be searched (0.02 s at 10,000 claim files)."""
    if len(raw) > limit:
        return None, [
            error(
                Location(path),
                "",
                f"file is {len(raw):,} bytes, over the {limit:,}-byte limit",
                "split it into smaller files",
            )
        ]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        return None, [
            error(
                Location(path, line, col),
                "",
                f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                "save the file with UTF-8 encoding",
            )
        ]
    if not text.strip():
        return None, [error(Location(path), "", "file is empty", "see docs/registry-format.md")]
    if not (yaml_only and text.isascii()):
        unseen = [
            _unseen(Location.of(path, text, m.start()), m.group())
            for m in _INVISIBLE.finditer(text)
            # a joiner inside an emoji ("👩‍⚕️") is part of a character one sees
            if not (m.group() == "\u200d" and _after_symbol(text, m.start()))
        ]
        if unseen:
            if len(unseen) > _SHOWN:
                unseen[_SHOWN:] = [
                    error(
                        unseen[_SHOWN].location,
                        "",
                        f"this and {len(unseen) - _SHOWN - 1:,} more such characters after it",
                        "delete them",
                    )
                ]
            return None, unseen
    if "&" in text:
        written = [
            error(
                Location.of(path, text, m.start()),
                "",
                f"the file writes a character a reader cannot see ({_named(char)}) as "
                f"'{m.group()}'",
                "delete it",
            )
            for m in _ENTITY.finditer(text)
            if _INVISIBLE.fullmatch(char := html.unescape(m.group()))
        ]
        if written:
            return None, written
    return text, []


def _named(char: str) -> str:
    """U+202E RIGHT-TO-LEFT OVERRIDE; a control character by its code alone."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}" if name else f"U+{ord(char):04X}"


_SHOWN = 10  # characters a reader cannot see, reported one by one in a file


def _after_symbol(text: str, at: int) -> bool:
    return at > 0 and unicodedata.category(text[at - 1]) == "So"


def _unseen(where: Location, char: str) -> Problem:
    """A character a reader cannot see, where it is."""
    if unicodedata.category(char) == "Cc":
        return error(
            where,
            "",
            f"the file contains a control character (U+{ord(char):04X})",
            "delete it; it is invisible in most editors",
        )
    return error(
        where,
        "",
        f"the file contains an invisible character ({_named(char)})",
        "delete it: a reader cannot see it, and a quote that holds it differs from its source",
    )


def parse_yaml(text: str, path: str, line_offset: int = 0) -> Parsed:
    """Parse one YAML document. `line_offset` shifts line numbers (for front matter)."""
    fast = yamlfast.parse(text, line_offset)  # the plain subset registry files use, or None
    if fast is not None:
        return Parsed(fast[0], fast[1])
    result = Parsed()
    # Cheap pre-tests, so that the scan of events is paid only when it may find something:
    # an anchor or alias needs '&' or '*'; nesting past MAX_DEPTH needs that many levels
    # opened, by a bracket or, indented, by a list item's "- " or a key's ": ".
    if "&" in text or "*" in text or sum(map(text.count, ("[", "{", "- ", ": "))) > MAX_DEPTH:
        refused = _refused_events(text, path, line_offset)
        if refused is not None:
            result.problems.append(refused)
            return result
    loader = YamlLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            result.problems.append(
                error(Location(path), "", "file is empty", "see docs/registry-format.md")
            )
            return result
        result.data = _Walker(loader, path, line_offset, result, text).value(node, "")
    except RecursionError:  # not met past _too_deep; an error, never a traceback
        result.problems.append(_nested(Location(path)))
    except yaml.MarkedYAMLError as exc:
        result.problems.append(_syntax_problem(exc, text, path, line_offset))
    except yaml.reader.ReaderError as exc:  # a control character: locate it by offset
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1])
        where = Location.of(path, text, exc.position, 1 + line_offset)
        result.problems.append(_unseen(where, chr(code)))
    except yaml.YAMLError as exc:  # unmarked errors are rare; keep the user's words, one line
        words = " ".join(str(exc).split())
        result.problems.append(error(Location(path), "", f"YAML error: {words}"))
    finally:
        loader.dispose()
    return result


def as_written(text: str, line: int) -> str:
    """The value of the `key: value` at `line` (1-based) of `text`, as written: YAML reads
    `true`, `yes` and `on` alike, and a message saying "found yes" of `true` named what
    is not in the file."""
    lines = text.split("\n")
    value = lines[line - 1].partition(":")[2] if 0 < line <= len(lines) else ""
    return value.partition(" #")[0].strip()


def split_front_matter(text: str, path: str) -> tuple[str, str, int, list[Problem]]:
    """Split `---` front matter from a Markdown body: (yaml, body, body_line, problems)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return (
            "",
            text,
            1,
            [
                error(
                    Location(path, 1, 1),
                    "",
                    "the file does not start with '---' front matter",
                    "put the metadata between two '---' lines at the top",
                )
            ],
        )
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 2, []
    return (
        "",
        "",
        1,
        [
            error(
                Location(path, 1, 1),
                "",
                "the front matter is not closed",
                "end the metadata with a line holding only '---'",
            )
        ],
    )


# Deeper than this, a value is refused before it is composed: libyaml's composer recurses
# once a level and crashed the process (a segmentation fault) at 30,000 levels, which a
# 64 KB file of "[" holds; this module's walker raised RecursionError from about 500.
MAX_DEPTH = 32
_OPEN = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def _refused_events(text: str, path: str, line_offset: int) -> Problem | None:
    """What one pass over the events refuses before the composer runs (libyaml's event
    parser keeps its own stack, so the pass is safe at any depth): values nested more than
    MAX_DEPTH levels, at once, since composing them would crash; else the first anchor or
    alias, when the file has no syntax error, which the composer reports with its
    position."""
    depth = 0
    alias: Problem | None = None
    try:
        for event in yaml.parse(text, Loader=YamlLoader):
            if isinstance(event, _OPEN):
                depth += 1
                if depth > MAX_DEPTH:
                    line, col = _mark(event.start_mark)
                    return _nested(Location(path, line + line_offset, col))
            elif isinstance(event, _CLOSE):
                depth -= 1
            if alias is None and (
                isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None)
            ):
                line, col = _mark(event.start_mark)
                alias = error(
                    Location(path, line + line_offset, col),
                    "",
                    "YAML anchors and aliases (&name, *name) are not allowed",
                    "write the value out in full",
                )
    except yaml.YAMLError:
        return None
    return alias


def _nested(where: Location) -> Problem:
    return error(
        where,
        "",
        f"values are nested more than {MAX_DEPTH} levels deep",
        "flatten it: registry files hold lists of text, at most a few levels deep",
    )


def _mark(mark: Any) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, path: str, offset: int) -> Problem:
    opened = _quote_left_open(exc, text)
    if opened is not None:  # said where the quote opens, not lines below, where it ends
        start, end = opened
        where = Location(path, start.line + 1 + offset, start.column + 1)
        if end is None:
            return error(
                where,
                "",
                "YAML syntax error: the quotation mark opened here is not closed",
                "close it on this line",
            )
        closed = end + 1 + offset
        return error(
            where,
            "",
            f"YAML syntax error: the quotation mark opened here is closed only on line {closed}",
            "close it on this line",
        )
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 + offset if mark else 0
    col = mark.column + 1 if mark else 0
    problem = (exc.problem or str(exc)).strip()
    hint = "check the indentation and quoting on this line and the one above"
    source_line = (
        text.splitlines()[mark.line] if mark and mark.line < len(text.splitlines()) else ""
    )
    indent = source_line[: len(source_line) - len(source_line.lstrip())]
    if exc.context and exc.context_mark and exc.problem_mark:
        opened_at = exc.context_mark.line + 1 + offset
        problem = f"{problem} {exc.context} that starts at line {opened_at}"
    if "\t" in indent or "\\t" in problem:
        problem, hint = "a tab character is used for indentation", "indent with spaces, not tabs"
    elif "expected a single document" in str(exc):
        problem, hint = "the file holds more than one YAML document", "remove the '---' separator"
    return error(Location(path, line, col), "", f"YAML syntax error: {problem}", hint)


def _quote_left_open(exc: yaml.MarkedYAMLError, text: str) -> tuple[Any, int | None] | None:
    """Where a quotation mark was left open, if that is the error, and the line (0-based)
    of the quotation mark that closed it, if any. Left open, a quote takes the lines below
    into its value up to the next quotation mark (`title: "An article`), and the parser
    stumbles there: the error was said seven lines below the typo."""
    if exc.context and exc.context_mark and "quoted scalar" in exc.context:
        return exc.context_mark, None  # never closed
    if exc.problem_mark is None:
        return None
    line, opened = exc.problem_mark.line, None
    with suppress(yaml.YAMLError):
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if token.start_mark.line > line:
                break
            quoted = isinstance(token, yaml.ScalarToken) and token.style in ("'", '"')
            if quoted and token.start_mark.line < token.end_mark.line == line:
                opened = (token.start_mark, line)
    return opened


class _Walker:
    """Turns composed nodes into plain values, recording positions and refusing what is unsafe."""

    def __init__(self, loader: Any, path: str, line_offset: int, result: Parsed, text: str) -> None:
        self.loader = loader
        self.path = path
        self.offset = line_offset
        self.result = result
        self.text = text

    def where(self, node: yaml.Node) -> tuple[int, int]:
        return node.start_mark.line + 1 + self.offset, node.start_mark.column + 1

    def value(self, node: yaml.Node, key: str) -> Any:
        self.result.positions.setdefault(key, self.where(node))
        if node.tag not in _PLAIN_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self.result.refused.add(key)
            self.result.problems.append(
                error(
                    Location(self.path, *self.where(node)),
                    key,
                    f"the YAML tag '{tag}' is not allowed",
                    "remove the tag, and write plain text, a number, a date or a list",
                )
            )
            return None
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, key)
        if isinstance(node, yaml.SequenceNode):
            return [self.value(item, f"{key}[{i}]") for i, item in enumerate(node.value)]
        try:
            value = self.loader.construct_object(node)
        except ValueError as exc:  # e.g. 2026-02-30 looks like a date but is not one
            self.result.refused.add(key)
            self.result.problems.append(
                error(
                    Location(self.path, *self.where(node)),
                    key,
                    f"'{node.value}' is not a valid value: {exc}",
                    "correct it, or put it in quotes to keep it as text",
                )
            )
            return None
        # An escape in double quotes ("\u202e", "\a") writes what the search of the file's
        # text for characters a reader cannot see did not find
        if (
            isinstance(node, yaml.ScalarNode)
            and node.style == '"'
            and isinstance(value, str)
            and (hidden := _INVISIBLE.search(value))
            and "\\" in self.text[node.start_mark.index : node.end_mark.index]
        ):
            self.result.refused.add(key)
            self.result.problems.append(
                error(
                    Location(self.path, *self.where(node)),
                    key,
                    f"holds a character a reader cannot see ({_named(hidden.group())}), "
                    "written as an escape",
                    "delete the escape",
                )
            )
            return None
        return value

    def mapping(self, node: yaml.MappingNode, key: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            # A field name as written: YAML reads `yes:` as true and `1:` as a number, and
            # "True: unknown field" named a field that is not in the file.
            name = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key_node.tag not in _PLAIN_TAGS or not name:
                self.result.problems.append(
                    error(
                        Location(self.path, *self.where(key_node)),
                        key,
                        "a field name must be plain text",
                        "write the field name as a word followed by a colon",
                    )
                )
                continue
            child = f"{key}.{name}" if key else name
            if name in out:
                self.result.problems.append(
                    error(
                        Location(self.path, *self.where(key_node)),
                        child,
                        f"duplicate key '{name}' (first at line {first_line[name]})",
                        "keep one of them",
                    )
                )
                continue
            first_line[name] = self.where(key_node)[0]
            self.result.positions[child] = self.where(key_node)
            out[name] = self.value(value_node, child)
        return out
