"""The one declaration of the registry's file formats.

Validation (`validate`) and the JSON Schema that editors' tools use (`json_schema`) are
both generated from the field lists below, so they cannot drift apart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeGuard

from .models import Positions, Taxonomy, locate
from .problems import Location, Problem, brief, error

ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
ID_RE = re.compile(ID_PATTERN)  # used with fullmatch: "$" alone would let "x\n" through
ID_HINT = "use lowercase letters, digits and single hyphens, e.g. 'ldn-endorphin-rebound'"
# An id names a page's file and address: 100 characters keep both readable and within
# every file system's 255 bytes ("File name too long" stopped a build with no place).
MAX_ID = 100
LONG_ID_HINT = f"shorten it to at most {MAX_ID} characters"


def valid_id(text: str) -> bool:
    """Whether `text` may be an id: its letters (ID_RE) and its length (MAX_ID)."""
    return len(text) <= MAX_ID and ID_RE.fullmatch(text) is not None


def site_address(given: str) -> str | None:
    """A site's or repository's address as a folder's (ending in /), or None when it is
    not one: http(s), a host, and nothing a link built on it would break on (a space, a
    '?' or '#' part, which ended up inside every link and the sitemap)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(given)
        parts.port  # noqa: B018 (raises ValueError when out of range)
    except ValueError:  # 'https://[::1/': an unclosed IPv6 host; a port over 65535
        return None
    if (
        parts.scheme not in ("https", "http")
        or not parts.netloc
        or parts.query
        or parts.fragment
        or given.endswith(("?", "#"))
        or any(c.isspace() for c in given)
    ):
        return None
    return given.rstrip("/") + "/"


# A git branch name: no '..', no leading or trailing '/' or '.', nothing a link would
# read as a path or a query ('../../x' sent "edit this claim" elsewhere)
BRANCH_RE = re.compile(r"(?!.*\.\.)(?!.*//)[A-Za-z0-9_][A-Za-z0-9._/-]*(?<![/.])")
# The evidence map's dose columns, in order: ids that doses.yaml must define (their labels
# head the columns; "both" is counted in the first two and may be left out)
COLUMNS = ("standard", "low", "unspecified")


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # id | text | markdown | date | bool | ids | texts | numbers | evidence
    description: str
    required: bool = False
    nullable: bool = False
    ref: str = ""  # the taxonomy (or "sources", "claims") that the value's ids must name
    unique: bool = False  # a list that names each item once (a reference list may repeat)


EVIDENCE_FIELDS: tuple[Field, ...] = (
    Field("source", "id", "The id of the source article.", required=True, ref="sources"),
    Field("quote", "text", "A verbatim passage from the source.", required=True),
    Field("stance", "id", "How the passage bears on the claim.", required=True, ref="stances"),
    Field(
        "cites",
        "numbers",
        "Numbers in the source's reference list that it cites for this.",
        unique=True,
    ),
)

CLAIM_FIELDS: tuple[Field, ...] = (
    Field("id", "id", "The claim's id; equals the file name.", required=True),
    Field("statement", "markdown", "A neutral paraphrase of the claim.", required=True),
    Field("kind", "id", "What sort of claim this is.", required=True, ref="claim_kinds"),
    Field(
        "mechanism",
        "ids",
        "Mechanisms or topics (rows of the map).",
        True,
        ref="mechanisms",
        unique=True,
    ),
    Field("dose", "id", "The dose the source ties the claim to.", required=True, ref="doses"),
    Field("strength", "id", "The editors' grade of the evidence.", required=True, ref="strengths"),
    Field("evidence", "evidence", "Passages from sources that bear on the claim.", required=True),
    Field("contradicts", "ids", "Claims this one contradicts.", ref="claims", unique=True),
    Field("related", "ids", "Related claims.", ref="claims", unique=True),
    Field("conditions", "texts", "Conditions the claim is about.", unique=True),
    Field("note", "markdown", "Editor's note: why the grade, caveats.", nullable=True),
    Field("reviewed", "date", "When an editor last reviewed the claim.", nullable=True),
)

SOURCE_FIELDS: tuple[Field, ...] = (
    Field("id", "id", "The source's id; equals the file name.", required=True),
    Field("title", "text", "The article's title.", required=True),
    Field("publisher", "text", "The publisher, where the article states one.", nullable=True),
    Field("published", "date", "The publication date, where stated.", nullable=True),
    Field("kind", "id", "What sort of publication.", required=True, ref="source_kinds"),
    Field("commercial_interest", "text", "What the publisher sells, if anything.", nullable=True),
    Field("cites_literature", "bool", "Whether the text itself cites studies.", required=True),
    Field("references", "texts", "The article's reference list, verbatim, in order."),
    Field("seed", "text", "The captured file the text came from.", required=True),
    Field("removed", "texts", "What was left out of the body, and why."),
    Field("boilerplate", "texts", "Verbatim passages excluded from coverage."),
    Field("note", "markdown", "Editor's note on the source.", nullable=True),
)

OVERVIEW_FIELDS: tuple[Field, ...] = (
    Field("id", "id", "The mechanism or topic id; equals the file name.", True, ref="mechanisms"),
    Field("reviewed", "date", "When an editor last reviewed the overview.", nullable=True),
)

_TYPE_WORDS = {
    "id": "an id",
    "text": "text",
    "markdown": "text",
    "date": "a date (YYYY-MM-DD)",
    "bool": "true or false",
    "ids": "a list of ids",
    "texts": "a list of text items",
    "numbers": "a list of whole numbers",
    "evidence": "a list of evidence items",
}


def _kind_of(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, datetime):
        return "a date and time"
    if isinstance(value, date):
        return "a date"
    return type(value).__name__


def is_date(value: Any) -> TypeGuard[date]:
    """A date alone: YAML reads `2026-01-01 10:00` as a datetime, a date too in Python,
    which pages then showed as `2026-01-01T10:00:00`."""
    return isinstance(value, date) and not isinstance(value, datetime)


def nearest(word: str, choices: list[str], cutoff: float = 60) -> str | None:
    """The closest valid name, for 'did you mean' hints."""
    from rapidfuzz import process  # imported when there is a problem to word

    match = process.extractOne(word, choices, score_cutoff=cutoff)
    return match[0] if match else None


# The hint where a source is named and there is none: only sources can be none (every
# taxonomy file must list entries)
NO_SOURCE_HINT = "there is no source yet: add its article to content/sources/ first"


def _did_you_mean(name: str) -> str:
    return f"did you mean '{name}'?"


def unknown_value(
    where: Location, field: str, value: str, what: str, choices: Iterable[str]
) -> Problem:
    """A reference to something that does not exist, with the nearest as its hint."""
    hint = unknown_hint(value, sorted(choices), what, listed_up_to=8)
    return error(where, field, f"'{brief(value)}' is not a known {what}", hint)


def unknown_hint(value: str, choices: list[str], what: str, listed_up_to: int | None = None) -> str:
    """What to write instead of an unknown `value`: the nearest choice (the first of
    equals in the order given), else the choices, sorted (up to `listed_up_to` of them,
    if given; past that, a pointer to their list)."""
    guess = nearest(value, choices)
    options = sorted(choices)
    if guess:
        return _did_you_mean(guess)
    if not options:
        return NO_SOURCE_HINT
    if listed_up_to is None or len(options) <= listed_up_to:
        return f"choose one of: {', '.join(options)}"
    return f"see the list of {what}s"


UNKNOWN = "unknown field"  # the message of the one field problem that leaves the rest readable
MISSING = "required field is missing"  # of a field not given (see `said_once`)


def validate(
    data: Mapping[str, Any],
    fields: tuple[Field, ...],
    path: str,
    positions: Positions,
    prefix: str = "",
) -> Iterator[Problem]:
    """Required, unknown and wrongly typed fields. References are checked later."""
    if not _all_fine(data, fields):  # checked first: most files have nothing to word
        yield from _problems(data, fields, path, positions, prefix)


def _problems(
    data: Mapping[str, Any],
    fields: tuple[Field, ...],
    path: str,
    positions: Positions,
    prefix: str,
) -> Iterator[Problem]:
    """What `validate` reports, each problem worded and located."""
    yield from unknown_fields(data, [f.name for f in fields], path, positions, prefix)
    for spec in fields:
        key = prefix + spec.name
        if spec.name not in data:
            if spec.required:
                yield error(
                    locate(path, positions, prefix.rstrip(".")),
                    key,
                    "required field is missing",
                    f"add '{spec.name}:' with {_TYPE_WORDS[spec.type]}: "
                    f"{spec.description.lower().rstrip('.')}",
                )
            continue
        yield from _check_type(data[spec.name], spec, path, positions, key)


def unknown_fields(
    data: Mapping[str, Any],
    names: list[str],
    path: str,
    positions: Positions,
    prefix: str = "",
    elsewhere: Mapping[str, str] | None = None,
) -> Iterator[Problem]:
    """A field of `data` not among `names`, each with the nearest name as its hint, or
    else the names it does not have yet (all of them listed hid the few that were left);
    one that `elsewhere` names a place for (a strength's `rank` in a dose) is said to be
    that place's."""
    left = [n for n in names if n not in data]
    for name in data:
        if name not in names:
            if elsewhere and name in elsewhere:
                hint = f"'{name}' is a field of {elsewhere[name]}: delete it here"
            elif guess := nearest(str(name), names):
                hint = _did_you_mean(guess)
            elif left:
                hint = f"the fields not given yet: {', '.join(left)}"
            else:
                hint = "every known field is given already: delete it"
            yield error(
                locate(path, positions, prefix + name), prefix + name, "unknown field", hint
            )


def said_once(problems: list[Problem]) -> list[Problem]:
    """The problems but a required field missing where an unknown field beside it is
    taken for it ("did you mean 'group'?"): a misspelt field is one fault, said once."""
    taken = {(p.location.path, _parent(p.field), p.hint) for p in problems if p.message == UNKNOWN}
    return [
        p
        for p in problems
        if p.message != MISSING
        or (p.location.path, _parent(p.field), _did_you_mean(p.field.rpartition(".")[2]))
        not in taken
    ]


def stood_in(problems: Iterable[Problem]) -> frozenset[str]:
    """The values that `usable` stands in for, by the fields of a record's problems (an
    unknown field is left out, which costs nothing): an item stands for its list
    (`mechanism[1]` for `mechanism`), but an evidence item's fields each for itself, as
    every passage is judged apart."""
    units = set()
    for p in problems:
        if p.message == UNKNOWN:
            continue
        head, dot, tail = p.field.partition(".")  # 'evidence[0]', '.', 'cites[1]'
        if dot:
            units.add(f"{head}.{tail.partition('[')[0]}")
        else:
            units.add(head if head.startswith("evidence[") else head.partition("[")[0])
    return frozenset(units)


# What stands in for a value that cannot be used: its type's empty value
_EMPTY: dict[str, Any] = {
    "id": "",
    "text": "",
    "markdown": "",
    "date": None,
    "bool": False,
    "ids": [],
    "texts": [],
    "numbers": [],
    "evidence": [],
}


def usable(
    data: Mapping[str, Any], fields: tuple[Field, ...], broken: Collection[str], prefix: str = ""
) -> dict[str, Any]:
    """The record's fields with each value `broken` names (see `stood_in`) replaced by
    its type's empty value, or None where the field may be empty: a record that can be
    made, though it must never reach a page (each stand-in is for a value with an error).
    The other values are as given: `validate` found them of their type."""
    made: dict[str, Any] = {}
    for spec in fields:
        key = prefix + spec.name
        if key in broken:
            made[spec.name] = None if spec.nullable else _EMPTY[spec.type]
        elif spec.name in data:
            value = data[spec.name]
            if spec.type == "evidence":
                value = [
                    {f.name: _EMPTY[f.type] for f in EVIDENCE_FIELDS}
                    if f"{key}[{i}]" in broken
                    else usable(item, EVIDENCE_FIELDS, broken, f"{key}[{i}].")
                    for i, item in enumerate(value)
                ]
            made[spec.name] = value
    return made


def within(field: str, units: Collection[str]) -> bool:
    """Whether a problem's field is one of `units` or part of one."""
    return any(field == u or field.startswith((u + ".", u + "[")) for u in units)


def _parent(field: str) -> str:
    """'evidence[0]' of 'evidence[0].stance'; '' of a top-level field."""
    return field.rpartition(".")[0]


_ABSENT = object()


def _all_fine(data: Mapping[str, Any], fields: tuple[Field, ...]) -> bool:
    """Whether `validate` would find nothing: every field known, the required ones there,
    every value of its type. Must agree with `validate` and `_check_type` exactly."""
    present = 0
    for spec in fields:
        value = data.get(spec.name, _ABSENT)
        if value is _ABSENT:
            if spec.required:
                return False
            continue
        present += 1
        if value is None:
            if not spec.nullable:
                return False
        elif not _fine(value, spec):
            return False
    return present == len(data)  # names are unique, so nothing else is in `data`


def _fine(value: Any, spec: Field) -> bool:
    """Whether `_check_type` finds nothing wrong with a value that is not None."""
    kind = spec.type
    if kind == "id":
        return isinstance(value, str) and (spec.ref != "" or valid_id(value))
    if kind == "text" or kind == "markdown":
        return isinstance(value, str) and value.strip() != ""
    if kind == "ids" or kind == "texts":
        if isinstance(value, str) and kind == "ids":
            return value.strip() != ""  # one id, as a list of one
        return (
            isinstance(value, list)
            and (bool(value) or not spec.required)
            and all(isinstance(item, str) and item.strip() != "" for item in value)
            and (not spec.unique or len(set(value)) == len(value))
        )
    if kind == "evidence":
        return (
            isinstance(value, list)
            and bool(value)
            and all(isinstance(item, dict) and _all_fine(item, EVIDENCE_FIELDS) for item in value)
        )
    if kind == "date":
        return is_date(value)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "numbers":
        return (
            isinstance(value, list)
            and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in value)
            and (not spec.unique or len(set(value)) == len(value))
        )
    return False  # an unknown type: let _check_type say what it says


def _id_hint(path: str) -> str:
    """A claim's or source's id is its file's name: that name, when it is a valid id (so
    the fix is not followed by "does not match the file name" on the next run)."""
    set_id = _set_id(file_stem(path))
    return f"{set_id}, the file's name" if set_id else ID_HINT


def file_stem(path: str) -> str:
    """'x' of 'claims/x.yaml': the name an id must be (plain string work, not a Path:
    this runs over every claim)."""
    return path.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def _set_id(stem: str) -> str | None:
    """The fix "set 'id: <the file's name>'", where that name is a valid id."""
    return f"set 'id: {stem}'" if valid_id(stem) else None


def file_name_hint(
    given: str, stem: str, suffix: str, what: str, files: Mapping[str, str | None]
) -> str:
    """How to mend a claim or source file whose id (`given`) is not its name (`stem`):
    never by a rename over another file (`files`: the name of every file of its kind ->
    the id it gives, None if unread), nor by setting an id with capitals."""
    set_id = _set_id(stem)
    mend = set_id or "rename this file"
    if files.get(given) == given:
        return f"'{given}{suffix}' is that {what}: delete this file if it is a copy, or {mend}"
    if given in files:
        return f"{mend}: '{given}{suffix}' is another {what}'s file"
    return f"rename the file to '{given}{suffix}'" + (f" or {set_id}" if set_id else "")


def _check_type(
    value: Any, spec: Field, path: str, positions: Positions, key: str
) -> Iterator[Problem]:
    def where() -> Location:  # located only when there is a problem: most values are fine
        return locate(path, positions, key)

    if value is None:
        if not spec.nullable:
            yield error(where(), key, "is empty", f"give {_TYPE_WORDS[spec.type]}")
        return
    expected = _TYPE_WORDS[spec.type]

    def wrong() -> Problem:
        return error(where(), key, f"expected {expected}, found {_kind_of(value)}")

    if spec.type in ("text", "markdown"):
        if not isinstance(value, str):
            yield error(
                where(),
                key,
                f"expected text, found {_kind_of(value)}",
                "put the value in quotes",
            )
        elif not value.strip():
            yield error(
                where(),
                key,
                "is empty",
                "write the text" if spec.required else "write the text or remove the field",
            )
    elif spec.type == "id":
        if not isinstance(value, str):
            yield wrong()
        elif spec.ref == "" and not ID_RE.fullmatch(value):
            yield error(where(), key, f"'{brief(value)}' is not a valid id", _id_hint(path))
        elif spec.ref == "" and len(value) > MAX_ID:
            hint = f"{LONG_ID_HINT}, and rename the file to match"
            yield error(where(), key, f"is {len(value)} characters long", hint)
    elif spec.type == "date":
        if not is_date(value):
            yield error(
                where(), key, f"expected a date, found {_kind_of(value)}", "write 2026-11-21"
            )
    elif spec.type == "bool":
        if not isinstance(value, bool):
            yield error(where(), key, f"expected true or false, found {_kind_of(value)}")
    elif spec.type in ("ids", "texts"):
        items = [value] if isinstance(value, str) and spec.type == "ids" else value
        if not isinstance(items, list):
            yield wrong()
            return
        for i, item in enumerate(items):
            at = locate(path, positions, f"{key}[{i}]")
            if not isinstance(item, str):
                yield error(at, f"{key}[{i}]", f"expected text, found {_kind_of(item)}")
            elif not item.strip():  # was "expected text, found text"
                yield error(at, f"{key}[{i}]", "is empty", "write the text or remove the item")
        if spec.required and not items:
            yield error(where(), key, "the list is empty", "name at least one")
        if spec.unique:
            yield from _repeated(items, path, positions, key)
    elif spec.type == "numbers":
        if not isinstance(value, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in value
        ):
            yield error(where(), key, "expected a list of whole numbers from 1", "write [1, 3]")
        elif spec.unique:
            yield from _repeated(value, path, positions, key)
    elif spec.type == "evidence":
        if not isinstance(value, list):
            yield error(
                where(),
                key,
                f"expected a list of evidence items, found {_kind_of(value)}",
                "start each item with '- ', as in '- source: ...'",
            )
            return
        if not value:
            yield error(where(), key, "the list is empty", "add at least one source passage")
        for i, item in enumerate(value):
            item_key = f"{key}[{i}]"
            if not isinstance(item, dict):
                yield error(
                    locate(path, positions, item_key),
                    item_key,
                    f"expected a mapping with source, quote and stance, found {_kind_of(item)}",
                )
                continue
            yield from validate(item, EVIDENCE_FIELDS, path, positions, item_key + ".")


def _repeated(items: list[Any], path: str, positions: Positions, key: str) -> Iterator[Problem]:
    """An item listed again: `[mood, mood]` counted a claim twice in its mechanism's tally.
    Items of the wrong type are reported by the caller (and True == 1 in a set)."""
    first: dict[str | int, int] = {}
    for i, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, str | int):
            continue
        if first.setdefault(item, i) != i:
            yield error(
                locate(path, positions, f"{key}[{i}]"),
                f"{key}[{i}]",
                f"'{brief(str(item))}' is listed again (first as {key}[{first[item]}])",
                "list it once",
            )


def as_ids(value: Any) -> tuple[str, ...]:
    """A single id or a list of ids, as a tuple (validation has already run)."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def json_schema(fields: tuple[Field, ...], taxonomy: Taxonomy, title: str) -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) for editors' tools, enums filled from the taxonomy."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "additionalProperties": False,
        "required": [f.name for f in fields if f.required],
        "properties": {f.name: _property(f, taxonomy) for f in fields},
    }


def _property(spec: Field, taxonomy: Taxonomy) -> dict[str, Any]:
    one_id: dict[str, Any] = {"type": "string", "pattern": ID_PATTERN, "maxLength": MAX_ID}
    if spec.ref and spec.ref not in ("sources", "claims"):
        one_id = {"enum": [t.id for t in taxonomy.terms(spec.ref)]}
    prop: dict[str, Any]
    if spec.type == "id":
        prop = dict(one_id)
    elif spec.type in ("text", "markdown"):
        prop = {"type": "string", "minLength": 1}
    elif spec.type == "date":
        prop = {"type": "string", "format": "date"}
    elif spec.type == "bool":
        prop = {"type": "boolean"}
    elif spec.type == "ids":
        array = {"type": "array", "items": one_id, "uniqueItems": True}
        if spec.required:
            array["minItems"] = 1
        prop = {"anyOf": [one_id, array]}
    elif spec.type == "texts":
        prop = {"type": "array", "items": {"type": "string", "minLength": 1}}
    elif spec.type == "numbers":
        prop = {"type": "array", "items": {"type": "integer", "minimum": 1}}
    else:  # evidence
        prop = {
            "type": "array",
            "minItems": 1,
            "items": json_schema(EVIDENCE_FIELDS, taxonomy, "Evidence item"),
        }
        del prop["items"]["$schema"]
    if spec.nullable:
        prop = {"anyOf": [prop, {"type": "null"}]}
    prop["description"] = spec.description
    return prop


def schema_files(taxonomy: Taxonomy) -> dict[str, str]:
    """The checked-in JSON Schemas, as file name -> text (stable key order, final newline)."""
    schemas = {
        "claim.schema.json": json_schema(CLAIM_FIELDS, taxonomy, "Naltrexone evidence map: claim"),
        "source.schema.json": json_schema(
            SOURCE_FIELDS, taxonomy, "Naltrexone evidence map: source front matter"
        ),
    }
    return {name: json.dumps(s, indent=2, ensure_ascii=False) + "\n" for name, s in schemas.items()}
