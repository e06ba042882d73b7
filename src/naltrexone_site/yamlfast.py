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
# Listed, not as the complement of what YAML allows: a regex walks a short class of
# ranges several times faster than a negated one with astral planes.
_REFUSED = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\u2028\u2029\ufeff]")
_REFUSED_BYTES = bytes([*range(0x00, 0x0A), *range(0x0B, 0x20), 0x7F])  # in ASCII text
_PLAIN_START = frozenset("-?:,[]{}#&*!|>'\"%@`")
_NOT_PLAIN = frozenset("[>'\"")  # value() reads these; _plain refuses the rest of _PLAIN_START
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
    """A one-line plain scalar in block context (`text` does not start with a space)."""
    if not text or text[0] in _PLAIN_START:
        raise Decline
    # Looking for ':' and '#' alone first: one-character searches are memchr, several
    # times quicker on a long quote than searching for ': ' and ' #' straight away.
    if (":" in text and ": " in text) or ("#" in text and " #" in text):
        raise Decline
    text = text.rstrip(" ")  # not empty; and with no ': ' it ended in ':' before too
    if text[-1] == ":":
        raise Decline
    if len(text) < 48:  # the cache also makes a repeated value ('supports') one object
        return _resolve_short(text)
    if text[0] not in _RESOLVERS:
        return text  # most long text: no implicit type starts with its first character
    return _resolve(text)


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


def _key(text: str) -> tuple[str, str] | None:
    """(name, rest) of 'name: rest' or 'name:' with a plain ASCII name, as the regex
    `([A-Za-z_][A-Za-z0-9_]*):(?: +(.*))?$` reads it; None for any other line. A name is
    kept as written, as yamlio's full reader keeps it (`yes:` is the field "yes"). String
    methods, not that regex: a regex walks the rest of the line one character at a time."""
    name, colon, rest = text.partition(": ")
    if not colon:
        if text[-1:] != ":":
            return None
        name, rest = text[:-1], ""
    if not (name.isidentifier() and name.isascii()):  # = [A-Za-z_][A-Za-z0-9_]*
        return None
    return name, rest.lstrip(" ")


@lru_cache(maxsize=2048)
def _scalar_line(line: str) -> tuple[int, str, Any] | None:
    """(indentation, name, value) of a 'name: value' line whose value is a one-line plain
    scalar, as `_Reader.mapping` reads it; None for any other line. Cached: most such lines
    recur from file to file ('kind: mechanism', '    stance: supports'), and about 70% of
    all lines do, in the registry's claims as in the benchmark's."""
    stripped = line.lstrip(" ")
    pair = _key(stripped)
    if pair is None or not pair[1] or pair[1][0] in _NOT_PLAIN:
        return None
    try:
        return len(line) - len(stripped), pair[0], _plain(pair[1])
    except Decline:
        return None  # read again the long way, which declines


class _Reader:
    """Reads lines from `i` on, recording each value's (line, col) under its dotted key.

    Every loop declines on a content line indented deeper than the structure it is in,
    so a one-line scalar can never be silently continued on the next line."""

    def __init__(self, text: str, line_offset: int) -> None:
        self.lines = text.split("\n")
        if self.lines and self.lines[-1] == "":
            self.lines.pop()
        self.offset = line_offset
        self.i = 0
        self.positions: Positions = {"": (0, 0)}  # the root's, set by `parse`: it comes first

    def skip(self) -> None:
        """Past blank and comment lines."""
        lines = self.lines
        while self.i < len(lines):
            stripped = lines[self.i].lstrip(" ")
            if stripped and stripped[0] != "#":
                return
            self.i += 1

    def mapping(self, indent: int, prefix: str, out: dict[str, Any]) -> dict[str, Any]:
        """Keys at exactly `indent`, located as `prefix` + name, into `out` (which holds
        the first key already when the mapping starts on a '- key: value' line)."""
        lines, positions, base, column = self.lines, self.positions, self.offset + 1, indent + 1
        i, end = self.i, len(lines)
        while i < end:
            line = lines[i]
            known = _scalar_line(line) if len(line) < 64 else None  # long lines rarely repeat
            if known is not None and known[0] == indent and known[1] not in out:
                positions[prefix + known[1]] = (i + base, column)
                out[known[1]] = known[2]
                i += 1
                continue
            stripped = line.lstrip(" ")
            if not stripped or stripped[0] == "#":
                i += 1
                continue
            spaces = len(line) - len(stripped)
            if spaces != indent:
                if spaces < indent:
                    break
                raise Decline  # a nested mapping, or a scalar continued on this line
            pair = _key(stripped)
            if pair is None or pair[0] in out:
                raise Decline  # not a key, or a duplicate (the full parser reports it)
            name, rest = pair
            positions[prefix + name] = (i + base, column)
            i += 1
            if rest and rest[0] not in _NOT_PLAIN:  # most values: one line, plain
                out[name] = _plain(rest)
            else:
                self.i = i
                out[name] = self.value(rest, indent, prefix + name)
                i = self.i
        self.i = i
        return out

    def value(self, rest: str, indent: int, key: str) -> Any:
        """The value after 'key: ' (`rest`, no leading spaces) and on the lines below."""
        if not rest:
            return self.nested(indent, key)
        head = rest[0]
        if head == "[":
            return self.flow(rest, key)
        if head == "'" or head == '"':
            return _quoted(rest.rstrip(" "))
        if head == ">":
            if rest.rstrip(" ") != ">-":
                raise Decline
            return self.folded(indent)
        return _plain(rest)

    def flow(self, rest: str, key: str) -> list[Any]:
        """A one-line flow list of plain or simply quoted scalars: [a, b], ["a b", 'c']."""
        text = rest.rstrip(" ")
        if not text.endswith("]"):
            raise Decline
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
        lines, i, end = self.lines, self.i, len(self.lines)
        content: int | None = None
        parts: list[str] = []
        blanks = 0
        while i < end:
            line = lines[i]
            if not line:
                if content is None:
                    raise Decline
                blanks += 1
                i += 1
                continue
            text = line.lstrip(" ")
            spaces = len(line) - len(text)
            if content is None:
                if spaces <= indent:
                    raise Decline  # an empty block: let the full parser say what it is
                content = spaces
            if spaces < content:
                if spaces > indent or not text:
                    raise Decline
                break
            if spaces > content or line.endswith(" "):
                raise Decline  # more-indented lines and trailing spaces fold differently
            if parts:
                parts.append("\n" * blanks if blanks else " ")
            blanks = 0
            parts.append(text)
            i += 1
        if not parts:
            raise Decline
        self.i = i
        return "".join(parts)  # trailing blank lines are not content: '-' strips them

    def nested(self, indent: int, key: str) -> Any:
        """After 'key:' with nothing on the line: a block list, or null."""
        self.skip()
        if self.i >= len(self.lines):
            return None
        line = self.lines[self.i]
        stripped = line.lstrip(" ")
        spaces = len(line) - len(stripped)
        if stripped.startswith("- ") or stripped.rstrip(" ") == "-":
            if spaces < indent:
                return None
            return self.sequence(spaces, key)
        if spaces > indent:
            raise Decline  # a nested mapping or a continued scalar
        return None

    def sequence(self, indent: int, key: str) -> list[Any]:
        """Items whose '- ' is at exactly `indent`."""
        lines, positions, base = self.lines, self.positions, self.offset + 1
        items: list[Any] = []
        i, end = self.i, len(lines)
        while i < end:
            line = lines[i]
            stripped = line.lstrip(" ")
            if not stripped or stripped[0] == "#":
                i += 1
                continue
            spaces = len(line) - len(stripped)
            if spaces != indent or stripped[:2] != "- ":
                if spaces <= indent:
                    break
                raise Decline
            rest = stripped[1:].lstrip(" ")
            if not rest:
                raise Decline  # PyYAML puts an empty item after its '-', or at a nested list
            child = f"{key}[{len(items)}]"
            column = len(line) - len(rest)  # where the item starts, 0-based
            at = positions[child] = (i + base, column + 1)
            pair = _key(rest)
            self.i = i + 1
            if pair is None:
                items.append(self.value(rest, indent, child))
            else:  # '- name: rest' starts a mapping at the item's column
                name, rest = pair
                prefix = child + "."
                positions[prefix + name] = at
                first = {name: self.value(rest, column, prefix + name)}
                items.append(self.mapping(column, prefix, first))
            i = self.i
        self.i = i
        return items


def parse(text: str, line_offset: int = 0) -> tuple[dict[str, Any], Positions] | None:
    """(data, positions) as `yamlio.parse_yaml` gives them for a valid mapping document,
    or None when the text is outside the subset."""
    # Document markers (---, ...) and directives (%) need no test of their own: they are
    # at column 0, where only keys, comments, blank lines and '- ' items are read.
    if text.isascii():  # deleting the refused bytes is ~6x quicker than searching for them
        if len(text.encode().translate(None, _REFUSED_BYTES)) != len(text):
            return None
    elif _REFUSED.search(text):
        return None
    reader = _Reader(text, line_offset)
    try:
        data = reader.mapping(0, "", {})
    except Decline:
        return None
    if not data or reader.i < len(reader.lines):
        return None  # no keys, or something the mapping did not take: let the full parser say
    positions = reader.positions
    positions[""] = positions[next(iter(data))]  # the document starts at its first key
    return data, positions
