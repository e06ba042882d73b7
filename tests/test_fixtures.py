"""Every fault an editor can make has a fixture in tests/fixtures/claims/ and a pinned message.

Each fixture is checked beside the small valid project in tests/fixtures/project/, whose
own claims are clean, so the output below is exactly what the fixture causes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MakeSite, claim_yaml

from naltrexone_site.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent

# fixture file -> (exit code, complete output of `check`)
EXPECTED: dict[str, tuple[int, str]] = {
    # dropped with nothing said: the registry had a claim fewer, and `check` passed
    "null-document.yaml": (
        1,
        "claims/null-document.yaml:2:1: error: expected a mapping of fields, found a single value (write one 'field: value' per line, see docs/registry-format.md)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    "invalid-date.yaml": (
        1,
        "claims/invalid-date.yaml:11:11: error: reviewed: '2026-02-30' is not a valid value: day is out of range for month (correct it, or put it in quotes to keep it as text)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    # passed: the claim's page gave "lastReviewed":"2026-03-02T10:00:00"
    "date-with-time.yaml": (
        1,
        "claims/date-with-time.yaml:11:1: error: reviewed: expected a date, found a date and time (write 2026-11-21)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    # not read, so missing from the site: it was not said
    "claim-named-yml.yml": (
        0,
        "claims/claim-named-yml.yml: warning: not read: only files whose names end in '.yaml' are claims (rename it to claims/claim-named-yml.yaml)\n3 claims, 1 source: 0 errors, 1 warning\n",
    ),
    # YAML reads `yes:` as true: the message named a field "True" that is not in the file
    "key-read-as-true.yaml": (
        1,
        "claims/key-read-as-true.yaml:11:1: error: yes: unknown field (the fields not given yet: contradicts, related, conditions, note, reviewed)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    # counted the claim twice in its mechanism's cell of the map
    "mechanism-listed-twice.yaml": (
        1,
        "claims/mechanism-listed-twice.yaml:4:41: error: mechanism[2]: 'opioid-receptors' is listed again (first as mechanism[0]) (list it once)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    # "receptors" is in the source, so the claim read as anchored
    "quote-one-word.yaml": (
        1,
        "claims/quote-one-word.yaml:9:5: error: evidence[0].quote: the quote is under 3 words: too short to show what the source says, and it may be found anywhere in it (quote the clause that makes the claim, at least 3 words)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    # a dash is not a word: "heroin — or" is two
    "quote-two-words-and-a-dash.yaml": (
        1,
        "claims/quote-two-words-and-a-dash.yaml:9:5: error: evidence[0].quote: the quote is under 3 words: too short to show what the source says, and it may be found anywhere in it (quote the clause that makes the claim, at least 3 words)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    # read "the quote differs from the source (99% match)", then a passage that looked the same
    "quote-invisible-character.yaml": (
        1,
        "claims/quote-invisible-character.yaml:9:52: error: the file contains an invisible character (U+00AD SOFT HYPHEN) (delete it: a reader cannot see it, and a quote that holds it differs from its source)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    # a YAML escape and an HTML entity wrote what the search of the file's text did not
    # find: it reached every page that shows the statement, and the downloads
    "invisible-character-as-escape.yaml": (
        1,
        "claims/invisible-character-as-escape.yaml:2:12: error: statement: holds a character a reader cannot see (U+202E RIGHT-TO-LEFT OVERRIDE), written as an escape (delete the escape)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    "invisible-character-as-entity.yaml": (
        1,
        "claims/invisible-character-as-entity.yaml:2:40: error: the file writes a character a reader cannot see (U+202E RIGHT-TO-LEFT OVERRIDE) as '&#x202E;' (delete it)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    # passed, and reached the pages; in a folded block, YAML broke the line there and a
    # syntax error after it was said a line below where an editor shows it
    "line-separator.yaml": (
        1,
        "claims/line-separator.yaml:2:39: error: the file contains an invisible character (U+2028 LINE SEPARATOR) (delete it: a reader cannot see it, and a quote that holds it differs from its source)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    "control-character.yaml": (
        1,
        "claims/control-character.yaml:2:22: error: the file contains a control character (U+0007) (delete it; it is invisible in most editors)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    "Base-Claim.yaml": (
        1,
        "claims/Base-Claim.yaml:1:1: error: id: 'Base-Claim' is not a valid id (use lowercase letters, digits and single hyphens, e.g. 'ldn-endorphin-rebound')\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    "alias-bomb.yaml": (
        1,
        "claims/alias-bomb.yaml:2:4: error: YAML anchors and aliases (&name, *name) are not allowed (write the value out in full)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    # a copy whose name sorts before the original's: the original was told its id was
    # taken by the copy, and that it was nearly the same as claim 'base-claim' (itself)
    "a-copy-of-base-claim.yaml": (
        1,
        "claims/a-copy-of-base-claim.yaml:1:1: error: id: 'base-claim' does not match the file name 'a-copy-of-base-claim.yaml' ('base-claim.yaml' is that claim: delete this file if it is a copy, or set 'id: a-copy-of-base-claim')\nclaims/a-copy-of-base-claim.yaml:1:1: error: id: 'base-claim' is already used by claims/base-claim.yaml (give this claim its own id, or merge the two files)\n4 claims, 1 source: 2 errors, 0 warnings\n",
    ),
    # read "conditions[0]: expected text, found text"
    "list-item-empty.yaml": (
        1,
        "claims/list-item-empty.yaml:5:14: error: conditions[0]: is empty (write the text or remove the item)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    "duplicate-id.yaml": (
        1,
        "claims/duplicate-id.yaml:1:1: error: id: 'base-claim' does not match the file name 'duplicate-id.yaml' ('base-claim.yaml' is that claim: delete this file if it is a copy, or set 'id: duplicate-id')\nclaims/duplicate-id.yaml:1:1: error: id: 'base-claim' is already used by claims/base-claim.yaml (give this claim its own id, or merge the two files)\n4 claims, 1 source: 2 errors, 0 warnings\n",
    ),
    "every-problem-in-one-pass.yaml": (
        1,
        "claims/every-problem-in-one-pass.yaml:4:13: error: mechanism: 'endorphin-rebund' is not a known mechanism (did you mean 'endorphin-rebound'?)\nclaims/every-problem-in-one-pass.yaml:6:1: error: dose: duplicate key 'dose' (first at line 5) (keep one of them)\nclaims/every-problem-in-one-pass.yaml:8:1: error: colour: unknown field (the fields not given yet: contradicts, related, conditions, note, reviewed)\nclaims/every-problem-in-one-pass.yaml:10:5: error: evidence[0].source: 'test-sourse' is not a known source (did you mean 'test-source'?)\n4 claims, 1 source: 4 errors, 0 warnings\n",
    ),
    "duplicate-key-wrong-type.yaml": (
        1,
        "claims/duplicate-key-wrong-type.yaml:6:1: error: strength: expected an id, found a list\nclaims/duplicate-key-wrong-type.yaml:7:1: error: strength: duplicate key 'strength' (first at line 6) (keep one of them)\n4 claims, 1 source: 2 errors, 0 warnings\n",
    ),
    "duplicate-key.yaml": (
        1,
        "claims/duplicate-key.yaml:6:1: error: dose: duplicate key 'dose' (first at line 5) (keep one of them)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    "empty-file.yaml": (
        1,
        "claims/empty-file.yaml: error: file is empty (see docs/registry-format.md)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    "file-over-size-limit.yaml": (
        1,
        "claims/file-over-size-limit.yaml: error: file is 74,081 bytes, over the 65,536-byte limit (split it into smaller files)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    "id-not-file-name.yaml": (
        1,
        "claims/id-not-file-name.yaml:1:1: error: id: 'some-other-name' does not match the file name 'id-not-file-name.yaml' (rename the file to 'some-other-name.yaml' or set 'id: id-not-file-name')\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    # its page's file name, naltrexone-blocks-th....html, is the id: at 255 bytes or more, `build`
    # stopped with "File name too long"; a long id is an unreadable address below that
    "naltrexone-blocks-the-mu-opioid-receptor-and-with-it-the-euphoria-of-opioids-and-the-reward-of-alcohol-in-the-brain.yaml": (
        1,
        "claims/naltrexone-blocks-the-mu-opioid-receptor-and-with-it-the-euphoria-of-opioids-and-the-reward-of-alcohol-in-the-brain.yaml:1:1: error: id: is 115 characters long (shorten it to at most 100 characters, and rename the file to match)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    "id-with-line-break.yaml": (
        1,
        "claims/id-with-line-break.yaml:1:1: error: id: 'id-with-line-break\\n' is not a valid id (set 'id: id-with-line-break', the file's name)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    "id-with-path.yaml": (
        1,
        "claims/id-with-path.yaml:1:1: error: id: '../../etc/passwd' is not a valid id (set 'id: id-with-path', the file's name)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    "link-to-unknown-claim.yaml": (
        1,
        "claims/link-to-unknown-claim.yaml:11:1: error: note: 'base-clam' is not a known claim (did you mean 'base-claim'?)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    "missing-required-field.yaml": (
        1,
        "claims/missing-required-field.yaml:1:1: error: dose: required field is missing (add 'dose:' with an id: the dose the source ties the claim to)\nclaims/missing-required-field.yaml:7:5: error: evidence[0].stance: required field is missing (add 'stance:' with an id: how the passage bears on the claim)\n4 claims, 1 source: 2 errors, 0 warnings\n",
    ),
    "nested-too-deep.yaml": (
        1,
        "claims/nested-too-deep.yaml:2:38: error: values are nested more than 32 levels deep (flatten it: registry files hold lists of text, at most a few levels deep)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    "near-duplicate-statement.yaml": (
        0,
        "claims/near-duplicate-statement.yaml:2:1: warning: statement: nearly the same as claim 'base-claim' (93% similar) (if both say the same, add this claim's source as evidence to 'base-claim')\n4 claims, 1 source: 0 errors, 1 warning\n",
    ),
    "not-utf8.yaml": (
        1,
        "claims/not-utf8.yaml:2:23: error: file is not valid UTF-8 (byte 0xff) (save the file with UTF-8 encoding)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    "python-object-tag.yaml": (
        1,
        "claims/python-object-tag.yaml:1:1: error: dose: required field is missing (add 'dose:' with an id: the dose the source ties the claim to)\nclaims/python-object-tag.yaml:1:1: error: evidence: required field is missing (add 'evidence:' with a list of evidence items: passages from sources that bear on the claim)\nclaims/python-object-tag.yaml:1:1: error: mechanism: required field is missing (add 'mechanism:' with a list of ids: mechanisms or topics (rows of the map))\nclaims/python-object-tag.yaml:1:1: error: strength: required field is missing (add 'strength:' with an id: the editors' grade of the evidence)\nclaims/python-object-tag.yaml:2:12: error: statement: the YAML tag '!!python/object/apply:os.system' is not allowed (remove the tag, and write plain text, a number, a date or a list)\n4 claims, 1 source: 5 errors, 0 warnings\n",
    ),
    "quote-not-in-source.yaml": (
        1,
        "claims/quote-not-in-source.yaml:9:5: error: evidence[0].quote: the quote is not in source 'test-source'; best candidate (46% match): \"Naltrexone’s ability to block opioid receptors in the brain directly impacts the brain’s reward system.\" (copy the passage from content/sources/test-source.md)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    "quote-only-markdown.yaml": (
        1,
        "claims/quote-only-markdown.yaml:9:5: error: evidence[0].quote: the quote is not in source 'test-source', and no passage there is like it (copy the passage from content/sources/test-source.md)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    "quote-too-long.yaml": (
        1,
        "claims/quote-too-long.yaml:9:5: error: evidence[0].quote: the quote is not in source 'test-source', and at 1,100 characters it is too long to look for the nearest passage (quote one passage of at most 1,000 characters, copied from content/sources/test-source.md)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    "quote-one-word-changed.yaml": (
        1,
        'claims/quote-one-word-changed.yaml:9:5: error: evidence[0].quote: the quote differs from the source (95% match); the source says: "Naltrexone’s ability to block opioid receptors in the brain directly impacts the brain’s reward system." (paste the source\'s exact words)\n4 claims, 1 source: 1 error, 0 warnings\n',
    ),
    "quote-across-heading.yaml": (
        0,
        "claims/quote-across-heading.yaml:9:5: warning: evidence[0].quote: the quote runs from one paragraph, heading or list item of the source into the next: read together, they may say what neither says alone (quote one passage per evidence item, or split it into two items)\n4 claims, 1 source: 0 errors, 1 warning\n",
    ),
    "quote-straight-apostrophes.yaml": (0, "4 claims, 1 source: 0 errors, 0 warnings\n"),
    "statement-with-script.yaml": (0, "4 claims, 1 source: 0 errors, 0 warnings\n"),
    "statement-worded-as-fact.yaml": (
        0,
        "claims/statement-worded-as-fact.yaml:2:1: warning: statement: worded as fact, but graded 'theoretical' (“X is thought to do Y”), and lists show the statement without its grade (word it as its grade is: 'may', 'is thought to', 'some users report', 'one article asserts that'; or grade it higher if the evidence allows)\n4 claims, 1 source: 0 errors, 1 warning\n",
    ),
    "tab-indentation.yaml": (
        1,
        "claims/tab-indentation.yaml:4:1: error: YAML syntax error: a tab character is used for indentation (indent with spaces, not tabs)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    "unknown-enum-value.yaml": (
        1,
        "claims/unknown-enum-value.yaml:3:1: error: kind: 'pharmacolgy' is not a known claim kind (did you mean 'pharmacology'?)\nclaims/unknown-enum-value.yaml:5:1: error: dose: 'ldn' is not a known dose (choose one of: both, low, standard, unspecified)\nclaims/unknown-enum-value.yaml:6:1: error: strength: 'strong' is not a known strength (choose one of: anecdotal, clinical, established, preliminary, theoretical, unsupported)\nclaims/unknown-enum-value.yaml:10:5: error: evidence[0].stance: 'support' is not a known stance (did you mean 'supports'?)\n4 claims, 1 source: 4 errors, 0 warnings\n",
    ),
    "unknown-value-very-long.yaml": (
        1,
        "claims/unknown-value-very-long.yaml:5:1: error: dose: 'lowlowlowlowlowlowlowlowlowlowlowlowlowlowlowlowlowlowlowlo… (300 characters)' is not a known dose (did you mean 'low'?)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
    "unknown-field.yaml": (
        1,
        "claims/unknown-field.yaml:4:1: error: mechanisms: unknown field (did you mean 'mechanism'?)\nclaims/unknown-field.yaml:11:5: error: evidence[0].page: unknown field (the fields not given yet: cites)\n4 claims, 1 source: 2 errors, 0 warnings\n",
    ),
    # each misspelt field was said twice: also as the field it is taken for, missing
    "misspelt-required-fields.yaml": (
        1,
        "claims/misspelt-required-fields.yaml:2:1: error: statment: unknown field (did you mean 'statement'?)\nclaims/misspelt-required-fields.yaml:10:5: error: evidence[0].stanse: unknown field (did you mean 'stance'?)\n4 claims, 1 source: 2 errors, 0 warnings\n",
    ),
    "unknown-references.yaml": (
        1,
        "claims/unknown-references.yaml:4:31: error: mechanism: 'dopamin' is not a known mechanism (did you mean 'dopamine'?)\nclaims/unknown-references.yaml:8:5: error: evidence[0].source: 'test-sorce' is not a known source (did you mean 'test-source'?)\nclaims/unknown-references.yaml:11:15: error: contradicts: 'base-clam' is not a known claim (did you mean 'base-claim'?)\n4 claims, 1 source: 3 errors, 0 warnings\n",
    ),
    "wrong-type.yaml": (
        1,
        "claims/wrong-type.yaml:2:1: error: statement: expected text, found a list (put the value in quotes)\nclaims/wrong-type.yaml:7:1: error: evidence: expected a list of evidence items, found a mapping (start each item with '- ', as in '- source: ...')\nclaims/wrong-type.yaml:11:1: error: reviewed: expected a date, found text (write 2026-11-21)\n4 claims, 1 source: 3 errors, 0 warnings\n",
    ),
    # the claim made despite its values of the wrong type: its other fields judged, and
    # no warning while it has stand-ins ('clinical' without a cited trial, as `cites` is one)
    "wrong-type-hides-nothing.yaml": (
        1,
        "claims/wrong-type-hides-nothing.yaml:3:1: error: kind: expected an id, found a list\nclaims/wrong-type-hides-nothing.yaml:4:31: error: mechanism: 'dopamin' is not a known mechanism (did you mean 'dopamine'?)\nclaims/wrong-type-hides-nothing.yaml:5:1: error: dose: expected an id, found a list\nclaims/wrong-type-hides-nothing.yaml:9:5: error: evidence[0].quote: the quote differs from the source (95% match); the source says: \"It is an opioid antagonist that competes with opioids like heroin\" (paste the source's exact words)\nclaims/wrong-type-hides-nothing.yaml:11:5: error: evidence[0].cites: expected a list of whole numbers from 1 (write [1, 3])\nclaims/wrong-type-hides-nothing.yaml:12:5: error: evidence[1]: expected a mapping with source, quote and stance, found text\n4 claims, 1 source: 6 errors, 0 warnings\n",
    ),
    # an id of the wrong type: the file's name stands in for it, and the claim takes no
    # part in the duplicate search (its statement is base-claim's)
    "wrong-type-id.yaml": (
        1,
        'claims/wrong-type-id.yaml:1:1: error: id: expected an id, found a number\nclaims/wrong-type-id.yaml:9:5: error: evidence[0].quote: the quote differs from the source (95% match); the source says: "It is an opioid antagonist that competes with opioids like heroin" (paste the source\'s exact words)\n4 claims, 1 source: 2 errors, 0 warnings\n',
    ),
    "yaml-syntax-error.yaml": (
        1,
        "claims/yaml-syntax-error.yaml:2:12: error: YAML syntax error: the quotation mark opened here is not closed (close it on this line)\n4 claims, 1 source: 1 error, 0 warnings\n",
    ),
}


def project_with(tmp_path: Path, fixture: str) -> Path:
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "project", root)
    shutil.copy(FIXTURES / "claims" / fixture, root / "claims" / fixture)
    return root


def test_every_fixture_is_pinned() -> None:
    assert sorted(p.name for p in (FIXTURES / "claims").iterdir()) == sorted(EXPECTED)


def test_base_project_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--root", str(FIXTURES / "project"), "check", "--strict"]) == 0
    assert capsys.readouterr().out == "3 claims, 1 source: 0 errors, 0 warnings\n"


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_fixture_problems(fixture: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = EXPECTED[fixture]
    root = project_with(tmp_path, fixture)
    assert main(["--root", str(root), "check"]) == code
    assert capsys.readouterr().out == output


def test_cli_never_prints_a_traceback(tmp_path: Path) -> None:
    """Every fixture through the real command line, as an editor would run it."""
    for fixture in sorted(EXPECTED):
        root = project_with(tmp_path / fixture, fixture)
        for command in (
            ["check"],
            ["check", "--strict"],
            ["coverage"],
            ["build", "--out", str(tmp_path / "out")],
        ):
            run = subprocess.run(
                [sys.executable, str(REPO / "build.py"), "--root", str(root), *command],
                capture_output=True,
                text=True,
                timeout=120,
            )
            both = run.stdout + run.stderr
            assert "Traceback" not in both, (fixture, command, both)
            assert run.returncode in (0, 1), (fixture, command, both)


@pytest.mark.parametrize(
    ("quote", "flagged"),
    [
        ("How it works Naltrexone blocks opioid receptors in the brain.", True),  # heading
        ("Some users report better sleep. Some users report vivid dreams.", True),  # list items
        ("are typical. Some users report better sleep.", True),  # a paragraph, then a list
        ("opioid receptors in the brain. At the standard dose", False),  # one wrapped paragraph
        ("Naltrexone blocks opioid receptors in the brain.", False),
    ],
)
def test_a_quote_across_a_break_in_its_source_is_flagged(
    quote: str, flagged: bool, make_site: MakeSite
) -> None:
    from naltrexone_site.pipeline import check_project

    root = make_site({"claims/across.yaml": claim_yaml("across", "A claim.", quote=quote)})
    found = [
        p.message
        for p in check_project(root).problems
        if p.location.path == "claims/across.yaml" and p.field == "evidence[0].quote"
    ]
    assert found == (
        [
            "the quote runs from one paragraph, heading or list item of the source "
            "into the next: read together, they may say what neither says alone"
        ]
        if flagged
        else []
    )
