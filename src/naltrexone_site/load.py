"""Files into typed models, with every parse problem located."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from . import cache, parallel
from .inputs import StatKey, digest, is_claim_file, read_regular, rel, scan_inputs, stat_key
from .models import (
    Claim,
    Evidence,
    FieldPositions,
    Overview,
    Registry,
    Settings,
    Source,
    Taxonomy,
    Term,
    locate,
)
from .problems import Location, Problem, brief, error, warning
from .schema import (
    BRANCH_RE,
    CLAIM_FIELDS,
    COLUMNS,
    ID_HINT,
    ID_RE,
    LONG_ID_HINT,
    MAX_ID,
    OVERVIEW_FIELDS,
    SOURCE_FIELDS,
    Field,
    as_ids,
    file_name_hint,
    file_stem,
    is_date,
    nearest,
    said_once,
    site_address,
    stood_in,
    unknown_fields,
    unknown_value,
    usable,
    valid_id,
    validate,
)
from .yamlio import Parsed, as_written, decode, parse_yaml, split_front_matter

T = TypeVar("T")
CLAIM_LIMIT = 64 * 1024  # bytes; a claim is a few hundred
SOURCE_LIMIT = 1024 * 1024
TAXONOMY_FILES = {
    "mechanisms": "mechanisms.yaml",
    "doses": "doses.yaml",
    "strengths": "strengths.yaml",
    "source_kinds": "source-kinds.yaml",
    "stances": "stances.yaml",
    "claim_kinds": "claim-kinds.yaml",
}
# The fields of an entry, per file: one of another file's did nothing where it was given
# (a dose's `rank`), and an unknown field's hint listed all ten.
# Every entry's own fields, each with what it is for (the hint where it is missing)
_TERM_REQUIRED = {
    "id": "the id claims file under",
    "label": "the name the site shows",
    "definition": "what it means, in a sentence",
}
_COMMON = [*_TERM_REQUIRED]
_TERM_NAMES = {
    "mechanisms": [*_COMMON, "group"],
    "doses": [*_COMMON, "short"],
    "strengths": [*_COMMON, "rank", "letter", "grade", "schema_org", "wording"],
    "source_kinds": _COMMON,
    "stances": _COMMON,
    "claim_kinds": _COMMON,
}
_TERM_OWNERS = {  # field -> whose it is, for the hint where another file's is given
    f: f"the entries of {TAXONOMY_FILES[k]}" for k, names in _TERM_NAMES.items() for f in names
}
# The settings given as text, each with what it is for (the hint where it is missing)
_SETTINGS_TEXT = {
    "title": "the site's name",
    "tagline": "the line under it, on the home page",
    "base_url": "the address the site is published at, such as https://example.org/map/",
    "repository_url": "the repository's address, for the 'edit this claim' links",
    "branch": "the branch pull requests go to, such as main",
    "language": "the pages' language, such as en",
    "disclaimer": "the notice every page shows",
}
# taken as given; the disclaimer is joined into one line
_SETTINGS_REQUIRED = tuple(k for k in _SETTINGS_TEXT if k != "disclaimer")
# A language tag as HTML's lang takes it (BCP 47's shape: en, en-GB, pt-BR, zh-Hant)
LANGUAGE_RE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
_SETTINGS_KNOWN = tuple(f.name for f in fields(Settings))


@dataclass
class Loaded:
    """The registry as far as it could be read, and what stopped the rest."""

    registry: Registry | None
    problems: list[Problem] = field(default_factory=list)
    claim_files: tuple[str, ...] = ()  # every claim file's stem, parsed or not
    source_files: tuple[str, ...] = ()
    digests: dict[str, bytes] = field(default_factory=dict)  # claim path -> file digest


def project_files(root: Path) -> list[Path]:
    """Every input file of the build, sorted: what a cache key or a watcher must cover."""
    found = [root / "content" / "site.yaml"]
    found += sorted((root / "content" / "taxonomy").glob("*.yaml"))
    found += sorted((root / "content" / "sources").glob("*.md"))
    found += sorted((root / "content" / "mechanisms").glob("*.md"))
    found += sorted((root / "claims").glob("*.yaml"))
    return found


def load_registry(root: Path, scanned: dict[str, StatKey] | None = None) -> Loaded:
    problems: list[Problem] = []
    settings = _load_settings(root, problems)
    taxonomy = _load_taxonomy(root, problems)
    source_paths = sorted((root / "content" / "sources").glob("*.md"))
    sources = _parsed(root, "sources", source_paths, _load_source, problems, scanned)
    sources = _one_per_id(sources, source_paths, problems)
    overview_paths = sorted((root / "content" / "mechanisms").glob("*.md"))
    overviews = _parsed(root, "overviews", overview_paths, _load_overview, problems, scanned)
    if scanned is None:
        scanned = scan_inputs(root)
    # claims/*.yaml, as paths from the root (no Path objects: 10,000); a folder or a link
    # to nothing named so is read too, and said why it cannot be
    names = sorted(filter(is_claim_file, scanned))
    read = set(names)
    problems += _misnamed([n for n in scanned if n not in read])
    digests: dict[str, bytes] = {}
    claims = load_claims(root, names, problems, scanned, digests)
    # The claims are judged whatever the settings (see Settings.stand_in); against the
    # taxonomy only if it can be used
    registry = Registry(settings, taxonomy, sources, claims, overviews) if taxonomy else None
    return Loaded(
        registry,
        problems,
        tuple(n[len("claims/") : -len(".yaml")] for n in names),
        tuple(p.stem for p in source_paths),
        digests,
    )


def _parsed(
    root: Path,
    name: str,
    paths: list[Path],
    parse: Callable[[Path, Path, list[Problem]], T | None],
    problems: list[Problem],
    scanned: dict[str, StatKey] | None,
) -> tuple[T, ...]:
    """Sources or overviews, each parsed again only when its stat changed (a source's
    front matter takes a millisecond to read: half a second at 100,000 claims)."""
    cached = cache.load(root, name)
    if not isinstance(cached, dict):
        cached = {}
    fresh: dict[str, tuple[StatKey | None, T | None, tuple[Problem, ...]]] = {}
    for path in paths:
        where = rel(root, path)
        key = scanned.get(where) if scanned is not None else None
        hit = cached.get(where)
        if key is None or hit is None or hit[0] != key:
            found: list[Problem] = []
            hit = (key, parse(root, path, found), tuple(found))
        fresh[where] = hit
    if fresh.keys() != cached.keys() or any(cached[k] is not v for k, v in fresh.items()):
        cache.save(root, name, fresh)
    for _, _, found_problems in fresh.values():
        problems += found_problems
    return tuple(value for _, value, _ in fresh.values() if value is not None)


def _said(value: Any, written: str = "") -> str:
    """A YAML value in an editor's words: a scalar as `written` where YAML read it as other
    than text, and cut short where long."""
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return f"'{brief(value)}'"
    if isinstance(value, list | dict):
        return "a list" if isinstance(value, list) else "a mapping"
    return brief(written or str(value))


# Where the registry's files are read from: the folder, the ending of the files read, what
# they are, and the endings an editor may give one by mistake
_FOLDERS = (
    ("claims/", ".yaml", "claims", ("yaml", "yml")),
    ("content/sources/", ".md", "sources", ("md", "markdown")),
    ("content/mechanisms/", ".md", "mechanism overviews", ("md", "markdown")),
)


def _misnamed(scanned: Iterable[str]) -> list[Problem]:
    """Files named like claims, sources or overviews but not read as one (x.yml, x.MD, one
    in a folder in claims/): it would be missing from the site, and nothing said so."""
    found = []
    for folder, ending, what, endings in _FOLDERS:
        for path in sorted(n for n in scanned if n.startswith(folder)):
            stem, _, suffix = path.rpartition(".")
            nested = "/" in path[len(folder) :]
            if suffix.lower() not in endings or path.endswith(ending) and not nested:
                continue  # read, or not meant to be (a README, an editor's backup)
            name = stem.rpartition("/")[2]
            if nested:
                found.append(
                    warning(
                        Location(path),
                        "",
                        f"not read: {what} are the files in {folder} itself, not in folders in it",
                        f"move it to {folder}{name}{ending}",
                    )
                )
            else:
                found.append(
                    warning(
                        Location(path),
                        "",
                        f"not read: only files whose names end in '{ending}' are {what}",
                        f"rename it to {stem}{ending}",
                    )
                )
    return found


def _read(root: Path, path: Path, limit: int, problems: list[Problem]) -> str | None:
    name = rel(root, path)
    try:
        raw = read_regular(str(path), limit, whole=False)
    except OSError as exc:
        problems.append(error(Location(name), "", f"cannot read the file: {exc.strerror}"))
        return None
    text, found = decode(raw, name, limit)
    problems += found
    return text


# A claim file's parse: (claim or None, its problems). Pure in the file's bytes.
Parse = tuple[Claim | None, list[Problem]]
PARALLEL_FROM = 2000  # files; below this, starting worker processes costs more than it saves
BACKGROUND_FROM = 2000  # parsed claims to cache: from this many, written by a child process


def load_claims(
    root: Path,
    names: list[str],
    problems: list[Problem],
    scanned: dict[str, StatKey] | None = None,
    digests: dict[str, bytes] | None = None,
) -> tuple[Claim, ...]:
    """Every claim file, parsed once: unchanged files (same stat, or same bytes) come from
    the cache, the rest are read and parsed, across all cores when there are many."""
    cached: dict[str, Record] = cache.load_shards(root, "claims")
    fresh: dict[str, Record] = {}
    todo: list[tuple[str, StatKey, Record | None]] = []
    base = str(root)
    for name in names:
        key = scanned.get(name) if scanned is not None else None
        if key is None:
            try:
                key = stat_key(os.stat(os.path.join(base, name)))
            except OSError as exc:
                problems.append(error(Location(name), "", f"cannot read the file: {exc.strerror}"))
                continue
        hit = cached.get(name)
        if hit is not None and hit[0] == key:
            fresh[name] = hit
        else:
            todo.append((name, key, hit))
    tasks = [(name, key[2], hit[1] if hit else None) for name, key, hit in todo]
    for (name, key, hit), done in zip(todo, _read_all(base, tasks), strict=True):
        if isinstance(done, str):
            problems.append(error(Location(name), "", f"cannot read the file: {done}"))
        elif done[1] is None and hit is not None:  # the same bytes: only the stat changed
            fresh[name] = (key, done[0], hit[2], hit[3])
        elif done[1] is not None:
            fresh[name] = (key, done[0], done[1][0], tuple(done[1][1]))
    # only the parts that changed; many in the background (0.1 s at 10,000 claims)
    cache.save_shards(root, "claims", fresh, cached, beside_from=BACKGROUND_FROM)
    claims = []
    for name in sorted(fresh):
        _, read, claim, issues = fresh[name]
        problems += issues
        if digests is not None:
            digests[name] = read
        if claim is not None:
            claims.append(claim)
    return tuple(claims)


# What the cache keeps per claim file: (stat, digest of the bytes, claim, problems).
Record = tuple[StatKey, bytes, Claim | None, tuple[Problem, ...]]
# A file to read: its path from the root, its size (to share the work out) and the digest
# of the bytes the cache holds for it, if any. What reading it gave: the digest of its
# bytes and their parse (None when they are the cached bytes), or why it could not be read.
Task = tuple[str, int, bytes | None]
Read = tuple[bytes, Parse | None] | str


def _read_all(base: str, tasks: list[Task]) -> list[Read]:
    """Reading is shared out too: at 10,000 files it takes as long as parsing."""
    count = parallel.workers() if len(tasks) >= PARALLEL_FROM else 1
    return parallel.fork_pieces(
        partial(read_claim_files, base), tasks, [t[1] for t in tasks], count
    )


def read_claim_files(base: str, tasks: list[Task]) -> list[Read]:
    """Each file's bytes read and digested, and parsed unless they are the known ones."""
    found: list[Read] = []
    for name, size, known in tasks:
        try:
            raw = read_regular(os.path.join(base, name), size)
        except OSError as exc:
            found.append(exc.strerror or str(exc))
            continue
        read = digest(raw)
        found.append((read, None if read == known else parse_claim(name, raw)))
    return found


def parse_claim(name: str, raw: bytes) -> Parse:
    text, problems = decode(raw, name, CLAIM_LIMIT, yaml_only=True)
    return _claim_from_text(name, text, problems) if text is not None else (None, problems)


def _claim_from_text(name: str, text: str, problems: list[Problem]) -> Parse:
    parsed = parse_yaml(text, name)
    problems += parsed.problems
    data = parsed.data
    if data is None and parsed.problems:  # not read at all: a syntax error, an empty file
        return None, problems
    if not isinstance(data, dict):
        problems.append(_not_a_mapping(name, parsed))
        return None, problems
    data, broken = _made(data, CLAIM_FIELDS, name, parsed, problems)
    claim = Claim(
        id=data["id"],
        statement=data["statement"],
        kind=data["kind"],
        mechanism=as_ids(data["mechanism"]),
        dose=data["dose"],
        strength=data["strength"],
        evidence=tuple(
            Evidence(e["source"], e["quote"], e["stance"], tuple(e.get("cites") or ()))
            for e in data["evidence"]
        ),
        contradicts=as_ids(data.get("contradicts")),
        related=as_ids(data.get("related")),
        conditions=tuple(data.get("conditions") or ()),
        note=data.get("note"),
        reviewed=data.get("reviewed"),
        path=name,
        positions=FieldPositions.of(parsed.positions),
        stood_in=tuple(sorted(broken)),
    )
    return claim, problems


def _front_matter(
    root: Path, path: Path, fields: tuple[Field, ...], problems: list[Problem]
) -> tuple[dict[str, Any], str, int, dict[str, tuple[int, int]], frozenset[str]] | None:
    name = rel(root, path)
    text = _read(root, path, SOURCE_LIMIT, problems)
    if text is None:
        return None
    head, body, body_line, found = split_front_matter(text, name)
    problems += found
    if found:
        return None
    if not head.strip():  # YAML's "file is empty" said so of a file with an article in it
        problems.append(
            error(
                Location(name, 1, 1),
                "",
                "the front matter between the '---' lines is empty",
                "write one 'field: value' per line there, see docs/registry-format.md",
            )
        )
        return None
    parsed = parse_yaml(head, name, line_offset=1)
    problems += parsed.problems
    if parsed.data is None and parsed.problems:  # not read at all: a syntax error
        return None
    if not isinstance(parsed.data, dict):  # `null` too: a file said nothing of was dropped
        problems.append(_not_a_mapping(name, parsed))
        return None
    data, broken = _made(parsed.data, fields, name, parsed, problems)
    return data, body, body_line, parsed.positions, broken


def _made(
    data: dict[str, Any],
    fields: tuple[Field, ...],
    name: str,
    parsed: Parsed,
    problems: list[Problem],
) -> tuple[dict[str, Any], frozenset[str]]:
    """The record's values, validated, and the fields stood in for. A file with errors
    never reaches a page, but its claim, source or overview is made all the same, so that
    the checks report its other problems in the same pass: a duplicate key hid a
    misspelt mechanism until it was fixed, then an unknown field did, then a value of
    the wrong type hid a quote that differs from its source (in a claim, or in the
    source it quotes). A value that cannot be used is stood in for by an empty one (the
    id by the file's name, which other files name it by, where that is an id), and
    nothing more is said of it (see checks.judged). The fields' problems are added to
    `problems`, each said once."""
    found = list(validate(data, fields, name, parsed.positions))
    problems += said_once(_unrefused(found, parsed))
    broken = stood_in(found)
    if broken:
        data = usable(data, fields, broken)
        if "id" in broken and valid_id(file_stem(name)):
            data["id"] = file_stem(name)
    return data, broken


def _unrefused(found: list[Problem], parsed: Parsed) -> list[Problem]:
    """The problems but those of a value the parser refused (a tag, an impossible date):
    None here, it would be "missing" or "is empty" too."""
    return [p for p in found if p.field not in parsed.refused]


def _load_source(root: Path, path: Path, problems: list[Problem]) -> Source | None:
    loaded = _front_matter(root, path, SOURCE_FIELDS, problems)
    if loaded is None:
        return None
    data, body, body_line, positions, broken = loaded
    return Source(
        id=data["id"],
        title=data["title"],
        publisher=data.get("publisher"),
        published=data.get("published"),
        kind=data["kind"],
        commercial_interest=data.get("commercial_interest"),
        cites_literature=data["cites_literature"],
        references=tuple(data.get("references") or ()),
        seed=data["seed"],
        removed=tuple(data.get("removed") or ()),
        boilerplate=tuple(data.get("boilerplate") or ()),
        note=data.get("note"),
        body=body,
        path=rel(root, path),
        body_line=body_line,
        positions=positions,
        stood_in=tuple(sorted(broken)),
    )


def _one_per_id(
    sources: tuple[Source, ...], files: list[Path], problems: list[Problem]
) -> tuple[Source, ...]:
    """The sources, each under the id it gives, one whose file is named otherwise said;
    but of several giving one id, only the file named after it (else the first) keeps
    it, and the rest take their file names: a copy under another source's id took its
    place, and every quote from that source was "not in source". (A renamed file keeps
    its id: the claims citing it stay as they were.)"""
    gives: dict[str, str | None] = {path.stem: None for path in files}  # None: unread
    gives.update((Path(source.path).stem, source.id) for source in sources)
    keeper: dict[str, Source] = {}  # id -> the source named after it, else the first
    for source in sources:
        if source.id not in keeper or Path(source.path).stem == source.id:
            keeper[source.id] = source
    made = []
    for source in sources:
        stem = Path(source.path).stem
        if source.id != stem:
            if "id" not in source.stood_in:  # else its id is no id, and its error says so
                hint = file_name_hint(source.id, stem, ".md", "source", gives)
                problems.append(
                    error(
                        source.at("id"),
                        "id",
                        f"'{source.id}' does not match the file name '{stem}.md'",
                        hint,
                    )
                )
            if keeper[source.id] is not source:
                source = replace(source, id=stem)
        made.append(source)
    return tuple(made)


def _load_overview(root: Path, path: Path, problems: list[Problem]) -> Overview | None:
    loaded = _front_matter(root, path, OVERVIEW_FIELDS, problems)
    if loaded is None:
        return None
    data, body, body_line, positions, broken = loaded
    name = rel(root, path)
    return Overview(
        data["id"], body, data.get("reviewed"), name, body_line, positions, tuple(sorted(broken))
    )


def _not_a_mapping(name: str, parsed: Parsed) -> Problem:
    """Said where the parser found the value, not at 1:1: an editor's file begins with
    its schema comment, a source's front matter with '---'."""
    found = "a list" if isinstance(parsed.data, list) else "a single value"
    return error(
        Location(name, *parsed.positions.get("", (1, 1))),
        "",
        f"expected a mapping of fields, found {found}",
        "write one 'field: value' per line, see docs/registry-format.md",
    )


def _load_settings(root: Path, problems: list[Problem]) -> Settings:
    """The settings, or a stand-in where they have errors (each one in `problems`)."""
    path = root / "content" / "site.yaml"
    text = _read(root, path, SOURCE_LIMIT, problems) if path.exists() else None
    if text is None:
        if not path.exists():
            problems.append(
                error(Location(rel(root, path)), "", "the site settings file is missing")
            )
        return Settings.stand_in(None)
    name = rel(root, path)
    parsed = parse_yaml(text, name)
    problems += parsed.problems
    if parsed.data is None and parsed.problems:  # not read at all: a syntax error
        return Settings.stand_in(None)
    if not isinstance(parsed.data, dict):  # not eight settings "missing"
        problems.append(_not_a_mapping(name, parsed))
        return Settings.stand_in(None)
    # Read as far as its fields allow, as a claim is: a key given twice keeps its first
    # value, and hid every other problem of the file until it was fixed.
    found: list[Problem] = []
    settings = _settings(name, text, parsed, found)
    problems += _unrefused(found, parsed)
    return settings


def _settings(name: str, text: str, parsed: Parsed, problems: list[Problem]) -> Settings:
    data: dict[str, Any] = parsed.data

    def at(key: str) -> Location:
        return Location(name, *parsed.positions.get(key, (1, 1)))

    def said(key: str) -> str:
        return _said(data.get(key), as_written(text, at(key).line))

    # A misspelt setting was ignored, and its required one reported missing at 1:1 only.
    meant = set()
    absent = [k for k in _SETTINGS_KNOWN if k not in data]  # what a misspelt key may be
    for key in [k for k in data if k not in _SETTINGS_KNOWN]:
        guess = nearest(key, absent) if absent else None
        if guess:
            meant.add(guess)
            hint = f"did you mean '{guess}'?"
        else:
            hint = f"remove it; the settings: {', '.join(_SETTINGS_KNOWN)}"
        problems.append(error(at(key), key, "unknown setting", hint))
    # the settings that cannot be used as given: no text, then a text of the wrong form
    unusable = [
        k for k in _SETTINGS_TEXT if not isinstance(data.get(k), str) or not data[k].strip()
    ]
    for key in unusable:
        if key in meant:
            continue  # absent, and the misspelt key above is this one
        value = data.get(key)
        if isinstance(value, str) or key in data and value is None:
            problems.append(error(at(key), key, "is empty", "write the text"))
        elif key in data:  # `language: no` is read as false
            hint = "write it as text" if isinstance(value, list | dict) else "put it in quotes"
            problems.append(error(at(key), key, f"expected text, found {said(key)}", hint))
        else:
            hint = f"add '{key}:' with {_SETTINGS_TEXT[key]}"
            problems.append(error(at(key), key, "required setting is missing", hint))
    language = data.get("language")
    if isinstance(language, str) and language.strip() and not LANGUAGE_RE.fullmatch(language):
        problems.append(  # every page's <html lang>: screen readers choose a voice by it
            error(
                at("language"),
                "language",
                f"'{brief(language)}' is not a language tag",
                "write a tag such as en, or en-GB",
            )
        )
        unusable.append("language")
    for key in ("base_url", "repository_url"):  # in every page's links: only web addresses
        address = data.get(key)
        if isinstance(address, str) and address.strip() and site_address(address) is None:
            full = address.startswith(("https://", "http://"))
            problems.append(
                error(
                    at(key),
                    key,
                    f"'{brief(address, 80)}' is not a web address",
                    "write the address alone, with no space, '?' or '#' part"
                    if full
                    else "write the address in full, starting with https://",
                )
            )
            unusable.append(key)
    branch = data.get("branch")
    if isinstance(branch, str) and branch.strip() and not BRANCH_RE.fullmatch(branch):
        problems.append(
            error(
                at("branch"),
                "branch",
                f"'{brief(branch)}' is not a branch name",
                "write the name of the repository's branch, such as main",
            )
        )
        unusable.append("branch")
    reviewed = data.get("last_reviewed")
    if not is_date(reviewed):
        problems.append(error(at("last_reviewed"), "last_reviewed", "expected a date (YYYY-MM-DD)"))
    minimum = data.get("coverage_minimum", 90)
    if isinstance(minimum, bool) or not isinstance(minimum, int | float) or not 0 <= minimum <= 100:
        problems.append(
            error(
                at("coverage_minimum"),
                "coverage_minimum",
                f"expected a percentage from 0 to 100, found {said('coverage_minimum')}",
                "write a number such as 'coverage_minimum: 90', or remove the line for 90",
            )
        )
        return Settings.stand_in(None)
    if unusable or not is_date(reviewed):
        return Settings.stand_in(int(minimum))
    return Settings(
        **{k: data[k] for k in _SETTINGS_REQUIRED},
        last_reviewed=reviewed,
        disclaimer=" ".join(data["disclaimer"].split()),
        coverage_minimum=int(minimum),
    )


# The type of each field of a taxonomy entry, from Term. Its annotations are strings
# ("str"), under postponed evaluation.
_TERM_TYPES = {f.name: {"str": str, "int": int}[str(f.type)] for f in fields(Term)}


def _term_problems(
    entry: dict[str, Any],
    i: int,
    name: str,
    positions: dict[str, tuple[int, int]],
    first: dict[str, int],
    known: list[str],
) -> list[Problem]:
    """A taxonomy entry's fields, each said where it is wrong: a required one missing (said
    once with a misspelling of it, see `said_once`), any of the wrong type; and its id: an
    id names a page (mechanisms/<id>.html) and an anchor, so '../x' or a repeated id broke
    the build far from its cause."""
    found = []
    for field_name, purpose in _TERM_REQUIRED.items():
        value = entry.get(field_name)
        if field_name not in entry:
            found.append(
                error(
                    locate(name, positions, f"[{i}]"),
                    f"[{i}].{field_name}",
                    "required field is missing",
                    f"add '{field_name}:' with text: {purpose}",
                )
            )
        elif value is None or isinstance(value, str) and not value.strip():
            at = locate(name, positions, f"[{i}].{field_name}")
            found.append(error(at, f"[{i}].{field_name}", "is empty", "write the text"))
    term_id = entry.get("id")
    at = locate(name, positions, f"[{i}].id")
    if isinstance(term_id, str):  # else said above, or with the other fields' types below
        if not ID_RE.fullmatch(term_id):
            found.append(
                error(at, f"[{i}].id", f"'{brief(term_id)}' is not a valid id ({ID_HINT})")
            )
        elif len(term_id) > MAX_ID:
            found.append(error(at, f"[{i}].id", f"is {len(term_id)} characters long", LONG_ID_HINT))
        elif term_id in first:
            found.append(
                error(
                    at,
                    f"[{i}].id",
                    f"'{term_id}' is already the id of the entry at line {first[term_id]}",
                    "give each entry its own id",
                )
            )
    for field_name, kind in _TERM_TYPES.items():
        if field_name not in known:  # another file's: an unknown field, said once
            continue
        value = entry.get(field_name)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            what = "a whole number" if kind is int else "text"
            found.append(
                error(
                    locate(name, positions, f"[{i}].{field_name}"),
                    f"[{i}].{field_name}",
                    f"expected {what}, found {type(value).__name__}",
                    "put text in quotes" if kind is str else "write a number such as 1",
                )
            )
    return found


GROUPS = ("mechanism", "topic")  # of the map's rows, in its order


def _group_problems(
    entry: dict[str, Any], i: int, name: str, positions: dict[str, tuple[int, int]]
) -> list[Problem]:
    """A mechanisms.yaml entry's group: the map shows a row under "Mechanisms" or
    "Effects and topics" by it, and left a row whose group was misspelt or missing off
    the map, with all its claims, unsaid."""
    group = entry.get("group")
    if group in GROUPS:
        return []
    if group is None:
        at = locate(name, positions, f"[{i}]")
        hint = "add 'group: mechanism' (a way naltrexone acts) or 'group: topic'"
        return [error(at, f"[{i}].group", "required field is missing", hint)]
    at = locate(name, positions, f"[{i}].group")
    return [unknown_value(at, f"[{i}].group", str(group), "group", GROUPS)]


# A strength's rank orders the scale (the map's mix, the browse filter), and its letter is
# the badge's cue that does not rely on colour: missing or shared, two levels read alike.
_SCALE_HINTS = {
    "rank": "number the levels 1, 2, 3 and so on, strongest first",
    "letter": "give each level a letter of its own, such as E for Established",
}


def _scale_problems(
    entries: list[Any], name: str, positions: dict[str, tuple[int, int]]
) -> list[Problem]:
    """Each strength's rank and letter: given, and not another strength's."""
    found = []
    first: dict[tuple[str, object], int] = {}  # (field, value) -> its first entry's line
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue  # said with the entry's other problems
        for field_name, hint in _SCALE_HINTS.items():
            value = entry.get(field_name)
            at = locate(name, positions, f"[{i}].{field_name}")
            here = f"[{i}].{field_name}"
            if field_name not in entry:
                at = locate(name, positions, f"[{i}]")
                found.append(error(at, here, "required field is missing", hint))
            elif isinstance(value, str) and not value.strip():
                found.append(error(at, here, "is empty", hint))
            elif isinstance(value, int) and not isinstance(value, bool) and value < 1:
                found.append(error(at, here, f"is {brief(str(value))}: ranks start at 1", hint))
            elif isinstance(value, str | int) and not isinstance(value, bool):  # else: its type
                if (field_name, value) in first:
                    said, line = _said(value), first[field_name, value]
                    found.append(
                        error(
                            at,
                            here,
                            f"{said} is already the {field_name} of the entry at line {line}",
                            hint,
                        )
                    )
                else:
                    first[field_name, value] = positions.get(f"[{i}]", (1, 1))[0]
    return found


def _load_taxonomy(root: Path, problems: list[Problem]) -> Taxonomy | None:
    parts: dict[str, tuple[Term, ...]] = {}
    broken = False  # an entry with a bad id or field: reported; no registry is made of it
    for key, filename in TAXONOMY_FILES.items():
        path = root / "content" / "taxonomy" / filename
        name = rel(root, path)
        if not path.exists():
            problems.append(error(Location(name), "", "taxonomy file is missing"))
            continue
        text = _read(root, path, SOURCE_LIMIT, problems)
        parsed = parse_yaml(text, name) if text is not None else None
        if parsed is None:
            continue
        problems += parsed.problems
        terms: list[Term] = []
        first: dict[str, int] = {}  # id -> its entry's line
        known = _TERM_NAMES[key]
        start = len(problems)  # this file's entries' problems, from here
        for i, entry in enumerate(parsed.data if isinstance(parsed.data, list) else []):
            where = locate(name, parsed.positions, f"[{i}]")
            if not isinstance(entry, dict):
                problems.append(
                    error(where, f"[{i}]", "each entry needs id, label and definition as text")
                )
                broken = True  # without the entry, the claims filed under it are misjudged
                continue
            # An unknown field is said with the entry's other problems, and, as in a claim,
            # leaves the entry readable: it was said alone, and the entry dropped, so that
            # every claim filed under it was "not a known mechanism" as well.
            problems += unknown_fields(
                entry, known, name, parsed.positions, f"[{i}].", _TERM_OWNERS
            )
            found = _term_problems(entry, i, name, parsed.positions, first, known)
            problems += found
            if key == "mechanisms":  # a wrong group hides a row, but misjudges no claim
                problems += _group_problems(entry, i, name, parsed.positions)
            if found:
                broken = True  # without the entry, the claims filed under it are misjudged
                if not all(isinstance(entry.get(k), str) for k in _TERM_REQUIRED):
                    continue  # no term can be made of it
            first.setdefault(entry["id"], where.line)
            terms.append(Term(**{k: v for k, v in entry.items() if k in known}))
        problems[start:] = said_once(problems[start:])
        if key == "doses" and isinstance(parsed.data, list) and parsed.data:
            given = {entry.get("id") for entry in parsed.data if isinstance(entry, dict)}
            for column in COLUMNS:
                if column not in given:  # its label heads a column: the build stopped there
                    problems.append(
                        error(
                            Location(name, 1, 1),
                            "",
                            f"no entry has the id '{column}', one of the map's dose columns",
                            f"add an entry with 'id: {column}', its label, short and definition",
                        )
                    )
                    broken = True
        if key == "strengths" and isinstance(parsed.data, list):
            problems += _scale_problems(parsed.data, name, parsed.positions)
        if isinstance(parsed.data, list) and not parsed.data:
            problems.append(
                error(Location(name, 1, 1), "", "the file lists no entries", "add at least one")
            )
        if not isinstance(parsed.data, list) and not parsed.problems:
            problems.append(error(Location(name), "", "expected a list of entries"))
        parts[key] = tuple(terms)
    if broken or len(parts) != len(TAXONOMY_FILES) or not all(parts.values()):
        return None
    return Taxonomy(**parts)
