"""The installed console script behaves as `python build.py`: exit 0 clean, 1 on
problems (warnings too with --strict), 2 on a usage error."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
import weakref
from pathlib import Path

import pytest
from conftest import MakeSite

from naltrexone_site import __main__ as program
from naltrexone_site import builder, cache, cli, duplicates, interrupt

REPO = Path(__file__).parent.parent
FIXTURES = REPO / "tests" / "fixtures"


def script() -> str:
    found = shutil.which("naltrexone-site", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("the console script is not installed: pip install -e '.[test]'")
    return found


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([script(), *args], capture_output=True, text=True, timeout=120)


def test_clean_registry_exits_0() -> None:
    done = run("--root", str(REPO), "check", "--strict")
    assert done.returncode == 0
    assert done.stdout.endswith(": 0 errors, 0 warnings\n")


def test_errors_exit_1_and_warnings_only_with_strict(tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "project", root)
    shutil.copy(FIXTURES / "claims" / "near-duplicate-statement.yaml", root / "claims")
    assert run("--root", str(root), "check").returncode == 0
    assert run("--root", str(root), "check", "--strict").returncode == 1
    shutil.copy(FIXTURES / "claims" / "unknown-references.yaml", root / "claims")
    done = run("--root", str(root), "check")
    assert done.returncode == 1
    assert "did you mean 'dopamine'?" in done.stdout


def test_build_is_the_default_command(make_site: MakeSite) -> None:
    root = make_site()
    assert cli.main(["--root", str(root)]) == 0
    assert (root / "_site" / "index.html").is_file()


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("bogus").returncode == 2
    assert run("check", "--no-such-option").returncode == 2
    done = run("--root", str(tmp_path), "check")
    assert done.returncode == 2
    assert "is not a project" in done.stderr


def test_the_program_runs_without_the_cycle_collector_and_holds_what_it_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # its first pass after a build walked every object the build had made; and the build
    # freed them one at a time as its functions returned, just before os._exit would drop
    # them all at once (0.05 s of a one-claim rebuild at 10,000 claims): they are held
    seen: list[bool] = []
    held: list[weakref.ref[set[str]]] = []

    def main() -> int:
        seen.append(gc.isenabled())
        value = {"a build's value"}  # a set: a weak reference can follow it
        cache.held(value)
        held.append(weakref.ref(value))
        return 0

    def leave(code: int) -> None:
        raise SystemExit(code)

    monkeypatch.setattr(cli, "main", main)
    monkeypatch.setattr(os, "_exit", leave)
    monkeypatch.setattr(interrupt, "install", lambda: None)  # not in the test runner
    monkeypatch.setattr(interrupt, "finished", lambda: None)  # it ignores the signals
    try:
        with pytest.raises(SystemExit):
            program.entry()
        assert not gc.isenabled()
        assert held[0]() is not None
    finally:
        gc.enable()
        cache.hold_until_exit(False)
    assert seen == [False]
    assert held[0]() is None  # where the process runs on (`serve`, this test): freed


def test_build_and_check_hand_what_they_made_to_the_program_to_hold(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root = make_site()
    cache.hold_until_exit(True)  # as the program does (above)
    try:
        outcome = builder.build(root, tmp_path / "site")
        checked = cli.checked_project(root)
        made = [weakref.ref(found.context) for found in (outcome.checked, checked) if found.context]
        assert len(made) == 2  # each the registry, as analysed
        del outcome, checked
        gc.collect()
        assert all(context() is not None for context in made)
    finally:
        cache.hold_until_exit(False)
    gc.collect()
    assert all(context() is None for context in made)


def test_a_rebuild_lets_go_of_the_kept_duplicate_search_once_its_step_is_done(
    make_site: MakeSite, tmp_path: Path
) -> None:
    # held to exit with the build's other values, it was 80 MB of a one-claim rebuild's
    # peak at 100,000 claims (1.04 GB) that nothing used after the checks
    root = make_site()
    builder.build(root, tmp_path / "site")  # keeps its search
    claim = sorted((root / "claims").glob("*.yaml"))[0]
    claim.write_text(claim.read_text().replace('statement: "', 'statement: "As is known, ', 1))
    loaded: list[duplicates.Search] = []
    load = cache.load

    def load_seen(root: Path, name: str, **hold: bool) -> object:
        found = load(root, name, **hold)
        if isinstance(found, duplicates.Search):
            loaded.append(found)
        return found

    cache.hold_until_exit(True)  # as the program does
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(cache, "load", load_seen)
            outcome = builder.build(root, tmp_path / "site")
        assert outcome.pages and len(loaded) == 1  # the last search, read for the step
        search = weakref.ref(loaded.pop())
        gc.collect()
        assert search() is None
    finally:
        cache.hold_until_exit(False)


def test_coverage_lists_each_source_and_its_uncovered_sentences(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "project", root)
    assert cli.main(["--root", str(root), "coverage"]) == 0
    assert capsys.readouterr().out == (
        "test-source: 100.0% (3 of 3 sentences anchored; 1 excluded as boilerplate)\n"
    )
    assert cli.main(["--root", str(root), "coverage", "test-source", "--all"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("content/sources/test-source.md:") and ": covered: " in lines[0]
    assert lines[-1] == "test-source: 100.0% (3 of 3 sentences anchored)"


def test_coverage_names_a_source_that_cannot_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It was left out of the list, with exit code 0; asked for by name, it was "not a
    known source"."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "project", root)
    source = (root / "content/sources/test-source.md").read_text(encoding="utf-8")
    (root / "content/sources/broken.md").write_text(source.split("\n", 1)[1], encoding="utf-8")
    error = (
        "content/sources/broken.md:1:1: error: the file does not start with '---' front "
        "matter (put the metadata between two '---' lines at the top)\n"
    )
    assert cli.main(["--root", str(root), "coverage"]) == 1
    assert capsys.readouterr().out == (
        "test-source: 100.0% (3 of 3 sentences anchored; 1 excluded as boilerplate)\n"
        + error
        + "not listed (see the errors above): broken\n"
    )
    assert cli.main(["--root", str(root), "coverage", "broken"]) == 1
    assert capsys.readouterr().out == (
        error + "'broken' cannot be read: fix the errors above, then ask again\n"
    )


def test_coverage_lists_a_source_read_despite_a_key_given_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Such a source is read, and has its coverage: it was listed, and also "not listed",
    and asked for by name it "cannot be read"."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "project", root)
    path = root / "content/sources/test-source.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("title:", "title: Again\ntitle:", 1), encoding="utf-8")
    assert cli.main(["--root", str(root), "coverage"]) == 0
    assert capsys.readouterr().out == (
        "test-source: 100.0% (3 of 3 sentences anchored; 1 excluded as boilerplate)\n"
    )
    assert cli.main(["--root", str(root), "coverage", "test-source"]) == 0
    assert capsys.readouterr().out.endswith("test-source: 100.0% (3 of 3 sentences anchored)\n")


@pytest.mark.parametrize("command", [["build", "--out"], ["serve", "--out"], ["serve", "--host"]])
def test_an_empty_folder_or_address_is_a_usage_error(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """`--out ""` built into _site, the folder it was not given; `--host ""` listened on
    every address and printed "serving http://:8000/"."""
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--root", str(FIXTURES / "project"), *command, ""])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"naltrexone-site {command[0]}: error: argument {command[1]}: is empty (give a value, "
        "or leave the option out)"
    )


def test_a_relative_cache_home_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The XDG Base Directory spec: a relative XDG_CACHE_HOME is invalid and to be
    ignored. It was used, so the cache moved with the folder the program ran from, and
    `build` run from the project wrote the cache (pickles) into it."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    folder = cache.cache_dir(FIXTURES / "project")
    assert folder is not None and folder.is_relative_to(tmp_path / "home" / ".cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    folder = cache.cache_dir(FIXTURES / "project")
    assert folder is not None and folder.is_relative_to(tmp_path / "xdg")


def run_into(stdout: int, *args: str) -> subprocess.CompletedProcess[str]:
    """The program with its output into `stdout`."""
    return subprocess.run(
        [sys.executable, str(REPO / "build.py"), *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )


def test_output_that_cannot_be_written_is_one_line_naming_the_reason() -> None:
    with open("/dev/full", "wb") as full:  # every write: "No space left on device"
        run = run_into(full.fileno(), "--root", str(FIXTURES / "project"), "check")
    assert (run.returncode, run.stderr) == (1, "error: No space left on device\n")


@pytest.mark.parametrize(
    "args",
    [
        ("--root", str(FIXTURES / "project"), "check"),  # written as the program ends
        ("--root", str(REPO), "coverage", "mood-article", "--all"),  # 18 KB: written on the way
    ],
)
def test_a_reader_gone_stops_the_program_quietly(args: tuple[str, ...]) -> None:
    """`check | head -1`: the reader had all it wanted and had gone, and the program
    said "error: Broken pipe" (first "error:: Broken pipe") and exited 1. It now stops as
    cat, grep or git do, stopped by SIGPIPE: nothing said, and 128 + 13."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line is written
    try:
        run = run_into(write, *args)
    finally:
        os.close(write)
    assert (run.returncode, run.stderr) == (141, "")
