"""`new` writes a claim file that fails `check` with located messages until its fields are
filled, and passes once they are; it refuses bad ids, unknown sources, quotes that are not in
the source and existing files. Every claim in the registry carries the editor-schema line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from naltrexone_site.cli import main
from naltrexone_site.scaffold import SCHEMA_LINE, folded
from naltrexone_site.yamlio import YamlLoader

REPO = Path(__file__).parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "project"
QUOTE = "It is an opioid antagonist that competes with opioids like heroin — or morphine — for the same receptors."  # noqa: E501

EXPECTED_FILE = """\
# yaml-language-server: $schema=../schema/claim.schema.json
id: competes-with-heroin
statement:  # a neutral paraphrase of what the source asserts (Markdown allowed)
kind:  # mechanism | clinical-effect | safety | advice | dosing | pharmacology | status | background
mechanism: [opioid-receptors]
dose:  # standard | low | both | unspecified
strength:  # established | clinical | preliminary | theoretical | anecdotal | unsupported
evidence:
  - source: test-source
    quote: >-
      It is an opioid antagonist that competes with opioids like heroin — or morphine —
      for the same receptors.
    stance: supports
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    return root


def new(root: Path, *args: str) -> list[str]:
    return ["--root", str(root), "new", *args]


def test_new_writes_the_claim_and_lists_what_to_fill(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = new(project, "competes-with-heroin", "--source", "test-source", "--quote", QUOTE)
    assert main([*args, "--mechanism", "opioid-receptors"]) == 0
    assert (project / "claims" / "competes-with-heroin.yaml").read_text() == EXPECTED_FILE
    assert capsys.readouterr().out == (
        "wrote claims/competes-with-heroin.yaml: the quote is anchored in "
        "content/sources/test-source.md:19\n"
        "fill in these fields, then run 'python build.py check':\n"
        "claims/competes-with-heroin.yaml:3:1: error: statement: is empty (give text)\n"
        "claims/competes-with-heroin.yaml:4:1: error: kind: is empty (give an id)\n"
        "claims/competes-with-heroin.yaml:6:1: error: dose: is empty (give an id)\n"
        "claims/competes-with-heroin.yaml:7:1: error: strength: is empty (give an id)\n"
    )
    line_19 = (project / "content/sources/test-source.md").read_text().splitlines()[18]
    assert QUOTE in line_19


def test_the_new_file_fails_check_until_filled_then_passes(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(new(project, "competes-with-heroin", "--source", "test-source", "--quote", QUOTE))
    capsys.readouterr()
    assert main(["--root", str(project), "check", "--strict"]) == 1
    out = capsys.readouterr().out
    assert "claims/competes-with-heroin.yaml:5:1: error: mechanism: is empty" in out
    assert out.endswith("4 claims, 1 source: 5 errors, 0 warnings\n")

    path = project / "claims" / "competes-with-heroin.yaml"
    text = path.read_text()
    for field, value in {
        "statement": "Naltrexone competes with heroin and morphine for opioid receptors.",
        "kind": "pharmacology",
        "mechanism": "[opioid-receptors]",
        "dose": "unspecified",
        "strength": "established",
    }.items():
        start = text.index(f"\n{field}:") + 1
        text = text[:start] + f"{field}: {value}" + text[text.index("\n", start) :]
    path.write_text(text)
    assert main(["--root", str(project), "check", "--strict"]) == 0
    assert capsys.readouterr().out == "4 claims, 1 source: 0 errors, 0 warnings\n"
    schema = json.loads((REPO / "schema" / "claim.schema.json").read_text())
    jsonschema.validate(yaml.safe_load(text), schema)


def test_a_quote_with_straight_apostrophes_is_anchored(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quote = "Naltrexone's ability to block opioid receptors"
    assert main(new(project, "blocks", "--source", "test-source", "--quote", quote)) == 0
    data = yaml.safe_load((project / "claims" / "blocks.yaml").read_text())
    assert data["evidence"] == [{"source": "test-source", "quote": quote, "stance": "supports"}]
    assert "content/sources/test-source.md:19" in capsys.readouterr().out


def test_a_close_quote_prints_the_source_text_and_writes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quote = "Naltrexone’s ability to block opioid receptors in the brain directly affects the brain’s reward system."  # noqa: E501
    assert main(new(project, "reward", "--source", "test-source", "--quote", quote)) == 1
    assert capsys.readouterr().err == (
        "error: --quote: the quote differs from the source (97% match); the source says: "
        '"Naltrexone’s ability to block opioid receptors in the brain directly impacts the '
        "brain’s reward system.\" (paste the source's exact words); nothing was written\n"
    )
    assert not (project / "claims" / "reward.yaml").exists()


def test_a_quote_not_in_the_source_prints_the_best_candidate(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quote = "Naltrexone cures every illness overnight."
    assert main(new(project, "cures", "--source", "test-source", "--quote", quote)) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: --quote: the quote is not in source 'test-source'; best ")
    assert err.endswith(
        "(copy the passage from content/sources/test-source.md); nothing was written\n"
    )
    assert not (project / "claims" / "cures.yaml").exists()


def test_unknown_source_mechanism_and_dose_name_the_nearest(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = new(project, "x", "--source", "test-sorce", "--quote", QUOTE)
    assert main([*args, "--mechanism", "dopamin", "--dose", "ldn"]) == 2
    assert capsys.readouterr().err == (
        "error: --source: 'test-sorce' is not a known source (did you mean 'test-source'?)\n"
        "error: --mechanism: 'dopamin' is not a known mechanism (did you mean 'dopamine'?)\n"
        "error: --dose: 'ldn' is not a known dose (choose one of: both, low, standard, "
        "unspecified)\n"
    )
    assert sorted(p.name for p in (project / "claims").iterdir()) == [
        "base-claim.yaml",
        "base-reward.yaml",
        "base-sleep.yaml",
    ]


def test_a_mechanism_given_twice_is_written_once(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`check` would refuse the claim `new` wrote: "mechanism[1]: ... is listed again"."""
    args = new(project, "x", "--source", "test-source", "--quote", QUOTE)
    assert main([*args, "--mechanism", "dopamine,,dopamine", "--mechanism", "mood,dopamine"]) == 0
    text = (project / "claims" / "x.yaml").read_text(encoding="utf-8")
    assert "\nmechanism: [dopamine, mood]\n" in text
    assert "listed again" not in capsys.readouterr().out


def test_without_a_source_new_says_to_add_one_first(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It read "choose one of: ", followed by nothing."""
    for source in (project / "content" / "sources").glob("*.md"):
        source.unlink()
    assert main(new(project, "x", "--source", "test-source", "--quote", QUOTE)) == 2
    assert capsys.readouterr().err == (
        "error: --source: 'test-source' is not a known source (there is no source yet: add "
        "its article to content/sources/ first)\n"
    )
    assert not (project / "claims" / "x.yaml").exists()


def test_an_unreadable_source_shows_its_own_problem_and_an_empty_quote_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = project / "content" / "sources" / "test-source.md"
    source.write_text(source.read_text().replace("cites_literature: false", "cites_literature: 7"))
    assert main(new(project, "x", "--source", "test-source", "--quote", "  ")) == 2
    assert capsys.readouterr().err == (
        "error: --source: 'test-source' cannot be read:\n"
        "content/sources/test-source.md:8:1: error: cites_literature: expected true or false, "
        "found a number\n"
        "error: --quote: is empty (copy a passage from content/sources/test-source.md)\n"
    )
    assert not (project / "claims" / "x.yaml").exists()


@pytest.mark.parametrize("claim_id", ["Bad-Id", "../escape", "a/b", "trailing-", "a--b", ""])
def test_an_invalid_id_is_refused(
    project: Path, claim_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(new(project, claim_id, "--source", "test-source", "--quote", QUOTE)) == 2
    assert capsys.readouterr().err == (
        f"error: '{claim_id}' is not a valid claim id (use lowercase letters, digits and "
        "single hyphens, e.g. 'ldn-endorphin-rebound')\n"
    )
    assert len(list((project / "claims").iterdir())) == 3
    assert not (project / "escape.yaml").exists()


def test_an_id_too_long_for_an_address_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    claim_id = "-".join(["naltrexone"] * 10)  # 109 characters
    assert main(new(project, claim_id, "--source", "test-source", "--quote", QUOTE)) == 2
    assert capsys.readouterr().err == (
        "error: the claim id is 109 characters long (shorten it to at most 100 characters)\n"
    )
    assert len(list((project / "claims").iterdir())) == 3


def test_an_existing_claim_is_never_overwritten(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project / "claims" / "base-claim.yaml"
    before = path.read_bytes()
    assert main(new(project, "base-claim", "--source", "test-source", "--quote", QUOTE)) == 1
    assert capsys.readouterr().err == (
        "error: claims/base-claim.yaml already exists: edit it, or choose another id "
        "(nothing was written)\n"
    )
    assert path.read_bytes() == before


def test_an_id_used_inside_another_file_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "claims" / "base-claim.yaml").rename(project / "claims" / "renamed.yaml")
    assert main(new(project, "base-claim", "--source", "test-source", "--quote", QUOTE)) == 1
    err = capsys.readouterr().err
    assert err == "error: 'base-claim' is already the id of claims/renamed.yaml\n"
    assert not (project / "claims" / "base-claim.yaml").exists()


def test_new_through_the_command_line(project: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(REPO / "build.py"), *new(project, "via-cli", "--source")]
        + ["test-source", "--quote", "Some users report better sleep.", "--dose", "low"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("wrote claims/via-cli.yaml")
    text = (project / "claims" / "via-cli.yaml").read_text(encoding="utf-8")
    assert text.startswith(SCHEMA_LINE + "\nid: via-cli\n")
    assert "\ndose: low\n" in text
    again = subprocess.run(
        run.args, capture_output=True, text=True, timeout=120
    )  # the same command twice: refused, file untouched
    assert again.returncode == 1
    assert "already exists" in again.stderr
    assert (project / "claims" / "via-cli.yaml").read_text(encoding="utf-8") == text


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp")), min_size=1))
def test_a_folded_quote_reads_back_exactly(quote: str) -> None:
    collapsed = " ".join(quote.split())
    if not collapsed:
        return
    document = "quote: >-\n" + "\n".join(folded(quote, indent=6)) + "\n"
    assert yaml.load(document, Loader=YamlLoader) == {"quote": collapsed}


@pytest.mark.parametrize("path", sorted((REPO / "claims").glob("*.yaml")), ids=lambda p: p.name)
def test_every_registry_claim_starts_with_the_schema_line(path: Path) -> None:
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    assert first == SCHEMA_LINE, f"{path.name}: the first line must be '{SCHEMA_LINE}'"


def test_the_schema_line_points_at_the_checked_in_schema() -> None:
    target = SCHEMA_LINE.split("$schema=", 1)[1]
    assert (REPO / "claims" / target).resolve() == (REPO / "schema" / "claim.schema.json")
    assert (REPO / "schema" / "claim.schema.json").is_file()
