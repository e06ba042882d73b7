"""Faults found by fuzzing the command line, each pinned: what used to end in a traceback,
a crash of the process, or a project folder replaced by the site.

Site settings faults have fixtures in tests/fixtures/settings/ (each a whole site.yaml),
taxonomy faults in tests/fixtures/taxonomy/ (each a whole taxonomy file), source faults
in tests/fixtures/sources/ (each a whole source file);
claim faults are in tests/fixtures/claims/ with the others (tests/test_fixtures.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO, MakeSite, RunBuild, rewrite

from naltrexone_site.scaffold import Request, new_claim

FIXTURES = Path(__file__).parent / "fixtures"

# fixture -> complete output of `check` with it as content/site.yaml
SETTINGS: dict[str, str] = {
    "coverage-minimum-not-a-number.yaml": (
        "content/site.yaml:12:1: error: coverage_minimum: expected a percentage from 0 to 100, "
        "found 'lots' (write a number such as 'coverage_minimum: 90', or remove the line for 90)\n"
        "3 claims, 1 source: 1 error, 0 warnings; sources' coverage not checked: fix the settings "
        "first\n"
    ),
    # one error where the file cannot be read, not eight "missing setting" ones at 1:1 too
    "syntax-error.yaml": (
        "content/site.yaml:5:9: error: YAML syntax error: the quotation mark opened here is not "
        "closed (close it on this line)\n3 claims, 1 source: 1 error, 0 warnings; sources' "
        "coverage not checked: fix the settings first\n"
    ),
    # every claim page's "edit this claim" link would have run it
    "repository-url-not-a-web-address.yaml": (
        "content/site.yaml:4:1: error: repository_url: 'javascript:alert(1)' is not a web address "
        "(write the address in full, starting with https://)\n3 claims, 1 source: 1 error, 0 "
        "warnings\n"
    ),
    # libyaml's composer crashed the process (a segmentation fault) on this file
    "nested-too-deep.yaml": (
        "content/site.yaml:12:39: error: values are nested more than 32 levels deep (flatten it: "
        "registry files hold lists of text, at most a few levels deep)\n3 claims, 1 source: 1 "
        "error, 0 warnings; sources' coverage not checked: fix the settings first\n"
    ),
    # ignored, and "tagline: required setting is missing" reported at 1:1
    "setting-misspelt.yaml": (
        "content/site.yaml:2:1: error: tag_line: unknown setting (did you mean 'tagline'?)\n3 "
        "claims, 1 source: 1 error, 0 warnings\n"
    ),
    # said alone: the other problems of the file came one run after another, and the
    # claims were not checked at all until it was fixed
    "key-given-twice.yaml": (
        "content/site.yaml:6:1: error: branch: duplicate key 'branch' (first at line 5) (keep "
        "one of them)\n3 claims, 1 source: 1 error, 0 warnings\n"
    ),
    "every-problem-in-one-pass.yaml": (
        "content/site.yaml:2:1: error: title: duplicate key 'title' (first at line 1) (keep one "
        "of them)\ncontent/site.yaml:5:1: error: repository_url: "
        "'github.com/naltrexone-evidence-map/naltrexone-evidence-map' is not a web address (write "
        "the address in full, starting with https://)\ncontent/site.yaml:7:1: error: langauge: "
        "unknown setting (did you mean 'language'?)\n3 claims, 1 source: 3 errors, 0 warnings\n"
    ),
    # passed: the sitemap said 'https://example.org/map/?ref=1#top/browse.html', where
    # `build --base-url` refused the same address
    "base-url-with-query.yaml": (
        "content/site.yaml:3:1: error: base_url: 'https://example.org/map/?ref=1#top' is not a "
        "web address (write the address alone, with no space, '?' or '#' part)\n3 claims, 1 "
        "source: 1 error, 0 warnings\n"
    ),
    # passed: every "edit this claim" link went to .../edit/../../elsewhere/claims/...
    "branch-not-a-branch.yaml": (
        "content/site.yaml:5:1: error: branch: '../../elsewhere' is not a branch name (write the "
        "name of the repository's branch, such as main)\n3 claims, 1 source: 1 error, 0 warnings\n"
    ),
    # passed, and every page's footer read "reviewed 2026-11-21T09:30:00+00:00"
    "last-reviewed-with-time.yaml": (
        "content/site.yaml:7:1: error: last_reviewed: expected a date (YYYY-MM-DD)\n3 claims, 1 "
        "source: 1 error, 0 warnings\n"
    ),
    # passed, into every page's <html lang="English">, by which screen readers choose a voice
    "language-not-a-tag.yaml": (
        "content/site.yaml:6:1: error: language: 'English' is not a language tag (write a tag "
        "such as en, or en-GB)\n3 claims, 1 source: 1 error, 0 warnings\n"
    ),
    # YAML reads `no` (Norwegian) as false: "required setting is missing or not text"
    "language-read-as-no.yaml": (
        "content/site.yaml:6:1: error: language: expected text, found no (put it in quotes)\n3 "
        "claims, 1 source: 1 error, 0 warnings\n"
    ),
    # "required setting is missing or not text", with no word of what it is
    "title-missing.yaml": (
        "content/site.yaml:1:1: error: title: required setting is missing (add 'title:' with the "
        "site's name)\n3 claims, 1 source: 1 error, 0 warnings\n"
    ),
    # eight settings "missing" at 1:1 as well, when the list also held a key given twice
    "a-list.yaml": (
        "content/site.yaml:1:1: error: expected a mapping of fields, found a list (write one "
        "'field: value' per line, see docs/registry-format.md)\n3 claims, 1 source: 1 error, 0 "
        "warnings; sources' coverage not checked: fix the settings first\n"
    ),
    # every page showed an empty disclaimer box
    "disclaimer-empty.yaml": (
        "content/site.yaml:8:1: error: disclaimer: is empty (write the text)\n3 claims, 1 source: "
        "1 error, 0 warnings\n"
    ),
    # `true` is read as YAML's yes, and the message said "found yes"
    "coverage-minimum-true.yaml": (
        "content/site.yaml:12:1: error: coverage_minimum: expected a percentage from 0 to 100, "
        "found true (write a number such as 'coverage_minimum: 90', or remove the line for 90)\n3 "
        "claims, 1 source: 1 error, 0 warnings; sources' coverage not checked: fix the settings "
        "first\n"
    ),
    # every one of the 300 digits was printed
    "coverage-minimum-long-number.yaml": (
        "content/site.yaml:12:1: error: coverage_minimum: expected a percentage from 0 to 100, "
        "found 99999999999999999999999999999999999999999999999999999999999… (300 characters) "
        "(write a number such as 'coverage_minimum: 90', or remove the line for 90)\n3 claims, 1 "
        "source: 1 error, 0 warnings; sources' coverage not checked: fix the settings first\n"
    ),
    # the hint spoke of a claim
    "python-name-tag.yaml": (
        "content/site.yaml:2:10: error: tagline: the YAML tag '!!python/name:os.system' is not "
        "allowed (remove the tag, and write plain text, a number, a date or a list)\n3 claims, 1 "
        "source: 1 error, 0 warnings\n"
    ),
    # told to put a list in quotes
    "language-a-list.yaml": (
        "content/site.yaml:6:1: error: language: expected text, found a list (write it as text)\n"
        "3 claims, 1 source: 1 error, 0 warnings\n"
    ),
    # told to put nothing in quotes
    "language-empty.yaml": (
        "content/site.yaml:6:1: error: language: is empty (write the text)\n3 claims, 1 source: 1 "
        "error, 0 warnings\n"
    ),
}


# fixture "<file>.<fault>.yaml" -> the output of `check` with it as content/taxonomy/<file>.yaml
TAXONOMY: dict[str, str] = {
    # passed `check`, then stopped `build` with a SystemError from markupsafe
    "doses.short-not-text.yaml": (
        "content/taxonomy/doses.yaml:8:3: error: [1].short: expected text, found list (put text "
        "in quotes)\n1 error, 0 warnings; quotes, references and duplicates not checked: fix the "
        "taxonomy first\n"
    ),
    # an id names a page: this one was written outside mechanisms/
    "mechanisms.id-not-valid.yaml": (
        "content/taxonomy/mechanisms.yaml:7:3: error: [1].id: '../dopamine' is not a valid id "
        "(use lowercase letters, digits and single hyphens, e.g. 'ldn-endorphin-rebound')\n1 "
        "error, 0 warnings; quotes, references and duplicates not checked: fix the taxonomy "
        "first\n"
    ),
    # passed `check`; `build` stopped with "File name too long", naming no file
    "mechanisms.id-too-long.yaml": (
        "content/taxonomy/mechanisms.yaml:7:3: error: [1].id: is 117 characters long (shorten it "
        "to at most 100 characters)\n1 error, 0 warnings; quotes, references and duplicates not "
        "checked: fix the taxonomy first\n"
    ),
    # passed `check`; `build` failed with "two pages at one path", naming no file
    "mechanisms.id-repeated.yaml": (
        "content/taxonomy/mechanisms.yaml:11:3: error: [2].id: 'dopamine' is already the id of "
        "the entry at line 7 (give each entry its own id)\n1 error, 0 warnings; quotes, "
        "references and duplicates not checked: fix the taxonomy first\n"
    ),
    # the unknown field was said alone, at the entry's first line and with no hint, and the
    # entry dropped: every claim filed under 'dopamine' was "not a known mechanism" too
    "mechanisms.every-problem-in-one-pass.yaml": (
        "content/taxonomy/mechanisms.yaml:7:3: error: [1].id: 'Dopamine' is not a valid id (use "
        "lowercase letters, digits and single hyphens, e.g. 'ldn-endorphin-rebound')\n"
        "content/taxonomy/mechanisms.yaml:8:3: error: [1].grup: unknown field (did you mean "
        "'group'?)\n2 errors, 0 warnings; quotes, references and duplicates not checked: fix the "
        "taxonomy first\n"
    ),
    # the entry was dropped with no word of the misspelt field, and the claim filed under it
    # was "not a known mechanism" too (a wrong reading: the claim is right); then it was said
    # twice, also as "[1]: each entry needs id, label and definition as text"
    "mechanisms.label-misspelt.yaml": (
        "content/taxonomy/mechanisms.yaml:9:3: error: [1].lable: unknown field (did you mean "
        "'label'?)\n1 error, 0 warnings; quotes, references and duplicates not checked: fix the "
        "taxonomy first\n"
    ),
    # each of these was "[1]: each entry needs id, label and definition as text", at the
    # entry, whatever the field and whatever was wrong with it ('label: ""' passed)
    "doses.definition-missing.yaml": (
        "content/taxonomy/doses.yaml:6:3: error: [1].definition: required field is missing (add "
        "'definition:' with text: what it means, in a sentence)\n1 error, 0 warnings; quotes, "
        "references and duplicates not checked: fix the taxonomy first\n"
    ),
    "stances.label-empty.yaml": (
        "content/taxonomy/stances.yaml:5:3: error: [1].label: is empty (write the text)\n1 error, "
        "0 warnings; quotes, references and duplicates not checked: fix the taxonomy first\n"
    ),
    "strengths.id-not-text.yaml": (
        "content/taxonomy/strengths.yaml:11:3: error: [1].id: expected text, found list (put text "
        "in quotes)\n1 error, 0 warnings; quotes, references and duplicates not checked: fix the "
        "taxonomy first\n"
    ),
    # a dose's `rank` (a strength's field) was taken and did nothing; an unknown field's
    # hint listed all ten fields of every file, the three given here among them
    "doses.field-of-another-file.yaml": (
        "content/taxonomy/doses.yaml:5:3: error: [0].rank: unknown field ('rank' is a field "
        "of the entries of strengths.yaml: delete it here)\n"
        "content/taxonomy/doses.yaml:9:3: error: [1].colour: unknown field (the fields not "
        "given yet: short)\ncontent/taxonomy/doses.yaml:14:3: error: [2].comment: unknown "
        "field (every known field is given already: delete it)\n"
        "3 claims, 1 source: 3 errors, 0 warnings\n"
    ),
    # `check` passed, and the map left the row out, with its claims
    "mechanisms.group-misspelt.yaml": (
        "content/taxonomy/mechanisms.yaml:8:3: error: [1].group: 'mechansim' is not a known "
        "group (did you mean 'mechanism'?)\n3 claims, 1 source: 1 error, 0 warnings\n"
    ),
    "mechanisms.group-missing.yaml": (
        "content/taxonomy/mechanisms.yaml:15:3: error: [3].group: required field is missing "
        "(add 'group: mechanism' (a way naltrexone acts) or 'group: topic')\n"
        "3 claims, 1 source: 1 error, 0 warnings\n"
    ),
    # the entry was dropped: the claim filed under it was "not a known mechanism" as well;
    # and the misspelt field was said twice, also as the group missing
    "mechanisms.unknown-field.yaml": (
        "content/taxonomy/mechanisms.yaml:8:3: error: [1].grup: unknown field (did you mean "
        "'group'?)\n3 claims, 1 source: 1 error, 0 warnings\n"
    ),
    # `check` said "0 errors"; `build` stopped with a traceback (KeyError: 'standard')
    "doses.column-missing.yaml": (
        "content/taxonomy/doses.yaml:1:1: error: no entry has the id 'standard', one of the map's "
        "dose columns (add an entry with 'id: standard', its label, short and definition)\n1 "
        "error, 0 warnings; quotes, references and duplicates not checked: fix the taxonomy "
        "first\n"
    ),
    # passed: the two levels were one in the map's mix and the browse filter's order, and
    # their badges alike without colour
    "strengths.rank-and-letter-repeated.yaml": (
        "content/taxonomy/strengths.yaml:20:3: error: [2].rank: 2 is already the rank of the "
        "entry at line 11 (number the levels 1, 2, 3 and so on, strongest first)\n"
        "content/taxonomy/strengths.yaml:21:3: error: [2].letter: 'C' is already the letter "
        "of the entry at line 11 (give each level a letter of its own, such as E for "
        "Established)\n3 claims, 1 source: 2 errors, 0 warnings\n"
    ),
    # passed: the level's badges had no letter, only a colour
    "strengths.letter-missing.yaml": (
        "content/taxonomy/strengths.yaml:27:3: error: [3].letter: required field is missing "
        "(give each level a letter of its own, such as E for Established)\n3 claims, 1 "
        "source: 1 error, 0 warnings\n"
    ),
    "strengths.rank-zero-letter-empty.yaml": (
        "content/taxonomy/strengths.yaml:4:3: error: [0].rank: is 0: ranks start at 1 (number "
        "the levels 1, 2, 3 and so on, strongest first)\ncontent/taxonomy/strengths.yaml:5:3: "
        "error: [0].letter: is empty (give each level a letter of its own, such as E for "
        "Established)\n3 claims, 1 source: 2 errors, 0 warnings\n"
    ),
    # `check` said "0 errors"; `build` said "fix the errors above" and listed none
    "stances.no-entries.yaml": (
        "content/taxonomy/stances.yaml:1:1: error: the file lists no entries (add at least one)\n"
        "1 error, 0 warnings; quotes, references and duplicates not checked: fix the taxonomy "
        "first\n"
    ),
}


# fixture "<source>.<fault>.md" -> the output of `check` with it as content/sources/<source>.md
SOURCES: dict[str, str] = {
    # reached the pages as it was (the Nu validator refuses it), and quotes around it
    # read "the quote differs from the source (99% match)"
    "test-source.control-character.md": (
        "content/sources/test-source.md:19:145: error: the file contains a control character "
        "(U+0008) (delete it; it is invisible in most editors)\n"
        "3 claims, 1 source: 1 error, 0 warnings\n"
    ),
    # shows the text after it backwards on the page, and nobody sees why; every one is
    # reported, not one a run
    "test-source.direction-override.md": (
        "content/sources/test-source.md:21:21: error: the file contains an invisible character "
        "(U+202E RIGHT-TO-LEFT OVERRIDE) (delete it: a reader cannot see it, and a quote that "
        "holds it differs from its source)\n"
        "content/sources/test-source.md:21:35: error: the file contains an invisible character "
        "(U+202C POP DIRECTIONAL FORMATTING) (delete it: a reader cannot see it, and a quote "
        "that holds it differs from its source)\n3 claims, 1 source: 2 errors, 0 warnings\n"
    ),
    # a key given twice was said alone, and the source was not made: the misspelt kind
    # (and any quote from it gone wrong) came only in the run after it was fixed
    "test-source.key-given-twice.md": (
        "content/sources/test-source.md:4:1: error: title: duplicate key 'title' (first at "
        "line 3) (keep one of them)\ncontent/sources/test-source.md:7:1: error: kind: "
        "'seo-contnet' is not a known source kind (did you mean 'seo-content'?)\n"
        "3 claims, 1 source: 2 errors, 0 warnings\n"
    ),
    # the hint said only how ids are written: an editor who wrote a valid id other than
    # the file's name was told it "does not match the file name" on the next run
    "test-source.id-not-valid.md": (
        "content/sources/test-source.md:2:1: error: id: 'Test_Source' is not a valid id "
        "(set 'id: test-source', the file's name)\n3 claims, 1 source: 1 error, 0 warnings\n"
    ),
    # `null`: dropped with nothing said (and the build then failed with a KeyError)
    # "file is empty", of a file with an article in it
    # said at line 10, where the quote opened at line 3 was closed by the next one
    "test-source.quote-left-open.md": (
        "content/sources/test-source.md:3:8: error: YAML syntax error: the quotation mark "
        "opened here is closed only on line 10 (close it on this line)\n3 claims, 1 source: 1 "
        "error, 0 warnings\n"
    ),
    "test-source.front-matter-empty.md": (
        "content/sources/test-source.md:1:1: error: the front matter between the '---' lines "
        "is empty (write one 'field: value' per line there, see docs/registry-format.md)\n"
        "3 claims, 1 source: 1 error, 0 warnings\n"
    ),
    "test-source.front-matter-null.md": (
        "content/sources/test-source.md:2:1: error: expected a mapping of fields, found a "
        "single value (write one 'field: value' per line, see docs/registry-format.md)\n"
        "3 claims, 1 source: 1 error, 0 warnings\n"
    ),
    # a copy under another source's id took that source's place: the quotes from the
    # other were "not in source" (3 wrong errors here, 51 in the real registry), and the
    # hint said to rename the file over the other
    "update.id-of-another-source.md": (
        "content/sources/update.md: warning: coverage: 0% of substantive sentences are "
        "anchored by a quote, under the 90% minimum (1 uncovered) (list them with "
        "'python build.py coverage update')\n"
        "content/sources/update.md:2:1: error: id: 'test-source' does not match the file "
        "name 'update.md' ('test-source.md' is that source: delete this file if it is a "
        "copy, or set 'id: update')\n3 claims, 2 sources: 1 error, 1 warning\n"
    ),
    # the hint said "set 'id: Test-Source'", an id refused for its capitals, and the
    # right file was told its id was taken
    "Test-Source.same-id-other-case.md": (
        "content/sources/Test-Source.md: warning: coverage: 0% of substantive sentences are "
        "anchored by a quote, under the 90% minimum (3 uncovered) (list them with "
        "'python build.py coverage Test-Source')\n"
        "content/sources/Test-Source.md:2:1: error: id: 'test-source' does not match the "
        "file name 'Test-Source.md' ('test-source.md' is that source: delete this file if "
        "it is a copy, or rename this file)\n3 claims, 2 sources: 1 error, 1 warning\n"
    ),
    # a value of the wrong type left the source unmade: the quotes from it were not
    # looked for, and one that no longer matched its text came one run later
    "test-source.wrong-type-hides-nothing.md": (
        "claims/base-claim.yaml:9:5: error: evidence[0].quote: the quote differs from the "
        'source (92% match); the source says: "It is an opioid antagonist that competes with '
        "drugs like heroin\" (paste the source's exact words)\n"
        "content/sources/test-source.md:5:1: error: published: expected a date, found text "
        "(write 2026-11-21)\n3 claims, 1 source: 2 errors, 0 warnings\n"
    ),
    "test-source.every-problem-in-one-pass.md": (
        "content/sources/test-source.md:8:1: error: cites_literature: expected true or false, "
        "found text\ncontent/sources/test-source.md:9:1: error: cites_literature: duplicate "
        "key 'cites_literature' (first at line 8) (keep one of them)\n"
        "content/sources/test-source.md:13:1: error: publishr: unknown field (did you mean "
        "'publisher'?)\n3 claims, 1 source: 3 errors, 0 warnings\n"
    ),
}


def check(root: Path) -> subprocess.CompletedProcess[str]:
    """`check` as an editor runs it: its own process, so a crash shows as one."""
    return subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--root", str(root), "check"],
        capture_output=True,
        text=True,
        timeout=120,
    )


# (fixtures folder, what each fixture replaces, the outputs pinned)
KINDS: dict[str, tuple[Callable[[str], str], dict[str, str]]] = {
    "settings": (lambda fixture: "content/site.yaml", SETTINGS),
    "taxonomy": (lambda fixture: f"content/taxonomy/{fixture.split('.')[0]}.yaml", TAXONOMY),
    "sources": (lambda fixture: f"content/sources/{fixture.split('.')[0]}.md", SOURCES),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_fixture_is_pinned(kind: str) -> None:
    assert sorted(p.name for p in (FIXTURES / kind).iterdir()) == sorted(KINDS[kind][1])


@pytest.mark.parametrize(
    ("kind", "fixture"), [(kind, f) for kind, (_, pinned) in KINDS.items() for f in sorted(pinned)]
)
def test_faults_in_settings_taxonomy_and_sources_are_located_errors(
    kind: str, fixture: str, tmp_path: Path
) -> None:
    target, pinned = KINDS[kind]
    root = project(tmp_path)
    shutil.copy(FIXTURES / kind / fixture, root / target(fixture))
    run = check(root)
    assert (run.returncode, run.stdout, run.stderr) == (1, pinned[fixture], "")


def test_a_claim_nested_thirty_thousand_levels_deep_is_an_error_not_a_crash(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    deep = "id: deep\nnote: " + "[" * 30000 + "]" * 30000 + "\n"
    (root / "claims" / "deep.yaml").write_text(deep, encoding="utf-8")
    run = check(root)
    assert run.returncode == 1, run  # not -11, a segmentation fault
    assert run.stdout.startswith(
        "claims/deep.yaml:2:38: error: values are nested more than 32 levels deep"
    )


def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "project", root)
    return root


def test_what_the_checks_for_repeats_and_invisible_characters_still_accept(
    tmp_path: Path,
) -> None:
    """A reference list is verbatim and may repeat an entry (claims cite it by number);
    the joiner inside an emoji is part of a character a reader sees."""
    root = project(tmp_path)
    rewrite(
        root / "content" / "sources" / "test-source.md",
        'references:\n  - "Doe, J. (2020). A study. Journal, 1, 1-2."',
        'references:\n  - "Doe, J. (2020). A study. Journal, 1, 1-2."\n'
        '  - "Doe, J. (2020). A study. Journal, 1, 1-2."',
    )
    rewrite(
        root / "content" / "sources" / "test-source.md", "## How it works", "## 👩\u200d⚕️ Works"
    )
    run = check(root)
    assert (run.returncode, run.stdout, run.stderr) == (
        0,
        "3 claims, 1 source: 0 errors, 0 warnings\n",
        "",
    )


def refused(root: Path) -> str:
    """What `check` printed, having failed as it should: exit 1, nothing on stderr."""
    run = check(root)
    assert (run.returncode, run.stderr) == (1, ""), run
    return run.stdout


def not_built(root: Path, out: Path, run_build: RunBuild) -> None:
    """`build` stopped at the registry's errors and wrote nothing."""
    built = run_build(root, out)
    assert built.code == 1
    assert built.out.endswith(f"not built: fix the errors above; {built.site} was left as it was\n")
    assert not built.site.exists()


def test_settings_with_errors_do_not_hide_the_claims_problems(
    tmp_path: Path, run_build: RunBuild
) -> None:
    """The claims were left unjudged until the settings were fixed, so an editor met
    their problems one run later. Only the coverage check reads a setting: without a
    minimum that can be read, it is said not checked rather than judged on a guess. And
    the settings' stand-in never reaches a page: a settings error stops the build."""
    root = project(tmp_path)
    settings = root / "content" / "site.yaml"
    rewrite(settings, "title:", "titel:")
    rewrite(
        root / "claims" / "base-claim.yaml", "competes with opioids", "competes with all opioids"
    )
    quote = (
        "claims/base-claim.yaml:9:5: error: evidence[0].quote: the quote differs from the "
        'source (94% match); the source says: "It is an opioid antagonist that competes with '
        "opioids like heroin —\" (paste the source's exact words)\n"
    )
    misspelt = "content/site.yaml:1:1: error: titel: unknown setting (did you mean 'title'?)\n"
    coverage = (
        "content/sources/test-source.md: warning: coverage: 67% of substantive sentences are "
        "anchored by a quote, under the 90% minimum (1 uncovered) (list them with 'python "
        "build.py coverage test-source')\n"
    )
    assert refused(root) == f"{quote}{misspelt}{coverage}3 claims, 1 source: 2 errors, 1 warning\n"

    settings.write_text(settings.read_text() + "coverage_minimum: lots\n")
    minimum = (
        "content/site.yaml:12:1: error: coverage_minimum: expected a percentage from 0 to 100, "
        "found 'lots' (write a number such as 'coverage_minimum: 90', or remove the line for 90)\n"
    )
    assert refused(root) == (
        f"{quote}{misspelt}{minimum}3 claims, 1 source: 3 errors, 0 warnings; sources' "
        "coverage not checked: fix the settings first\n"
    )

    not_built(root, tmp_path / "site", run_build)


def test_a_value_of_the_wrong_type_hides_none_of_the_claims_other_problems(
    tmp_path: Path, run_build: RunBuild
) -> None:
    """A field of the wrong type left its claim unmade: its quote was not looked for, so
    the editor met a changed word one run later, and its source was said to be under its
    coverage minimum for want of a quote that is there. The claim is now made with a
    stand-in for the value, judged in its other fields, and still never built."""
    root = project(tmp_path)
    claim = root / "claims" / "base-claim.yaml"
    rewrite(claim, "kind: pharmacology", "kind: [pharmacology]")
    kind = "claims/base-claim.yaml:3:1: error: kind: expected an id, found a list\n"
    assert refused(root) == f"{kind}3 claims, 1 source: 1 error, 0 warnings\n"

    rewrite(claim, "competes with opioids", "competes with all opioids")
    quote = (
        "claims/base-claim.yaml:9:5: error: evidence[0].quote: the quote differs from the "
        'source (94% match); the source says: "It is an opioid antagonist that competes with '
        "opioids like heroin —\" (paste the source's exact words)\n"
    )
    coverage = (  # now so: the quote is not the source's
        "content/sources/test-source.md: warning: coverage: 67% of substantive sentences are "
        "anchored by a quote, under the 90% minimum (1 uncovered) (list them with 'python "
        "build.py coverage test-source')\n"
    )
    assert refused(root) == f"{kind}{quote}{coverage}3 claims, 1 source: 2 errors, 1 warning\n"

    not_built(root, tmp_path / "site", run_build)


def test_a_value_of_the_wrong_type_hides_none_of_a_sources_or_overviews_other_problems(
    tmp_path: Path, run_build: RunBuild
) -> None:
    """A source with a value of the wrong type was left unmade, as claims were: the quotes
    from it were not looked for, and an overview's broken link waited in the same way.
    Each is now made with stand-ins and judged in the same pass; what the stand-ins would
    say wrongly (an empty reference list, cited by number; the coverage an empty
    boilerplate gives) is not said; and nothing is built."""
    root = project(tmp_path)
    source = root / "content" / "sources" / "test-source.md"
    rewrite(source, "cites_literature: false", "cites_literature: maybe")
    rewrite(source, "references:\n", 'references: "Doe 2020"\nrefs:\n')
    rewrite(source, "boilerplate:\n", "boilerplate: Thanks for reading.\nformerly:\n")
    claim = root / "claims" / "base-claim.yaml"
    rewrite(claim, "competes with opioids", "competes with all opioids")
    rewrite(claim, "stance: supports", "stance: supports\n    cites: [1]")
    (root / "content" / "mechanisms" / "opioid-receptors.md").write_text(
        "---\nid: [opioid-receptors]\nreviewed: 2026-11-21\n---\n"
        "See [the claim](claim:base-clam).\n",
        encoding="utf-8",
    )
    assert refused(root) == (
        "claims/base-claim.yaml:9:5: error: evidence[0].quote: the quote differs from the "
        'source (94% match); the source says: "It is an opioid antagonist that competes with '
        "opioids like heroin —\" (paste the source's exact words)\n"
        "content/mechanisms/opioid-receptors.md:2:1: error: id: expected an id, found a list\n"
        "content/mechanisms/opioid-receptors.md:5:17: error: body: 'base-clam' is not a known "
        "claim (did you mean 'base-claim'?)\n"
        "content/sources/test-source.md:8:1: error: cites_literature: expected true or false, "
        "found text\n"
        "content/sources/test-source.md:9:1: error: references: expected a list of text items, "
        "found text\n"
        "content/sources/test-source.md:10:1: error: refs: unknown field (did you mean "
        "'references'?)\n"
        "content/sources/test-source.md:14:1: error: boilerplate: expected a list of text "
        "items, found text\n"
        "content/sources/test-source.md:15:1: error: formerly: unknown field (every known "
        "field is given already: delete it)\n"
        "3 claims, 1 source: 8 errors, 0 warnings\n"
    )
    # the source's coverage is not given on a stand-in: its errors are said instead
    listed = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--root", str(root), "coverage"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 1
    assert listed.stdout.endswith("not listed (see the errors above): test-source\n")

    not_built(root, tmp_path / "site", run_build)


def test_a_source_whose_id_is_stood_in_for_is_not_told_to_rename_its_file(
    tmp_path: Path,
) -> None:
    """With a file name that is no id, a list for an id stood in as "", and the source
    was told "'' does not match the file name 'My source.md' (rename the file to '.md')"."""
    root = project(tmp_path)
    sources = root / "content" / "sources"
    text = (sources / "test-source.md").read_text(encoding="utf-8")
    (sources / "My source.md").write_text(text.replace("id: test-source", "id: [x]"))
    (sources / "other.md").write_text(text.replace("id: test-source", "id: [other]"))
    assert refused(root) == (
        "content/sources/My source.md:2:1: error: id: expected an id, found a list\n"
        "content/sources/other.md:2:1: error: id: expected an id, found a list\n"
        "3 claims, 3 sources: 2 errors, 0 warnings\n"
    )


def test_a_renamed_source_keeps_its_id_for_the_claims_that_cite_it(tmp_path: Path) -> None:
    """Only the mismatch is said: the claims still cite the id the file gives."""
    root = project(tmp_path)
    sources = root / "content" / "sources"
    (sources / "test-source.md").rename(sources / "test-source-v2.md")
    assert refused(root) == (
        "content/sources/test-source-v2.md:2:1: error: id: 'test-source' does not match the "
        "file name 'test-source-v2.md' (rename the file to 'test-source.md' or set "
        "'id: test-source-v2')\n3 claims, 1 source: 1 error, 0 warnings\n"
    )


def test_sources_with_each_others_ids_keep_them(tmp_path: Path) -> None:
    """Ids swapped between two files: each source is still the one its id names, and the
    hints do not say to rename a file over the other."""
    root = project(tmp_path)
    sources = root / "content" / "sources"
    (sources / "test-source.md").rename(sources / "other.md")
    update = (FIXTURES / "sources" / "update.id-of-another-source.md").read_text("utf-8")
    (sources / "test-source.md").write_text(update.replace("id: test-source", "id: other"))
    assert refused(root) == (
        "content/sources/other.md:2:1: error: id: 'test-source' does not match the file name "
        "'other.md' (set 'id: other': 'test-source.md' is another source's file)\n"
        "content/sources/test-source.md: warning: coverage: 0% of substantive sentences are "
        "anchored by a quote, under the 90% minimum (1 uncovered) (list them with "
        "'python build.py coverage other')\n"
        "content/sources/test-source.md:2:1: error: id: 'other' does not match the file name "
        "'test-source.md' (set 'id: test-source': 'other.md' is another source's file)\n"
        "3 claims, 2 sources: 2 errors, 1 warning\n"
    )


def test_a_claim_file_renamed_with_capitals_is_not_told_to_set_that_id(tmp_path: Path) -> None:
    """As for a source: the hint said "or set 'id: Base-Claim'", an id refused for its
    capitals (and, for a copy, to rename it over the claim it copies: duplicate-id.yaml
    in tests/test_fixtures.py)."""
    root = project(tmp_path)
    (root / "claims" / "base-claim.yaml").rename(root / "claims" / "Base-Claim.yaml")
    assert refused(root) == (
        "claims/Base-Claim.yaml:1:1: error: id: 'base-claim' does not match the file name "
        "'Base-Claim.yaml' (rename the file to 'base-claim.yaml')\n"
        "3 claims, 1 source: 1 error, 0 warnings\n"
    )


def test_an_overview_copied_under_another_name_is_not_told_to_overwrite_it(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    overview = "---\nid: dopamine\nreviewed: 2026-11-21\n---\nWhat the articles say.\n"
    for name in ("dopamine", "dopamine-old"):
        (root / "content" / "mechanisms" / f"{name}.md").write_text(overview)
    assert refused(root) == (
        "content/mechanisms/dopamine-old.md:2:1: error: id: 'dopamine' does not match the file "
        "name 'dopamine-old.md' ('dopamine.md' is that overview: delete this file if it is a "
        "copy)\n3 claims, 1 source: 1 error, 0 warnings\n"
    )


def test_links_to_claims_are_checked_as_the_page_reads_them(tmp_path: Path) -> None:
    """A search of the text for `(claim:` missed the reference link, the autolink, the
    destination in angle brackets and the one with a title, each a broken link on the
    page, and took the two in code, which the page shows as code, for links."""
    root = project(tmp_path)
    (root / "content" / "mechanisms" / "opioid-receptors.md").write_text(
        "---\nid: opioid-receptors\nreviewed: 2026-11-21\n---\n"
        "Linked [as it should be](claim:base-claim) and [misspelt](claim:base-clam).\n\n"
        "By [reference][r], and <claim:auto-link>, [spaced](<claim:two words>) and "
        '[titled](claim:with-title "Title").\n\n'
        "In code: `[shown as code](claim:in-code)`.\n\n"
        "    [in a code block](claim:code-block)\n\n"
        "[r]: claim:by-reference\n",
        encoding="utf-8",
    )
    rewrite(
        root / "claims" / "base-reward.yaml",
        "statement: ",
        "note: |-\n  See [the other][x] or <claim:base-sleep>, not `claim:x`.\n\n"
        "  [x]: claim:nope\nstatement: ",
    )
    hint = "(choose one of: base-claim, base-reward, base-sleep)"
    assert refused(root) == (
        "claims/base-reward.yaml:2:1: error: note: 'nope' is not a known claim " + hint + "\n"
        "content/mechanisms/opioid-receptors.md:5:59: error: body: 'base-clam' is not a known "
        "claim (did you mean 'base-claim'?)\n"
        "content/mechanisms/opioid-receptors.md:7:25: error: body: 'auto-link' is not a known "
        "claim " + hint + "\n"
        "content/mechanisms/opioid-receptors.md:7:53: error: body: 'two words' is not a known "
        "claim " + hint + "\n"
        "content/mechanisms/opioid-receptors.md:7:84: error: body: 'with-title' is not a known "
        "claim " + hint + "\n"
        "content/mechanisms/opioid-receptors.md:13:6: error: body: 'by-reference' is not a known "
        "claim " + hint + "\n"
        "3 claims, 1 source: 6 errors, 0 warnings\n"
    )


def test_every_invisible_character_is_reported_up_to_ten_a_file(tmp_path: Path) -> None:
    """A page pasted with its soft hyphens has dozens: one run says where all are."""
    root = project(tmp_path)
    source = root / "content" / "sources" / "test-source.md"
    source.write_text(
        source.read_text(encoding="utf-8") + "\n" + "\n".join(["re\xadceptors"] * 12) + "\n",
        encoding="utf-8",
    )
    lines = check(root).stdout.splitlines()
    assert lines[0].startswith("content/sources/test-source.md:25:3: error: the file contains")
    assert [line.split(": error:")[0] for line in lines[:10]] == [
        f"content/sources/test-source.md:{25 + i}:3" for i in range(10)
    ]
    assert lines[10:] == [
        "content/sources/test-source.md:35:3: error: this and 1 more such characters after it "
        "(delete them)",
        "3 claims, 1 source: 11 errors, 0 warnings",
    ]


def test_a_list_of_the_wrong_types_is_not_also_called_repeated(tmp_path: Path) -> None:
    """`[true, 1]`: True == 1 in a set, which read as "'1' is listed again"."""
    root = project(tmp_path)
    claim = (FIXTURES / "claims" / "mechanism-listed-twice.yaml").read_text(encoding="utf-8")
    claim = claim.replace("[opioid-receptors, dopamine, opioid-receptors]", "[true, 1]")
    (root / "claims" / "mechanism-listed-twice.yaml").write_text(claim, encoding="utf-8")
    out = check(root).stdout
    assert "listed again" not in out
    assert out.count("error: mechanism[") == 2, out


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no pipes in the file system here")
def test_a_pipe_among_the_inputs_is_an_error_not_a_wait_for_ever(tmp_path: Path) -> None:
    """A pipe (made here: git cannot hold one) among the sources or claims: reading it
    waited for a writer for ever, and a link to /dev/zero filled the memory."""
    root = project(tmp_path)
    os.mkfifo(root / "content" / "sources" / "notes.md")
    os.mkfifo(root / "claims" / "draft.yaml")
    (root / "claims" / "zeros.yaml").symlink_to("/dev/zero")
    assert refused(root) == (  # check's timeout fails the test if it waits
        "claims/draft.yaml: error: cannot read the file: it is not a regular file (a pipe, "
        "socket or device)\n"
        "claims/zeros.yaml: error: cannot read the file: it is not a regular file (a pipe, "
        "socket or device)\n"
        "content/sources/notes.md: error: cannot read the file: it is not a regular file (a "
        "pipe, socket or device)\n"
        "5 claims, 2 sources: 3 errors, 0 warnings\n"
    )


def test_what_in_claims_cannot_be_a_claim_is_said_not_skipped(tmp_path: Path) -> None:
    """A folder named like a claim, a link to nothing and a link to itself (made here: git
    holds no empty folder) passed `check` as 3 claims and 0 errors, and so did a claim
    in a folder in claims/: each was left out of the site without a word."""
    root = project(tmp_path)
    (root / "claims" / "folder.yaml").mkdir()
    (root / "claims" / "gone.yaml").symlink_to(tmp_path / "nothing-here.yaml")
    (root / "claims" / "loop.yaml").symlink_to("loop.yaml")
    (root / "claims" / "more").mkdir()
    shutil.copy(root / "claims" / "base-claim.yaml", root / "claims" / "more" / "moved.yaml")
    assert refused(root) == (
        "claims/folder.yaml: error: cannot read the file: Is a directory\n"
        "claims/gone.yaml: error: cannot read the file: No such file or directory\n"
        "claims/loop.yaml: error: cannot read the file: Too many levels of symbolic links\n"
        "claims/more/moved.yaml: warning: not read: claims are the files in claims/ itself, "
        "not in folders in it (move it to claims/moved.yaml)\n"
        "6 claims, 1 source: 3 errors, 1 warning\n"
    )


def test_a_source_or_overview_not_read_is_said(tmp_path: Path) -> None:
    """A source saved as x.MD or in a folder, an overview as x.markdown: each was left out
    of the site without a word, and with the only source gone, every claim's hint read
    "choose one of: " and nothing after it."""
    root = project(tmp_path)
    sources = root / "content" / "sources"
    (sources / "test-source.md").rename(sources / "test-source.MD")
    (sources / "older").mkdir()
    (sources / "older" / "other.md").write_text("---\nid: other\n---\nText.\n")
    (sources / "README.txt").write_text("Not a source, and not said to be one.\n")
    (root / "content" / "mechanisms").mkdir(exist_ok=True)
    (root / "content" / "mechanisms" / "dopamine.markdown").write_text("---\n---\n")
    hint = "there is no source yet: add its article to content/sources/ first"
    assert refused(root) == (
        f"claims/base-claim.yaml:8:5: error: evidence[0].source: 'test-source' is not a known "
        f"source ({hint})\n"
        f"claims/base-reward.yaml:8:5: error: evidence[0].source: 'test-source' is not a known "
        f"source ({hint})\n"
        f"claims/base-sleep.yaml:8:5: error: evidence[0].source: 'test-source' is not a known "
        f"source ({hint})\n"
        "content/mechanisms/dopamine.markdown: warning: not read: only files whose names end "
        "in '.md' are mechanism overviews (rename it to content/mechanisms/dopamine.md)\n"
        "content/sources/older/other.md: warning: not read: sources are the files in "
        "content/sources/ itself, not in folders in it (move it to content/sources/other.md)\n"
        "content/sources/test-source.MD: warning: not read: only files whose names end in "
        "'.md' are sources (rename it to content/sources/test-source.md)\n"
        "3 claims, 0 sources: 3 errors, 3 warnings\n"
    )


def test_links_in_a_loop_are_followed_once(tmp_path: Path) -> None:
    """Two links to claims/ inside it made the scan of the inputs exponential."""
    root = project(tmp_path)
    (root / "claims" / "a").symlink_to(".")
    (root / "claims" / "b").symlink_to(".")
    run = check(root)
    assert (run.returncode, run.stdout) == (0, "3 claims, 1 source: 0 errors, 0 warnings\n")


def test_lists_indented_thirty_thousand_levels_deep_are_an_error_not_a_crash(
    tmp_path: Path,
) -> None:
    """Nesting needs no brackets: '- - - x' opens a list at each '- '."""
    root = project(tmp_path)
    deep = "id: deep\nnote:\n  " + "- " * 30000 + "x\n"
    (root / "claims" / "deep.yaml").write_text(deep, encoding="utf-8")
    run = check(root)
    assert run.returncode == 1, run
    assert run.stdout.startswith(
        "claims/deep.yaml:3:65: error: values are nested more than 32 levels deep"
    )


def test_a_damaged_cache_is_a_miss_not_a_crash(
    make_site: MakeSite, run_build: RunBuild, tmp_path: Path, own_cache: Path
) -> None:
    """Unpickling damaged bytes raised ModuleNotFoundError or OverflowError, which the
    cache did not catch: every command failed until the cache was deleted by hand."""
    root = make_site()
    first = run_build(root, tmp_path / "first")
    assert first.code == 0
    cached = sorted(own_cache.rglob("*.pickle"))
    assert cached
    damaged = (b"cnosuchmodule\nthing\n.", b"\x80\x05\x96" + b"\xff" * 9)  # two ways
    for number, path in enumerate(cached):
        path.write_bytes(damaged[number % 2])
    again = run_build(root, tmp_path / "again")
    assert again.code == 0, again.err
    assert sorted(p.name for p in (tmp_path / "again").rglob("*")) == sorted(
        p.name for p in first.site.rglob("*")
    )


@pytest.mark.parametrize("inside", ["templates", "templates/static/site", "claims/site"])
def test_the_site_is_never_written_into_a_folder_the_build_reads(
    inside: str, make_site: MakeSite, run_build: RunBuild
) -> None:
    """templates/ holds an index.html, so it looked like an old site: `build --out
    templates` replaced the project's templates with the built site."""
    root = make_site()
    before = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    run = run_build(root, root / inside)
    assert run.code == 1
    top = inside.split("/")[0]
    assert run.err == (
        f"error: refusing to write the site into '{root / inside}': it is inside {top}/, "
        f"which the build reads (choose a folder outside it, such as _site)\n"
        f"not built: {root / inside} was left as it was\n"
    )
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == before


def test_the_site_is_not_written_into_the_templates_through_a_link(
    make_site: MakeSite, run_build: RunBuild
) -> None:
    root = make_site()
    (root / "pages").symlink_to(root / "templates")
    run = run_build(root, root / "pages" / "site")
    assert run.code == 1
    assert "it is inside templates/, which the build reads" in run.err
    assert not (root / "templates" / "site").exists()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        # raised while the template ran, not by Jinja: a traceback until now
        (
            ("<h1>Methodology and legend</h1>", "<h1>{{ 1 // 0 }}</h1>"),
            r"templates/methodology\.html:\d+: error: the template failed: ZeroDivisionError: "
            r"integer division or modulo by zero",
        ),
        (
            ("<h1>Methodology and legend</h1>", '{% include "methodology.html" %}'),
            r"templates/methodology\.html:\d+: error: the template includes or extends "
            r"itself, without end",
        ),
        # a missing template is an OSError too: it read "cannot write the site: _site: None"
        (
            ("<h1>Methodology and legend</h1>", '{% include "gone.html" %}'),
            r"templates/methodology\.html:\d+: error: there is no template 'gone\.html' in "
            r"templates/ \(restore it from the repository, or correct the name\)",
        ),
    ],
    ids=["runtime-error", "includes-itself", "missing"],
)
def test_a_template_that_fails_is_named_with_its_line(
    edit: tuple[str, str], message: str, make_site: MakeSite, run_build: RunBuild
) -> None:
    root = make_site()
    rewrite(root / "templates" / "methodology.html", *edit)
    run = run_build(root)
    assert run.code == 1
    first, second = run.err.splitlines()
    assert re.fullmatch(message, first), first
    assert second == f"not built: {root / '_site'} was left as it was"


def test_a_template_that_is_not_utf8_is_named_with_its_line(
    make_site: MakeSite, run_build: RunBuild
) -> None:
    root = make_site()
    template = root / "templates" / "methodology.html"
    template.write_bytes(template.read_bytes() + b"\n\xff\n")
    lines = template.read_bytes().count(b"\n")
    run = run_build(root)
    assert run.code == 1
    assert run.err.splitlines()[0] == (
        f"templates/methodology.html:{lines}: error: the template is not valid UTF-8 "
        "(byte 0xff): save it as UTF-8"
    )


def test_an_image_in_markdown_is_a_link_to_it_not_a_request(
    make_site: MakeSite, run_build: RunBuild
) -> None:
    """`![chart](https://...)` in a note made every reader's browser ask that host: the
    site promises that no page asks another host for anything."""
    root = make_site()
    rewrite(
        root / "claims" / "fibro-pain.yaml",
        "  One small trial, cited by the article.",
        "  See ![a chart of doses](https://example.net/chart.png) and ![](x.png), and\n"
        "  ![a claim](claim:blocks-receptors).",
    )
    run = run_build(root)
    assert run.code == 0, run.err
    page = (run.site / "claims" / "fibro-pain.html").read_text(encoding="utf-8")
    assert "<img" not in page
    assert (
        'See <a href="https://example.net/chart.png">a chart of doses (image)</a> and '
        '<a href="x.png">an image</a>, and'
    ) in page
    # an image's address is a link's: claim:<id> is the claim's page
    assert '<a href="../claims/blocks-receptors.html">a claim (image)</a>' in page


def test_new_refuses_an_id_ending_in_a_line_break(make_site: MakeSite) -> None:
    """The id pattern ended in "$", which also matches before a final line break: `new`
    wrote a file named 'zz-new\\n.yaml'."""
    root = make_site()
    request = Request("zz-new\n", "demo-article", "Naltrexone blocks opioid receptors")
    result = new_claim(root, request)
    assert result.path == ""
    assert result.errors == (
        "error: 'zz-new\n' is not a valid claim id (use lowercase letters, digits and single "
        "hyphens, e.g. 'ldn-endorphin-rebound')",
    )
    assert not any(p.name.startswith("zz-new") for p in (root / "claims").iterdir())
