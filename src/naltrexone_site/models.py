"""Typed values passed between the pipeline's stages. No I/O here."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from operator import attrgetter
from typing import Any, TypeVar

from .problems import Location

C = TypeVar("C")


def pickled_by_fields(cls: type[C]) -> type[C]:
    """Pickle a slotted frozen dataclass as its fields' values, and unpickle it by setting
    its slots directly. The dataclass default (a __getstate__ and __setstate__ in Python,
    per object) made saving and loading 10,000 claims twice as slow; unpickling through
    the frozen __init__, which sets each field through object.__setattr__, took twice as
    long as setting the slots."""
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    values = attrgetter(*names)
    # The function is written out, as dataclasses writes __init__: a loop over the slots
    # costs as much as object.__setattr__ again. It skips __init__, so a __post_init__
    # would not run: what it restores was made through __init__ before it was pickled.
    setters = {f"set_{name}": getattr(cls, name).__set__ for name in names}
    code = f"def restore({', '.join(names)}):\n    self = new(cls)\n"
    code += "".join(f"    set_{name}(self, {name})\n" for name in names)
    code += "    return self\n"
    namespace = {"new": object.__new__, "cls": cls, **setters}
    exec(code, namespace)
    restore = namespace["restore"]
    restore.__module__, restore.__qualname__ = cls.__module__, f"{cls.__qualname__}._restore"
    cls._restore = staticmethod(restore)  # type: ignore[attr-defined]  # found by pickle

    def __reduce__(self: C) -> tuple[Callable[..., C], tuple[Any, ...]]:
        return (restore, values(self))

    cls.__reduce__ = __reduce__  # type: ignore[method-assign,assignment]
    return cls


# (line, col) of each field, keyed by its dotted path ("evidence[0].quote").
Positions = Mapping[str, tuple[int, int]]


class FieldPositions(Mapping[str, tuple[int, int]]):
    """Positions stored compactly, read into a dict only when a problem needs a location:
    the keys as one tuple shared by every claim whose fields are the same (most of them),
    the lines and columns packed as bytes. The build cache holds one per claim, and every
    process of a build a copy of each: 460 bytes a claim as a flat tuple of keys and
    numbers, 46 MB at 100,000 claims; about a third of that so."""

    __slots__ = ("_keys", "_numbers", "_dict")
    _shapes: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple per distinct key list

    def __init__(self, keys: tuple[str, ...], numbers: bytes) -> None:
        self._keys = self._shapes.setdefault(keys, keys)
        self._numbers = numbers  # line, column, line, column, ...: as array's bytes
        self._dict: dict[str, tuple[int, int]] | None = None

    @classmethod
    def of(cls, positions: Mapping[str, tuple[int, int]]) -> FieldPositions:
        flat = [n for line_col in positions.values() for n in line_col]
        numbers = array("H" if max(flat, default=0) < 1 << 16 else "I", flat)
        return cls(tuple(positions), numbers.tobytes())

    def _read(self) -> dict[str, tuple[int, int]]:
        if self._dict is None:
            # two bytes a number when every line and column fits, else four
            numbers = array("H" if len(self._numbers) == 4 * len(self._keys) else "I")
            numbers.frombytes(self._numbers)
            pairs = zip(numbers[::2], numbers[1::2], strict=True)
            self._dict = dict(zip(self._keys, pairs, strict=True))
        return self._dict

    def __getitem__(self, key: str) -> tuple[int, int]:
        return self._read()[key]

    def __contains__(self, key: object) -> bool:
        return key in self._read()

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._keys)

    def __reduce__(self) -> tuple[Any, ...]:
        return (FieldPositions, (self._keys, self._numbers))


@dataclass(frozen=True)
class Term:
    """One entry of a taxonomy: a mechanism, dose, strength, source kind, stance or claim kind."""

    id: str
    label: str
    definition: str
    group: str = ""  # mechanisms: "mechanism" or "topic"
    short: str = ""  # doses: the column heading
    rank: int = 0  # strengths: 1 is strongest
    letter: str = ""  # strengths: the badge letter, a cue that does not rely on colour
    grade: str = ""  # strengths: the GRADE certainty level
    schema_org: str = ""  # strengths: the schema.org evidence level
    wording: str = ""  # strengths: how a claim of this strength should be worded


@dataclass(frozen=True)
class Taxonomy:
    mechanisms: tuple[Term, ...]
    doses: tuple[Term, ...]
    strengths: tuple[Term, ...]
    source_kinds: tuple[Term, ...]
    stances: tuple[Term, ...]
    claim_kinds: tuple[Term, ...]

    def terms(self, name: str) -> tuple[Term, ...]:
        terms: tuple[Term, ...] = getattr(self, name)
        return terms

    def lookup(self, name: str) -> dict[str, Term]:
        return {term.id: term for term in self.terms(name)}


@dataclass(frozen=True)
class Settings:
    title: str
    tagline: str
    base_url: str
    repository_url: str
    branch: str
    language: str
    last_reviewed: date
    disclaimer: str
    # per cent of a source's substantive sentences; None where the settings say none that
    # can be read (see stand_in)
    coverage_minimum: int | None = 90

    @classmethod
    def stand_in(cls, coverage_minimum: int | None) -> Settings:
        """What the claims are judged against when the settings file has errors: the
        checks read only the coverage minimum (None: the sources' coverage is not judged,
        rather than against a guess). The rest never reaches a page: a settings error is
        an error, and an error stops the build."""
        return cls("", "", "", "", "", "", date.min, "", coverage_minimum)


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    publisher: str | None
    published: date | None
    kind: str
    commercial_interest: str | None
    cites_literature: bool
    references: tuple[str, ...]
    seed: str
    removed: tuple[str, ...]
    boilerplate: tuple[str, ...]
    note: str | None
    body: str  # Markdown, as published
    path: str
    body_line: int  # line of the file on which the body starts
    positions: Positions = field(default_factory=dict, compare=False, repr=False)
    # Fields whose values are stand-ins, in a file with errors (see load._front_matter)
    stood_in: tuple[str, ...] = ()

    def at(self, field_path: str = "") -> Location:
        return locate(self.path, self.positions, field_path)


@pickled_by_fields
@dataclass(frozen=True, slots=True)  # one per claim: no __dict__ each
class Evidence:
    source: str
    quote: str
    stance: str
    cites: tuple[int, ...] = ()


@pickled_by_fields
@dataclass(frozen=True, slots=True)  # one per claim: no __dict__ each
class Claim:
    id: str
    statement: str
    kind: str
    mechanism: tuple[str, ...]
    dose: str
    strength: str
    evidence: tuple[Evidence, ...]
    contradicts: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    note: str | None = None
    reviewed: date | None = None
    path: str = ""
    positions: Positions = field(default_factory=dict, compare=False, repr=False)
    # Fields whose values are stand-ins, in a file with errors (see load._claim_from_text)
    stood_in: tuple[str, ...] = ()

    def at(self, field_path: str = "") -> Location:
        return locate(self.path, self.positions, field_path)


@dataclass(frozen=True)
class Overview:
    """An editor-written overview of one mechanism or topic (content/mechanisms/<id>.md)."""

    id: str
    body: str
    reviewed: date | None
    path: str
    body_line: int
    positions: Positions = field(default_factory=dict, compare=False, repr=False)
    stood_in: tuple[str, ...] = ()  # as a source's

    def at(self, field_path: str = "") -> Location:
        return locate(self.path, self.positions, field_path)


@dataclass(frozen=True)
class Registry:
    settings: Settings
    taxonomy: Taxonomy
    sources: tuple[Source, ...]
    claims: tuple[Claim, ...]
    overviews: tuple[Overview, ...]


def locate(path: str, positions: Positions, field_path: str) -> Location:
    """The location of a field, falling back to its nearest located parent."""
    key = field_path
    while True:
        if key in positions:
            line, col = positions[key]
            return Location(path, line, col)
        if not key:
            return Location(path, 1, 1) if positions else Location(path)
        cut = max(key.rfind("."), key.rfind("["))
        key = key[:cut] if cut > 0 else ""
