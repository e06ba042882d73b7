"""With GITHUB_ACTIONS=true, `check` adds one workflow command per problem after its line, so
GitHub shows each problem on the pull request's diff:
`::error file=PATH,line=LINE,col=COL::MESSAGE` (`::warning ...` for warnings)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from naltrexone_site.cli import github_annotation, main
from naltrexone_site.problems import Location, error, warning

REPO = Path(__file__).parent.parent
FIXTURES = REPO / "tests" / "fixtures"
# The workflow-command grammar GitHub parses (properties are optional; line needs file).
COMMAND = re.compile(r"^::(error|warning) file=([^,:]+)(?:,line=(\d+),col=(\d+))?::(.+)$")


def unescape(data: str) -> str:
    return data.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")


def project_with(tmp_path: Path, *fixtures: str) -> Path:
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "project", root)
    for name in fixtures:
        shutil.copy(FIXTURES / "claims" / name, root / "claims" / name)
    return root


def test_each_problem_is_followed_by_its_annotation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    root = project_with(tmp_path, "unknown-references.yaml", "near-duplicate-statement.yaml")
    assert main(["--root", str(root), "check"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "claims/near-duplicate-statement.yaml:2:1: warning: statement: nearly the same as claim "
        "'base-claim' (93% similar) (if both say the same, add this claim's source as evidence "
        "to 'base-claim')",
        "::warning file=claims/near-duplicate-statement.yaml,line=2,col=1::statement: "
        "nearly the same as claim 'base-claim' (93%25 similar) (if both say the same, add this "
        "claim's source as evidence to 'base-claim')",
        "claims/unknown-references.yaml:4:31: error: mechanism: 'dopamin' is not a known "
        "mechanism (did you mean 'dopamine'?)",
        "::error file=claims/unknown-references.yaml,line=4,col=31::mechanism: 'dopamin' "
        "is not a known mechanism (did you mean 'dopamine'?)",
        "claims/unknown-references.yaml:8:5: error: evidence[0].source: 'test-sorce' is not a "
        "known source (did you mean 'test-source'?)",
        "::error file=claims/unknown-references.yaml,line=8,col=5::evidence[0].source: "
        "'test-sorce' is not a known source (did you mean 'test-source'?)",
        "claims/unknown-references.yaml:11:15: error: contradicts: 'base-clam' is not a known "
        "claim (did you mean 'base-claim'?)",
        "::error file=claims/unknown-references.yaml,line=11,col=15::contradicts: "
        "'base-clam' is not a known claim (did you mean 'base-claim'?)",
        "5 claims, 1 source: 3 errors, 1 warning",
    ]


def test_a_whole_file_problem_has_no_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    root = project_with(tmp_path, "empty-file.yaml")
    assert main(["--root", str(root), "check"]) == 1
    assert capsys.readouterr().out.splitlines()[1] == (
        "::error file=claims/empty-file.yaml::file is empty (see docs/registry-format.md)"
    )


@pytest.mark.parametrize("value", ["", "false", "1", "TRUE"])
def test_no_annotations_outside_github_actions(
    value: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", value)
    root = project_with(tmp_path, "unknown-references.yaml")
    assert main(["--root", str(root), "check"]) == 1
    assert "::" not in capsys.readouterr().out


def test_message_data_is_escaped() -> None:
    """`%`, CR and LF would end or corrupt the command; GitHub's toolkit escapes them so."""
    problem = error(Location("claims/x.yaml", 3, 7), "note", "100% sure\r\nsecond line", "fix")
    assert github_annotation(problem) == (
        "::error file=claims/x.yaml,line=3,col=7::note: 100%25 sure%0D%0Asecond line (fix)"
    )
    assert github_annotation(warning(Location("content/site.yaml", 2), "", "w")) == (
        "::warning file=content/site.yaml,line=2,col=1::w"
    )


def test_annotations_from_the_command_line(tmp_path: Path) -> None:
    """As the workflow runs it: every annotation parses as a workflow command."""
    root = project_with(
        tmp_path, "unknown-enum-value.yaml", "tab-indentation.yaml", "near-duplicate-statement.yaml"
    )
    env = {**os.environ, "GITHUB_ACTIONS": "true"}
    run = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--root", str(root), "check", "--strict"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    problems = [line for line in lines[:-1] if not line.startswith("::")]
    commands = [COMMAND.match(line) for line in lines if line.startswith("::")]
    assert len(commands) == len(problems) == 6
    for problem, command in zip(problems, commands, strict=True):
        assert command is not None
        kind, path, line, col, message = command.groups()
        assert problem == f"{path}:{line}:{col}: {kind}: {unescape(message)}"
