"""What each page shows, as a digest: the key under which a rendered page is reused.

A page is a function of its spec (template, path, its own values) and of build-wide
constants: code, templates, settings, taxonomy and sources. The constants go into one
digest for the whole build (`build_key`); when it changes, every page is rendered again.
A page's own key is a digest of its spec's values, where a claim counts as its version:
a digest of its file and its derived marks, which together determine everything any page
can show about it (statement, badges, quotes and their context in the sources, which are
constants). Values of a type this module does not know raise TypeError: a new kind of
value must say how it is keyed, or pages showing it could go stale.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import fields, is_dataclass, replace
from datetime import date
from functools import partial
from operator import attrgetter
from pathlib import Path
from typing import Any

from markupsafe import Markup

from .analysis import Coverage
from .anchoring import Anchor
from .cache import stable
from .history import History
from .models import Claim, Evidence, Overview, Settings, Source, Taxonomy, Term
from .pages import (
    Cell,
    Contradiction,
    Dispute,
    DoseComparison,
    Marks,
    Opposite,
    Row,
    Site,
    SourceClaim,
    StatedRange,
)
from .render import Article, Passages


def digest(*parts: bytes) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.digest()


def claim_versions(
    claims: Iterable[Claim],
    marks: Mapping[str, Marks],
    files: Mapping[str, bytes],
    history: History | None = None,
) -> dict[str, bytes]:
    """Claim id -> a digest of the claim's file (or, without one, its fields), its marks
    and its commit history."""
    versions = {}
    history = history or {}
    blake2b = hashlib.blake2b
    for claim in claims:
        content = files.get(claim.path) or stable(_claim_fields(claim))
        found = history.get(claim.id)  # none for most claims: no generator for those
        changes = tuple(map(tuple, found)) if found else ()
        # one self-delimiting encoding of the parts, hashed once (12 us a claim as four)
        parts = stable((claim.path, content, tuple(marks[claim.id]), changes))
        versions[claim.id] = blake2b(parts, digest_size=16).digest()
    return versions


def _claim_fields(claim: Claim) -> tuple[Any, ...]:
    return (
        claim.id,
        claim.statement,
        claim.kind,
        claim.mechanism,
        claim.dose,
        claim.strength,
        tuple((e.source, e.quote, e.stance, e.cites) for e in claim.evidence),
        claim.contradicts,
        claim.related,
        claim.conditions,
        claim.note,
        claim.reviewed.isoformat() if claim.reviewed else None,
    )


def build_key(code: str, templates: Path, site: Site) -> bytes:
    """The build-wide constants: code, every template file, settings, taxonomy, sources
    (metadata and text) and the overviews' presence."""
    parts = [code.encode()]
    if templates.is_dir():
        for path in sorted(templates.rglob("*")):
            if path.is_file():
                parts += [path.relative_to(templates).as_posix().encode(), path.read_bytes()]
    registry = site.registry
    parts.append(repr(registry.settings).encode())
    parts.append(repr(registry.taxonomy).encode())
    for source in site.sources.values():  # the body apart: its repr escapes the whole text
        parts += [repr(replace(source, body="")).encode(), source.body.encode()]
    return digest(*parts)


class Keys:
    def __init__(self, versions: Mapping[str, bytes], marks: Mapping[str, Marks]) -> None:
        self.versions = versions
        self.marks = marks
        # Encoded tuples and dataclasses by identity: the same groups of claims (a cell,
        # a row, a source's list) appear on many pages. The value is kept with its
        # encoding, so its id cannot be reused while the memo lives.
        self._seen: dict[int, tuple[Any, Any]] = {}
        self._encoders: dict[type, Callable[[Any], Any]] = {
            str: _same,
            int: _same,
            float: _same,
            bool: _same,
            type(None): _same,
            bytes: _same,
            Markup: str,
            date: date.isoformat,
            tuple: self._remembered(self._sequence),
            list: self._sequence,
            dict: self._mapping,
            Source: _by_id,  # build-wide constants: in the build key
            Term: _by_id,
            Settings: _constant,
            Taxonomy: _constant,
            Evidence: lambda e: (e.source, e.quote, e.stance, e.cites),
            Anchor: lambda a: (a.start, a.end, a.score, a.exact, a.repeats),
            # everything in these follows from their claims (and the constants):
            Contradiction: lambda c: (self._claim(c.first), self._claim(c.second)),
            Opposite: lambda o: (self._claim(o.standard), self._claim(o.low)),
            Dispute: lambda d: (self._claim(d.claim), d.index),
            StatedRange: lambda r: (r.source.id, tuple((self._claim(c), i) for c, i, _ in r.items)),
        }
        for kind, claim_id in _VERSIONED.items():
            self._encoders[kind] = partial(self._version, claim_id)
        for kind in (Cell, Row, DoseComparison, Overview):
            self._encoders[kind] = self._remembered(self._fields)
        # fields of plain values only (spans of sentences): as they are, marshal takes
        # nested tuples whole (and refuses anything else, so a new field cannot slip by)
        self._encoders[Coverage] = self._remembered(_plain_fields)
        # A source page's passage ids follow from the source (a constant) and the anchors
        # of the claims it lists (in their versions): the source id says it all. Its
        # article marks the quotes of every claim from the source, also those listed on
        # later pages: it gives them (a quote narrowed within its sentence on page 2 left
        # page 1's article stale when only the source id was keyed).
        self._encoders[Passages] = lambda value: ("Passages", value.source_id)
        self._encoders[Article] = lambda value: ("Article", value.source_id, value.marked)

    def forget(self) -> None:
        """Drop the memo of encoded values (they and this object refer to each other, a
        cycle that only the cycle collector would free)."""
        self._seen.clear()
        self._encoders.clear()

    def claim_page(self, claim: Claim) -> bytes:
        """A claim page shows the claim and, in full or as list items, the claims it
        contradicts or relates to."""
        marks = self.marks[claim.id]
        version = self.versions[claim.id]
        if not (marks.contradictions or marks.related):
            return version
        versions = self.versions
        return version + b"".join([versions[o] for o in (*marks.contradictions, *marks.related)])

    def page(self, template: str, path: str, nav: str, context: Mapping[str, Any]) -> bytes:
        encoded = (template, path, nav, self._mapping(context))
        return digest(stable(encoded))

    def encode(self, value: Any) -> Any:
        encoder = self._encoders.get(type(value))
        if encoder is None:
            if is_dataclass(value) and not isinstance(value, type):
                encoder = self._encoders[type(value)] = self._fields
            else:
                raise TypeError(f"no page key for a value of type {type(value).__name__}")
        return encoder(value)

    def _sequence(self, values: Sequence[Any]) -> tuple[Any, ...]:
        kinds = set(map(type, values))
        if kinds <= _PLAIN:
            return tuple(values)
        if len(kinds) == 1:  # values of one kind: no dispatch each
            kind = next(iter(kinds))
            claim_id = _VERSIONED.get(kind)
            if claim_id is not None:  # the commonest: versions looked up in C
                return tuple(map(self.versions.__getitem__, map(claim_id, values)))
            encoder = self._encoders.get(kind)
            if encoder is not None:
                return tuple(map(encoder, values))
        versions, encode, out = self.versions, self.encode, []
        for value in values:  # most values are claims or plain: no call for those
            kind = type(value)
            if kind is Claim:
                out.append(versions[value.id])
            elif kind in _PLAIN:
                out.append(value)
            else:
                out.append(encode(value))
        return tuple(out)

    def _remembered(self, encoder: Callable[[Any], Any]) -> Callable[[Any], Any]:
        seen = self._seen

        def encode(value: Any) -> Any:
            hit = seen.get(id(value))
            if hit is None:
                hit = seen[id(value)] = (value, encoder(value))
            return hit[1]

        return encode

    def _mapping(self, values: Mapping[Any, Any]) -> tuple[Any, ...]:
        encode = self.encode
        return tuple((encode(k), encode(v)) for k, v in values.items())

    def _claim(self, claim: Claim) -> bytes:
        return self.versions[claim.id]

    def _version(self, claim_id: Callable[[Any], str], value: Any) -> bytes:
        return self.versions[claim_id(value)]

    def _fields(self, value: Any) -> tuple[Any, ...]:
        return (type(value).__name__, *(self.encode(getattr(value, f.name)) for f in fields(value)))


_PLAIN = frozenset({str, int, float, bool, type(None), bytes})
# What counts as one claim's version, and where its id is: a claim, and a claim as one
# source lists it (its items are its evidence from that source, where their anchors put
# them: they follow from the claim and the source's text, a constant).
_VERSIONED: dict[type, Callable[[Any], str]] = {
    Claim: attrgetter("id"),
    SourceClaim: attrgetter("claim.id"),
}


def _plain_fields(value: Any) -> tuple[Any, ...]:
    return (type(value).__name__, *(getattr(value, f.name) for f in fields(value)))


def _same(value: Any) -> Any:
    return value


def _by_id(value: Source | Term) -> str:
    return value.id


def _constant(value: object) -> str:
    return type(value).__name__
