"""Every fast path gives exactly what the slower code it stands in for gives.

The YAML subset reader against PyYAML's composer, the quick schema check against the
worded problems, the whitespace map of SourceText against a word-by-word map, the
block-level search for sentence ids against rendering the body, `esc` against
markupsafe, the incremental duplicate search against a fresh one, compact field
positions against a dict, derived marks against their definitions, and the claims each
source page lists against theirs.
"""

from __future__ import annotations

import bisect
import pickle
import random
import re
from dataclasses import FrozenInstanceError
from dataclasses import fields as fields_of
from datetime import date
from pathlib import Path
from typing import NoReturn

import markupsafe
import pytest
import yaml
from conftest import BASE_CLAIMS, REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from naltrexone_site import cache, duplicates, markup, schema, yamlfast, yamlio
from naltrexone_site.analysis import (
    AnchoredEvidence,
    contradictions,
    corroboration,
    is_contested,
    symmetric,
)
from naltrexone_site.anchoring import (
    _CHARS,
    _DROPPED,
    _MARKDOWN,
    _SPACES,
    Anchor,
    SourceText,
    _blank_markers,
    _fold,
    normalize,
    replace_chars,
    sentence_ids,
    sentence_spans,
)
from naltrexone_site.fragments import esc
from naltrexone_site.models import Claim, Evidence, FieldPositions
from naltrexone_site.pages import claims_by_source, derive_marks

# ------------------------------------------------------------------------ YAML subset


def assert_same_or_declined(text: str, offset: int = 0) -> bool:
    fast = yamlfast.parse(text, offset)
    if fast is None:
        return False
    original = yamlfast.parse
    yamlfast.parse = lambda *args: None
    try:
        slow = yamlio.parse_yaml(text, "x.yaml", line_offset=offset)
    finally:
        yamlfast.parse = original
    assert slow.problems == []  # the fast path never accepts what the full one refuses
    assert fast[0] == slow.data and repr(fast[0]) == repr(slow.data)
    assert fast[1] == slow.positions
    return True


def registry_files() -> list[Path]:
    return sorted((REPO / "claims").glob("*.yaml")) + sorted(
        (REPO / "tests" / "fixtures").rglob("*.yaml")
    )


def test_every_claim_file_in_the_repository_reads_the_same() -> None:
    accepted = 0
    for path in registry_files():
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            continue
        accepted += assert_same_or_declined(text)
    claims = len(list((REPO / "claims").glob("*.yaml")))
    assert accepted >= claims  # every real claim takes the fast path


def test_the_test_projects_claims_read_the_same() -> None:
    for text in BASE_CLAIMS.values():
        assert assert_same_or_declined(text)


SCALARS = st.sampled_from(
    [
        "plain words here",
        "Naltrexone (LDN) [sometimes] helps.",
        "2026-11-21",
        "2026-02-30",
        "12",
        "-3",
        "0x1F",
        "1.5",
        "yes",
        "No",
        "null",
        "~",
        "true",
        "'single ''quoted'' text'",
        '"double \\"quoted\\" \\\\ text"',
        '"with \\n escape"',
        "text # with a comment",
        "text: with a colon",
        "C#",
        "a:b",
        "*alias",
        "&anchor x",
        "!!str tagged",
        "| literal",
        "> folded",
        "%percent",
        "@at",
        "`tick`",
        "trailing spaces   ",
        "ünïcödé ‘quotes’ — dash",
        "[a, b]",
        "[a, 'b c', \"d\"]",
        "[1, 2, 3]",
        "[]",
        "[a, b,]",
        "[a: b]",
        "{a: b}",
        "",
    ]
)
FOLDED = st.lists(
    st.sampled_from(
        ["  line one", "  line two.", "", "    more indented", "  trailing ", "  # hash"]
    ),
    min_size=1,
    max_size=4,
)


@st.composite
def documents(draw: st.DrawFn) -> str:
    lines = [draw(st.sampled_from(["", "# a comment", "# yaml-language-server: x"]))]
    keys = draw(
        st.lists(
            st.sampled_from(["id", "statement", "kind", "note", "yes", "a_b"]),
            min_size=1,
            max_size=5,
        )
    )
    for key in keys:
        form = draw(st.integers(0, 3))
        if form == 0:
            lines.append(f"{key}: {draw(SCALARS)}")
        elif form == 1:
            lines.append(f"{key}: >-")
            lines += draw(FOLDED)
        elif form == 2:
            lines.append(f"{key}:")
            for _ in range(draw(st.integers(0, 2))):
                indent = draw(st.sampled_from(["  ", "", "    "]))
                if draw(st.booleans()):  # a list of scalars; '- ' alone is an empty item
                    lines.append(f"{indent}- {draw(SCALARS)}")
                    continue
                lines.append(f"{indent}- source: {draw(SCALARS)}")
                lines.append(f"{indent}  quote: {draw(SCALARS)}")
                if draw(st.booleans()):
                    lines.append(f"{indent}  cites: {draw(SCALARS)}")
        else:
            lines.append(f"{key}: {draw(SCALARS)}")
            lines.append(
                draw(
                    st.sampled_from(
                        ["  continued", "", "- item", "other: x", "---", "...", "--- x"]
                    )
                )
            )
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n"]))


@settings(max_examples=600, deadline=None)
@given(documents(), st.sampled_from([0, 1]))
def test_the_fast_reader_agrees_with_pyyaml_or_declines(text: str, offset: int) -> None:
    assert_same_or_declined(text, offset)


@pytest.mark.parametrize(
    "text",
    [
        "x:\n- \n",  # PyYAML puts an empty item just after its '-' (the reader once said +1)
        "x:\n  -   \ny: 1\n",
        "x:\n-  \n  - b\n",  # ... and an item that is a list where that list starts
        "a: 1\n---\nb: 2\n",  # document markers are declined by the column-0 rule
        "a: 1\n...\n",
        "---\na: 1\n",
        "%YAML 1.1\n---\na: 1\n",
        "a: [b, c]\n  d\n",  # a one-line value continued on the next line
        "- a\n",
    ],
)
def test_known_hard_cases_agree_or_decline(text: str) -> None:
    assert_same_or_declined(text)


def test_the_refused_characters_are_yamls_non_printable_ones_and_line_breaks() -> None:
    extra = "\t\r\x85\u2028\u2029\ufeff"  # printable to YAML, but outside the subset
    for code in [*range(0x10000), 0x10000, 0x1F600, 0x10FFFF]:
        char = chr(code)
        refused = bool(yaml.reader.Reader.NON_PRINTABLE.match(char)) or char in extra
        assert bool(yamlfast._REFUSED.match(char)) == refused, hex(code)
        if code < 0x80:
            assert (char.encode().translate(None, yamlfast._REFUSED_BYTES) == b"") == refused


# ------------------------------------------------------------------- validation

VALUE_LIST: list[object] = [
    None,
    "",
    "  ",
    "text",
    "Not An Id",
    "an-id",
    1,
    0,
    -2,
    1.5,
    True,
    date(2026, 11, 21),
    [],
    ["an-id"],
    ["a", ""],
    ["a", 1],
    [1, 3],
    [0],
    [True],
    [2, True],
    {},
    [{}],
    ["text"],
    [{"source": "s", "quote": "q", "stance": "supports"}],
    [{"source": "s", "quote": "q", "stance": "supports", "cites": [1, 2]}],
    [{"source": "s", "quote": " ", "stance": "supports"}],
    [{"source": "s", "quote": "q", "stance": "supports", "extra": 1}],
    [{"source": "s", "quote": "q"}],
]
VALUES = st.sampled_from(VALUE_LIST)
VALID: dict[str, tuple[tuple[schema.Field, ...], dict[str, object]]] = {
    "claim": (
        schema.CLAIM_FIELDS,
        {
            "id": "a-claim",
            "statement": "s",
            "kind": "k",
            "mechanism": "m",
            "dose": "d",
            "strength": "s",
            "evidence": [{"source": "s", "quote": "q", "stance": "x", "cites": [2]}],
            "related": ["b"],
            "conditions": ["c"],
            "note": None,
            "reviewed": date(2026, 1, 2),
        },
    ),
    "source": (
        schema.SOURCE_FIELDS,
        {"id": "a", "title": "t", "kind": "k", "cites_literature": False, "seed": "s"},
    ),
    "overview": (schema.OVERVIEW_FIELDS, {"id": "m", "reviewed": None}),
    "evidence": (schema.EVIDENCE_FIELDS, {"source": "s", "quote": "q", "stance": "x"}),
}


@st.composite
def records(draw: st.DrawFn) -> tuple[tuple[schema.Field, ...], dict[str, object]]:
    """A valid record with a few fields changed, removed or added."""
    fields, valid = VALID[draw(st.sampled_from(sorted(VALID)))]
    record = dict(valid)
    names = [f.name for f in fields] + ["extra", "Id"]
    for name in draw(st.lists(st.sampled_from(names), max_size=3)):
        if draw(st.integers(0, 4)) == 0:
            record.pop(name, None)
        else:
            record[name] = draw(VALUES)
    return fields, record


@settings(max_examples=1000, deadline=None)
@given(records())
def test_the_quick_check_passes_exactly_what_validation_finds_nothing_in(
    case: tuple[tuple[schema.Field, ...], dict[str, object]],
) -> None:
    fields, record = case
    problems = list(schema._problems(record, fields, "x.yaml", {}, ""))
    assert schema._all_fine(record, fields) == (problems == [])


def test_every_single_change_to_a_valid_record_is_judged_alike() -> None:
    absent = object()
    for fields, valid in VALID.values():
        assert len({f.name for f in fields}) == len(fields)  # the quick check counts on it
        assert schema._all_fine(valid, fields)
        for name in [f.name for f in fields] + ["extra"]:
            for value in [absent, *VALUE_LIST]:
                record = {k: v for k, v in valid.items() if k != name}
                if value is not absent:
                    record[name] = value
                problems = list(schema._problems(record, fields, "x.yaml", {}, ""))
                assert schema._all_fine(record, fields) == (problems == []), (name, value)


# ---------------------------------------------------------------- SourceText's map


_TABLE = str.maketrans(_CHARS)  # the definition: one character to one


def word_by_word(body: str) -> tuple[str, list[int]]:
    """The normalised text and, for every position in it, the position in the body:
    the map as it was built before, one segment per word."""
    prepared = _blank_markers(body.translate(_TABLE))
    assert _MARKDOWN.search(prepared) is None
    starts: list[int] = []
    origins: list[int] = []
    pieces: list[str] = []
    length = 0
    for word in re.finditer(r"\S+", prepared):
        if pieces:
            pieces.append(" ")
            length += 1
        starts.append(length)
        origins.append(word.start())
        pieces.append(word.group())
        length += len(word.group())
    norm = _fold("".join(pieces))

    def to_body(i: int) -> int:
        if not starts:
            return 0
        seg = max(bisect.bisect_right(starts, i) - 1, 0)
        return origins[seg] + (i - starts[seg])

    return norm, [to_body(i) for i in range(len(norm) + 1)]


BODY_PIECES = st.sampled_from(
    [
        "word",
        "Two words",
        " ",
        "  ",
        "\n",
        "\n\n",
        "\t",
        "\u00a0",
        "\x1c",
        "- ",
        "## ",
        "é",
        "İ",
        "’",
        "—",
        ".",
        "\u2028",
    ]  # fmt: skip
)


MARKED_TEXT = st.text(
    alphabet=st.sampled_from([*_CHARS, *_SPACES, *_DROPPED, "a", "B", " ", "é", "İ", "-", "."]),
    max_size=30,
)


@settings(max_examples=500, deadline=None)
@given(MARKED_TEXT)
def test_replacing_characters_equals_translate(text: str) -> None:
    for table in (_CHARS, _SPACES, _DROPPED):
        assert replace_chars(text, table) == text.translate({ord(k): v for k, v in table.items()})


@settings(max_examples=500, deadline=None)
@given(MARKED_TEXT)
def test_normalize_equals_its_definition(text: str) -> None:
    """Marks made plain, line-start markers blanked, Markdown syntax dropped, white space
    made single, case folded: in one order for any text, all ASCII or not."""
    prepared = _blank_markers(text.translate(_TABLE)).translate(dict.fromkeys(map(ord, _DROPPED)))
    assert normalize(text) == _fold(" ".join(prepared.split()))


@settings(max_examples=400, deadline=None)
@given(st.lists(BODY_PIECES, max_size=30).map("".join))
def test_source_text_maps_every_position_as_the_word_by_word_map(body: str) -> None:
    if _MARKDOWN.search(_blank_markers(body.translate(_TABLE))):
        return  # the per-word path, unchanged
    text = SourceText(body)
    norm, positions = word_by_word(body)
    assert text.norm == norm
    assert [text.to_body(i) for i in range(len(norm) + 1)] == positions


# ------------------------------------------------------------------ sentence ids


BODY_LINES = st.sampled_from(
    [
        "Plain sentence. Another one.",
        "## A heading",
        "- A list item. With two.",
        "",
        "| a | b |",
        "|---|---|",
        "| Cell one. | Cell two |",
        "> A quote here.",
        "    code line",
        "A *marked* word and `code`.",
        "1. Numbered item.",
    ]  # fmt: skip
)


@settings(max_examples=300, deadline=None)
@given(st.lists(BODY_LINES, max_size=12).map("\n".join))
def test_sentence_ids_are_found_as_rendering_finds_them(body: str) -> None:
    sentences = sentence_spans(body)
    _, emitted = markup.source_body(
        body, markup.BodyMarks(sentences, (), {}, sentence_ids(body, sentences))
    )
    assert markup.emitted_sentences(body, sentences) == emitted


# -------------------------------------------------------------------------- escaping


@given(st.text())
def test_esc_is_markupsafe_escape(text: str) -> None:
    assert esc(text) == str(markupsafe.escape(text))


# ------------------------------------------------------------------ duplicate search


def _spaced_twice(text: str) -> str:
    return text.replace(" ", "  ")


@pytest.mark.parametrize("skewed", [False, True])
def test_the_updated_duplicate_search_equals_a_fresh_one(tmp_path: Path, skewed: bool) -> None:
    """`skewed`: a few words in most statements, more than `common` use (so not rare),
    and some statements of those words only (chosen from all their words)."""
    rng = random.Random(5)
    vocabulary = [f"word{n}" for n in range(60)] + ["naltrexone", "dose", "sleep", "pain"]
    frequent = ["sleep", "pain", "mood", "brain", "receptor", "opioid"]

    def statement() -> str:
        if not skewed:
            return " ".join(rng.choice(vocabulary) for _ in range(rng.randint(3, 10)))
        words = [w for w in frequent if rng.random() < 0.6]
        words += [f"word{rng.randrange(60)}" for _ in range(rng.choice([0, 0, 1, 2, 3]))]
        return " ".join(words) or "opioid"

    statements = {f"claim-{n:03d}": statement() for n in range(300)}
    for n in range(0, 300, 7):  # near-duplicates
        statements[f"claim-{n:03d}"] = statements[f"claim-{(n + 1) % 300:03d}"] + " too"
    duplicates.near_duplicates(statements, tmp_path)
    for step in range(120):
        roll = rng.random()
        key = rng.choice(sorted(statements))
        if roll < 0.4:
            statements[key] = rng.choice(list(statements.values())) + rng.choice(["", " again"])
        elif roll < 0.5:  # the same words, written otherwise: scored as they were
            statements[key] = rng.choice([str.upper, _spaced_twice])(statements[key])
        elif roll < 0.75:
            statements[key] = statement()
        elif roll < 0.88 and len(statements) > 250:
            del statements[key]
        else:
            statements[f"new-{step}"] = rng.choice(list(statements.values()))
        assert duplicates.near_duplicates(statements, tmp_path) == duplicates.near_duplicates(
            statements
        )
        # and what the next step starts from: each claim's words chosen, as afresh
        kept, _ = duplicates._load(tmp_path)
        assert kept is not None
        fresh = duplicates._search(statements, kept.common)
        assert (kept.selected, kept.frequency) == (fresh.selected, fresh.frequency), step


class Unscanned(dict[str, str]):
    """Statements that may be looked up, but not compared one by one."""

    def items(self) -> NoReturn:
        raise AssertionError("every statement compared, though the step was known")


def test_the_duplicate_search_one_step_on_equals_a_fresh_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Told the state of the registry it was last made for and the claims changed since
    (snapshot.Step), the search compares no other statement; kept as the whole search and
    what changed in it since, loaded again for each step; and saved whole again now and
    then (a small REWRITE_AFTER here), or after a step it cannot take (an unknown state)."""
    monkeypatch.setattr(duplicates, "REWRITE_AFTER", 40)
    rng = random.Random(7)
    vocabulary = [f"word{n}" for n in range(50)] + ["naltrexone", "dose", "sleep", "pain"]

    def statement() -> str:
        return " ".join(rng.choice(vocabulary) for _ in range(rng.randint(3, 9)))

    statements = {f"claim-{n:03d}": statement() for n in range(250)}
    for n in range(0, 250, 6):
        statements[f"claim-{n:03d}"] = statements[f"claim-{(n + 1) % 250:03d}"] + " too"
    state = b"0"
    duplicates.near_duplicates(statements, tmp_path, state)
    wholes = 0
    for step in range(150):
        before = statements.copy()
        for _ in range(rng.choice([1, 1, 2, 4])):
            key = rng.choice(sorted(statements))
            roll = rng.random()
            if roll < 0.45:
                statements[key] = rng.choice(list(statements.values())) + rng.choice(["", " x"])
            elif roll < 0.75:
                statements[key] = statement()
            elif roll < 0.85:
                del statements[key]  # a claim made with stand-ins leaves the search
            else:
                statements[f"new-{step}"] = rng.choice(list(statements.values()))
        changed = {
            k for k in before.keys() | statements.keys() if before.get(k) != statements.get(k)
        }
        changed |= set(rng.sample(sorted(statements), 2))  # files changed, statements not
        known = state if rng.random() > 0.1 else b"unknown"  # else compared one by one
        state = str(step + 1).encode()
        given = statements if known == b"unknown" else Unscanned(statements)
        found = duplicates.near_duplicates(given, tmp_path, state, (known, changed))
        assert found == duplicates.near_duplicates(statements), step
        wholes += cache.load(tmp_path, duplicates.SINCE) is None
    assert wholes >= 3  # saved whole again as the changes grew


def test_duplicate_scores_are_token_sort_ratio() -> None:
    from rapidfuzz import fuzz

    a = "Naltrexone blocks the opioid receptors in the brain"
    b = "In the brain naltrexone blocks the opioid receptors"
    found = duplicates.near_duplicates({"a": a, "b": b})
    assert found == [("a", "b", fuzz.token_sort_ratio(a.lower(), b.lower()))]


# --------------------------------------------------------------------- positions


NUMBERS = st.integers(1, 99) | st.integers(65_530, 65_540)  # and past two bytes


@given(st.dictionaries(st.text(min_size=1), st.tuples(NUMBERS, NUMBERS)))
def test_field_positions_behave_as_the_dict(positions: dict[str, tuple[int, int]]) -> None:
    compact = FieldPositions.of(positions)
    assert dict(compact) == positions
    assert len(compact) == len(positions)
    for key in positions:
        assert key in compact and compact[key] == positions[key]
    assert "not a key" not in compact or "not a key" in positions
    # as the cache keeps them, and with the key list shared with every equal one
    loaded = pickle.loads(pickle.dumps(FieldPositions.of(positions)))
    assert dict(loaded) == positions
    assert loaded._keys is FieldPositions.of(dict.fromkeys(positions, (1, 1)))._keys


def test_claims_come_back_from_the_cache_whole_and_frozen() -> None:
    """Unpickling sets the slots directly (models.pickled_by_fields): every field comes
    back, positions too (which equality ignores), and the claim is as frozen as before."""
    evidence = Evidence("source-a", "A quote.", "disputes", (2, 3))
    claim = Claim(
        "claim-x",
        "A statement.",
        "mechanism",
        ("immune",),
        "low",
        "weak",
        (evidence,),
        ("claim-y",),
        ("claim-z",),
        ("a condition",),
        "A note.",
        date(2026, 11, 22),
        "claims/claim-x.yaml",
        FieldPositions.of({"statement": (3, 12)}),
    )
    loaded = pickle.loads(pickle.dumps(claim, protocol=pickle.HIGHEST_PROTOCOL))
    assert loaded == claim and type(loaded) is Claim and type(loaded.evidence[0]) is Evidence
    assert [getattr(loaded, f.name) for f in fields_of(Claim)] == [
        getattr(claim, f.name) for f in fields_of(Claim)
    ]
    assert dict(loaded.positions) == {"statement": (3, 12)}
    with pytest.raises(FrozenInstanceError):
        loaded.statement = "changed"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        loaded.evidence[0].quote = "changed"  # type: ignore[misc]


_STANCES = st.sampled_from(["supports", "disputes", "mentions"])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.tuples(st.sampled_from("abc"), _STANCES), min_size=1, max_size=4),
            st.lists(st.integers(0, 5), max_size=2),  # whom it contradicts
            st.lists(st.integers(0, 5), max_size=2),  # whom it relates to
        ),
        min_size=1,
        max_size=6,
    )
)
def test_marks_match_their_definitions(
    drawn: list[tuple[list[tuple[str, str]], list[int], list[int]]],
) -> None:
    """derive_marks works out a claim of one evidence item in line: it gives what
    `corroboration` and `is_contested` give, and related links without the contradictions."""
    claims = [
        Claim(
            f"c{i}",
            "A statement.",
            "mechanism",
            ("immune",),
            "low",
            "established",
            tuple(Evidence(f"source-{s}", "A quote.", stance) for s, stance in items),
            tuple(f"c{j}" for j in against),
            tuple(f"c{j}" for j in related),
        )
        for i, (items, against, related) in enumerate(drawn)
    ]
    linked = contradictions(claims)
    related_both = symmetric(claims, "related")
    for claim in claims:
        marks = derive_marks(claims)[claim.id]
        assert marks.corroboration == corroboration(claim)
        assert marks.contested == is_contested(claim, linked)
        assert marks.contradictions == linked.get(claim.id, ())
        assert marks.related == tuple(
            r for r in related_both.get(claim.id, ()) if r not in marks.contradictions
        )


# ------------------------------------------------------------------ claims by source


@settings(max_examples=300, deadline=None)
@given(
    st.lists(  # claims: each item's source and where its quote starts (None: not found)
        st.lists(st.tuples(st.sampled_from("ab"), st.none() | st.integers(0, 6)), max_size=4),
        max_size=7,
    ),
    st.randoms(use_true_random=False),
)
def test_claims_by_source_lists_them_as_defined(
    drawn: list[list[tuple[str, int | None]]], shuffle: random.Random
) -> None:
    """One sort of every item: the same lists as the definition, where each claim's items
    are sorted by (start, index) and the claims by (their first item's start, id), with
    ties (two claims quoting one place, one claim quoting it twice) in both."""
    claims = [
        Claim(f"c{i}", "A statement.", "mechanism", ("immune",), "low", "established",
              tuple(Evidence(f"source-{s}", f"Quote {n}.", "supports") for n, (s, _) in
                    enumerate(items)))
        for i, items in enumerate(drawn)
    ]  # fmt: skip
    anchored = [
        AnchoredEvidence(claim, n, item, None if at is None else Anchor(at, at + 3, 100.0, True))
        for claim, items in zip(claims, drawn, strict=True)
        for n, (item, (_, at)) in enumerate(zip(claim.evidence, items, strict=True))
    ]
    shuffle.shuffle(anchored)  # the order they come in does not matter
    expected: dict[str, list[tuple[Claim, list[tuple[int, Evidence, Anchor]]]]] = {}
    for claim in claims:
        for source in sorted({e.source for e in claim.evidence}):
            items = sorted(
                (
                    (a.index, a.evidence, a.anchor)
                    for a in anchored
                    if a.claim is claim and a.evidence.source == source and a.anchor
                ),
                key=lambda item: (item[2].start, item[0]),
            )
            if items:
                expected.setdefault(source, []).append((claim, items))
    for listed in expected.values():
        listed.sort(key=lambda entry: (entry[1][0][2].start, entry[0].id))
    found = claims_by_source(anchored)
    assert list(found) == sorted(expected)
    assert {
        source: [(e.claim, list(e.items)) for e in entries] for source, entries in found.items()
    } == expected
