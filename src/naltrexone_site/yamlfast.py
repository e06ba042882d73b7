"""A fast reader for the plain subset of YAML that registry files are written in.

Loading 10,000 claim files through PyYAML's composer (even with libyaml) costs about
200 microseconds a file, most of it building and walking nodes in Python. Claim files
use a small, regular part of YAML: `key: value` lines, flow lists of ids, a list of
evidence mappings, and `>-` folded text. This module reads exactly that part, line by
line, about ten times faster, and gives the same values and positions as
`yamlio.parse_yaml`. Anything outside the subset (quoting with escapes, nested
structures, anchors, tags, tabs, comments after values, unusual indentation, anything
that would be a problem) makes it decline by returning None, and the full parser runs:
the fast path never decides what is an error. Scalars are typed by PyYAML's own
resolver and constructors, so `2026-11-21` is a date and `[1]` holds an int in both.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

Positions = dict[str, tuple[int, int]]

_STR = "tag:yaml.org,2002:str"
_RESOLVERS = Resolver.yaml_implicit_resolvers
_CONSTRUCTOR = SafeConstructor()
# Characters the subset refuses anywhere: tabs, carriage returns, YAML's other line
# breaks, a byte-order mark, and what YAML's reader refuses as non-printable.
_REFUSED = re.compile(
    "[\t\r\x85\u2028\u2029\ufeff]|[^\x0a\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_REFUSED_ASCII = re.compile("[^\x0a\x20-\x7e]")
_KEY_LINE = re.compile(r"( *)([A-Za-z_][A-Za-z0-9_]*):(?: +(.*))?$")
_ITEM_LINE = re.compile(r"( *)- +(.*)$")
_PLAIN_START = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FLOW_PLAIN = re.compile(r"[^ ,\[\]{}#&*!|>'\"%@`?:-][^,\[\]{}#:'\"]*")


class Decline(Exception):
    """The text is outside the subset: the full parser must read it."""


@lru_cache(maxsize=4096)
def _resolve_short(value: str) -> Any:
    return _resolve(value)


def _resolve(value: str) -> Any:
    """A plain scalar's value, typed as PyYAML types it."""
    tag = _STR
    for candidate, regexp in _RESOLVERS.get(value[:1], ()):
        if regexp.match(value):
            tag = candidate
            break
    if tag == _STR:
        return value
    construct = SafeConstructor.yaml_constructors.get(tag)
    if construct is None or tag.endswith((":yaml", ":merge", ":value")):
        raise Decline
    try:
        return construct(_CONSTRUCTOR, yaml.ScalarNode(tag, value))
    except ValueError:  # e.g. 2026-02-30: the full parser reports it where it is
        raise Decline from None


def _plain(text: str) -> Any:
    """A one-line plain scalar in block context."""
    if not text or text[0] in _PLAIN_START or ": " in text or " #" in text:
        raise Decline
    if text.endswith(":"):
        raise Decline
    text = text.rstrip(" ")
    return _resolve_short(text) if len(text) < 48 else _resolve(text)


def _quoted(text: str) -> str:
    """A one-line quoted scalar: '...' with '' for a quote, "..." with \\" and \\\\."""
    quote, body = text[0], text[1:]
    if quote == "'":
        if not body.endswith("'"):
            raise Decline
        inner = body[:-1]
        if inner.replace("''", "").count("'"):
            raise Decline
        return inner.replace("''", "'")
    out, i = [], 0
    while True:
        j = body.find('"', i)
        k = body.find("\\", i)
        if k != -1 and (j == -1 or k < j):
            escaped = body[k + 1 : k + 2]
            if escaped not in ('"', "\\"):
                raise Decline
            out.append(body[i:k] + escaped)
            i = k + 2
            continue
        if j == -1 or body[j + 1 :].strip(" "):
            raise Decline
        out.append(body[i:j])
        return "".join(out)


class _Reader:
    def __init__(self, text: str, line_offset: int) -> None:
        self.lines = text.split("\n")
        if self.lines and self.lines[-1] == "":
            self.lines.pop()
        self.offset = line_offset
        self.i = 0
        self.positions: Positions = {}

    def skip(self) -> None:
        """Past blank and comment lines."""
        lines = self.lines
        while self.i < len(lines):
            stripped = lines[self.i].lstrip(" ")
            if stripped and stripped[0] != "#":
                return
            self.i += 1

    def mapping(self, indent: int, prefix: str, first: str | None = None) -> dict[str, Any]:
        """Keys at exactly `indent`; `first` is the rest of a '- key: value' line."""
        out: dict[str, Any] = {}
        while True:
            if first is not None:
                line, first = " " * indent + first, None
            else:
                self.skip()
                if self.i >= len(self.lines):
                    return out
                line = self.lines[self.i]
            match = _KEY_LINE.match(line)
            if match is None:
                if len(line) - len(line.lstrip(" ")) < indent:
                    return out
                raise Decline
            spaces, name, rest = match.groups()
            if len(spaces) != indent:
                if len(spaces) < indent:
                    return out
                raise Decline
            if name in out or _resolve_short(name) != name:
                raise Decline  # a duplicate, or a key that YAML reads as a bool or null
            key = f"{prefix}.{name}" if prefix else name
            self.positions[key] = (self.i + 1 + self.offset, indent + 1)
            self.i += 1
            out[name] = self.value(rest, indent, key)

    def value(self, rest: str | None, indent: int, key: str) -> Any:
        if rest is None or not rest.strip(" "):
            return self.nested(indent, key)
        head = rest[0]
        if head == "[":
            return self.flow(rest, indent, key)
        if head in "'\"":
            self.no_continuation(indent)
            return _quoted(rest.rstrip(" "))
        if head == ">":
            if rest.rstrip(" ") != ">-":
                raise Decline
            return self.folded(indent)
        self.no_continuation(indent)
        return _plain(rest)

    def no_continuation(self, indent: int) -> None:
        """A one-line scalar: the next content line must not be indented to continue it."""
        lines, n = self.lines, self.i
        while n < len(lines):
            stripped = lines[n].lstrip(" ")
            if stripped and stripped[0] != "#":
                if len(lines[n]) - len(stripped) > indent:
                    raise Decline
                return
            n += 1

    def flow(self, rest: str, indent: int, key: str) -> list[Any]:
        """A one-line flow list of plain or simply quoted scalars: [a, b], ["a b", 'c']."""
        text = rest.rstrip(" ")
        if not text.endswith("]"):
            raise Decline
        self.no_continuation(indent)
        inner, line = text[1:-1], self.i + self.offset  # the line just read, 1-based
        column = len(self.lines[self.i - 1]) - len(rest) + 2  # of inner[0], 1-based
        items: list[Any] = []
        at, end = 0, len(inner)
        while at < end and inner[at] == " ":
            at += 1
        if at == end:
            return items
        while True:
            start = at
            quote = inner[at]
            if quote in "'\"":
                close = inner.find(quote, at + 1)
                while quote == "'" and close != -1 and inner[close + 1 : close + 2] == "'":
                    close = inner.find("'", close + 2)
                if close == -1:
                    raise Decline
                raw = inner[at + 1 : close]
                if quote == '"' and "\\" in raw:
                    raise Decline
                items.append(raw.replace("''", "'") if quote == "'" else raw)
                at = close + 1
            else:
                match = _FLOW_PLAIN.match(inner, at)
                if match is None:
                    raise Decline
                item = match.group().rstrip(" ")
                items.append(_resolve_short(item) if len(item) < 48 else _resolve(item))
                at = match.end()
            self.positions[f"{key}[{len(items) - 1}]"] = (line, column + start)
            while at < end and inner[at] == " ":
                at += 1
            if at == end:
                return items
            if inner[at] != ",":
                raise Decline
            at += 1
            while at < end and inner[at] == " ":
                at += 1
            if at == end:
                raise Decline  # a trailing comma

    def folded(self, indent: int) -> str:
        """A `>-` block: lines at one indentation, folded with spaces; blank lines kept."""
        lines = self.lines
        content: int | None = None
        parts: list[str] = []
        blanks = 0
        while self.i < len(lines):
            line = lines[self.i]
            if not line:
                if content is None:
                    raise Decline
                blanks += 1
                self.i += 1
                continue
            spaces = len(line) - len(line.lstrip(" "))
            if content is None:
                if spaces <= indent:
                    raise Decline  # an empty block: let the full parser say what it is
                content = spaces
            if spaces < content:
                if spaces > indent or line.strip(" ") == "":
                    raise Decline
                break
            if spaces > content or line.endswith(" "):
                raise Decline  # more-indented lines and trailing spaces fold differently
            if parts:
                parts.append("\n" * blanks if blanks else " ")
            blanks = 0
            parts.append(line[content:])
            self.i += 1
        if not parts:
            raise Decline
        return "".join(parts)  # trailing blank lines are not content: '-' strips them

    def nested(self, indent: int, key: str) -> Any:
        """After 'key:' with nothing on the line: a block list, or null."""
        self.skip()
        if self.i >= len(self.lines):
            return None
        line = self.lines[self.i]
        spaces = len(line) - len(line.lstrip(" "))
        if line.lstrip(" ").startswith("- ") or line.strip(" ") == "-":
            if spaces < indent:
                return None
            return self.sequence(spaces, key)
        if spaces > indent:
            raise Decline  # a nested mapping or a continued scalar
        return None

    def sequence(self, indent: int, key: str) -> list[Any]:
        items: list[Any] = []
        while True:
            self.skip()
            if self.i >= len(self.lines):
                return items
            line = self.lines[self.i]
            match = _ITEM_LINE.match(line)
            spaces = len(line) - len(line.lstrip(" "))
            if match is None or len(match.group(1)) != indent:
                if spaces <= indent and match is None:
                    return items
                if spaces < indent:
                    return items
                raise Decline
            rest = match.group(2)
            child = f"{key}[{len(items)}]"
            column = len(line) - len(rest)  # where the item starts, 0-based
            self.positions[child] = (self.i + 1 + self.offset, column + 1)
            if _KEY_LINE.match(rest):
                items.append(self.mapping(column, child, first=rest))
            else:
                self.i += 1
                items.append(self.value(rest, indent, child))


def parse(text: str, line_offset: int = 0) -> tuple[dict[str, Any], Positions] | None:
    """(data, positions) as `yamlio.parse_yaml` gives them for a valid mapping document,
    or None when the text is outside the subset."""
    refused = _REFUSED_ASCII if text.isascii() else _REFUSED
    if (
        refused.search(text)
        or "\n---" in text
        or "\n..." in text
        or text.startswith(("---", "...", "%"))
    ):
        return None
    reader = _Reader(text, line_offset)
    try:
        reader.skip()
        if reader.i >= len(reader.lines):
            return None
        line = reader.lines[reader.i]
        if line.startswith(" ") or _KEY_LINE.match(line) is None:
            return None
        root = (reader.i + 1 + line_offset, 1)
        data = reader.mapping(0, "")
        reader.skip()
        if reader.i < len(reader.lines):
            return None  # something the mapping did not take: let the full parser say what
    except Decline:
        return None
    return data, {"": root, **reader.positions}
