"""Stopping on a signal. Ctrl-C (SIGINT), SIGTERM (`kill`, a CI job cancelled) or SIGHUP
(the terminal closed), at any moment, stop the program with one line and the exit code
128 + the signal number: the site is left as it was, and no staging folder, cache file
half written or child process is left behind. `serve` stops as it does on Ctrl-C."""

from __future__ import annotations

import gc
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest
from conftest import REPO, WAIT, MakeSite, interrupting, snapshot, wait_for

from naltrexone_site import cache, interrupt, parallel

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="signals and process groups as on Linux"
)
INTERRUPTED = "interrupted: nothing was changed\n"


@pytest.fixture(autouse=True)
def signals_reach_children() -> Iterator[None]:
    """A runner started with SIGINT or SIGHUP ignored (a background job, `nohup`) passes
    that on to the programs the tests start, which keep them ignored (as they should).
    Handled here while they start, they have the default, as from a terminal: a signal
    handled is reset by exec, one ignored is not."""
    before = {
        s: signal.signal(s, signal.default_int_handler) for s in (signal.SIGINT, signal.SIGHUP)
    }
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def environment(**more: str) -> dict[str, str]:
    """This environment (its cache folder is the test's), with this checkout's code first."""
    paths = [*more.pop("PYTHONPATH", "").split(os.pathsep), str(REPO / "src")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p), **more}


def run_code(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """A program (`python -c`) using this checkout's code, run to its end."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=WAIT,
        env=environment(),
    )


# --- Ctrl-C while the program is still importing (before `cli.main` runs) ---------------

INTERRUPT_AT_IMPORT = """\
import os, signal, sys


class InterruptAtImport:
    # Ctrl-C as the first import of the module named starts: at that moment, every time
    def find_spec(self, name, path=None, target=None):
        if name == {module!r}:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None


sys.meta_path.insert(0, InterruptAtImport())
"""


def console_script() -> list[str]:
    """What the console script that pyproject.toml declares runs (as pip writes it; the
    installed one may be older than this checkout)."""
    with (REPO / "pyproject.toml").open("rb") as handle:
        target = tomllib.load(handle)["project"]["scripts"]["naltrexone-site"]
    module, name = target.split(":")
    return ["-c", f"import sys; from {module} import {name}; sys.exit({name}())"]


PROGRAMS = {
    "build.py": [str(REPO / "build.py")],
    "python -m": ["-m", "naltrexone_site"],
    "console script": console_script(),
}


@pytest.mark.parametrize("program", PROGRAMS)
@pytest.mark.parametrize("module", ["naltrexone_site.cli", "argparse"])
def test_ctrl_c_while_the_program_imports_prints_one_line(
    program: str, module: str, make_site: MakeSite, tmp_path: Path
) -> None:
    root = make_site()
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(INTERRUPT_AT_IMPORT.format(module=module))
    done = subprocess.run(
        [sys.executable, *PROGRAMS[program], "--root", str(root), "check"],
        capture_output=True,
        text=True,
        timeout=WAIT,
        env=environment(PYTHONPATH=str(hook)),
    )
    assert (done.returncode, done.stderr, done.stdout) == (130, INTERRUPTED, "")


# --- a signal in the middle of a build --------------------------------------------------

# Every page then takes about 40 s to render: the build is certainly still rendering,
# in this process and its workers, when the signal comes.
SLOW = "{% for _ in range(10 ** 9) %}{% endfor %}"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """bench/generate.py's registry, enough claims for the pages to be rendered by
    several processes (jobs.PARALLEL_FROM), with the site built from it; then its
    templates made slow."""
    sys.path.insert(0, str(REPO / "bench"))
    from generate import generate  # type: ignore[import-not-found]

    root = tmp_path_factory.mktemp("registry") / "project"
    generate(root, 450, 6, seed=3)
    for name in ("templates", "schema"):
        shutil.copytree(REPO / name, root / name)
    site = root.parent / "site"
    built = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--root", str(root), "build", "--out", str(site)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment(NALTREXONE_SITE_CACHE="0"),
    )
    assert built.returncode == 0, built.stderr
    base = root / "templates" / "base.html"
    base.write_text(SLOW + base.read_text(encoding="utf-8"), encoding="utf-8")
    return root, site


def group(pgid: int) -> list[int]:
    """The processes of a process group that have not ended (zombies have)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


@pytest.mark.parametrize(
    ("name", "to_group"),
    [("SIGTERM", False), ("SIGTERM", True), ("SIGHUP", True), ("SIGINT", True)],
    ids=["SIGTERM", "SIGTERM-to-all", "SIGHUP-to-all", "SIGINT-to-all"],
)
def test_a_signal_midway_leaves_the_site_as_it_was_and_nothing_behind(
    name: str, to_group: bool, registry: tuple[Path, Path], own_cache: Path, tmp_path: Path
) -> None:
    """To the build alone (`kill`), or to it and its workers (a closed terminal; Ctrl-C)."""
    root, built = registry
    site = tmp_path / "_site"
    shutil.copytree(built, site)
    before = snapshot(site)
    signum = getattr(signal, name)
    build = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "--root", str(root), "build", "--out", str(site)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
        start_new_session=True,  # its own process group: its workers are found by it
    )
    try:
        wait_for(lambda: list(tmp_path.glob("_site.building-*")), "the staging folder")
        if parallel.workers() > 1:
            wait_for(lambda: len(group(build.pid)) > 1, "the workers")
        (os.killpg if to_group else os.kill)(build.pid, signum)
        out, err = build.communicate(timeout=WAIT)
        assert (build.returncode, err, out) == (128 + signum, INTERRUPTED, "")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["_site"]
        assert snapshot(site) == before
        assert group(build.pid) == []  # no worker outlived it
        assert [p.name for p in own_cache.rglob("*.tmp")] == []
    finally:
        for pid in group(build.pid):  # whatever a failure left running
            os.kill(pid, signal.SIGKILL)
        build.kill()
        build.communicate()


AFTER_THE_SWAP = """\
import os, signal, sys
from naltrexone_site import __main__, output

real = output._swap


def swap(staging, out):  # SIGTERM as soon as the new site has taken the old one's place
    real(staging, out)
    os.kill(os.getpid(), signal.SIGTERM)


output._swap = swap
sys.argv[1:] = ["--root", sys.argv[1], "build", "--out", sys.argv[2]]
__main__.entry()
"""


def test_a_signal_after_the_new_site_is_in_place_does_not_say_nothing_changed(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root = make_site()
    site = tmp_path / "_site"
    done = run_code(AFTER_THE_SWAP, str(root), str(site))
    assert (done.returncode, done.stdout) == (128 + signal.SIGTERM, "")
    assert done.stderr == (
        "interrupted after the new site was in place; its cache may be incomplete, and the "
        "next build redoes that work\n"
    )
    assert (site / "index.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir() if "_site" in p.name) == ["_site"]


SWALLOWED = """\
import os, signal, sys, time
from naltrexone_site import interrupt

interrupt.install()


class Finalised:
    def __del__(self):  # Python swallows what is raised here ("Exception ignored in")
        os.kill(os.getpid(), signal.SIGTERM)


try:
    Finalised()
    time.sleep(60)
    print("not stopped", flush=True)
except KeyboardInterrupt as stop:
    sys.exit(interrupt.report(stop))
"""


def test_a_signal_in_a_finaliser_stops_the_program_with_no_traceback() -> None:
    """A SIGTERM that reached the build while a temporary file's closer ran printed
    "Exception ignored in: <function _TemporaryFileCloser.__del__>" and a traceback, and
    the stop was lost (CI, tests/test_signals.py, SIGTERM-to-all)."""
    done = run_code(SWALLOWED)
    assert (done.returncode, done.stdout, done.stderr) == (
        128 + signal.SIGTERM,
        "",
        "interrupted: nothing was changed\n",
    )


STUCK = """\
import os, signal, time
from naltrexone_site import interrupt

interrupt.install()
try:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(60)
except KeyboardInterrupt:
    print("cleaning up", flush=True)
    time.sleep(60)  # a cleanup that never ends
"""


def test_a_second_signal_stops_a_program_whose_cleanup_does_not_end() -> None:
    """After the first signal, a second one within a second is the same stop (ignored,
    so that the cleanup runs); a later one stops the program at once."""
    process = subprocess.Popen(
        [sys.executable, "-c", STUCK],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "cleaning up\n"
        time.sleep(interrupt.AGAIN + 0.2)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=WAIT)
        assert process.returncode == 128 + signal.SIGTERM
        assert err.endswith("interrupted again: stopped at once\n")
    finally:
        process.kill()
        process.communicate()


def test_a_cache_entry_interrupted_midway_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class CutShort:
        def __init__(self, handle: object, protocol: int) -> None:
            self.handle = handle

        def dump(self, value: object) -> None:
            self.handle.write(b"half of it")  # type: ignore[attr-defined]
            raise KeyboardInterrupt

    root = tmp_path / "project"
    folder = cache.cache_dir(root)
    assert folder is not None
    monkeypatch.setattr(pickle, "Pickler", CutShort)
    with pytest.raises(KeyboardInterrupt):
        cache.save(root, "entry", {"a": 1})
    assert list(folder.iterdir()) == []


SIGNAL_AS_TEMPLATE_IS_KEPT = """\
import os, signal, sys, tempfile
from pathlib import Path
from naltrexone_site import interrupt, render

interrupt.install()
make = tempfile.NamedTemporaryFile


def signalled(*args, **kwargs):  # Jinja's file for a compiled template: a signal comes
    handle = make(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGTERM)
    return handle


tempfile.NamedTemporaryFile = signalled
try:
    render.compile_all(render.environment(Path(sys.argv[1]), Path(sys.argv[2])))
    print("not stopped", flush=True)
except KeyboardInterrupt as stop:
    sys.exit(interrupt.report(stop))
"""


def test_a_signal_as_a_compiled_template_is_kept_leaves_no_file(tmp_path: Path) -> None:
    """Jinja removes its temporary file when interrupted, but not when the signal comes
    between making the file and the `try` that would: a SIGHUP to a build and its
    workers left one in the cache (CI, SIGHUP-to-all above, once)."""
    compiled = tmp_path / "compiled"
    compiled.mkdir()
    done = run_code(SIGNAL_AS_TEMPLATE_IS_KEPT, str(REPO / "templates"), str(compiled))
    assert (done.returncode, done.stdout, done.stderr) == (128 + signal.SIGTERM, "", INTERRUPTED)
    assert [p.suffix for p in compiled.iterdir()] == [".cache"]  # the one written whole


# --- serve ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_serve_stops_on_sigterm_and_sighup_as_on_ctrl_c(
    name: str, make_site: MakeSite, tmp_path: Path
) -> None:
    root = make_site()
    scratch = tmp_path / "tmp"  # where the preview's own output folder is made
    scratch.mkdir()
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "--root", str(root), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment(TMPDIR=str(scratch)),
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline()]
        while lines[-1] and not lines[-1].startswith("serving "):  # after the first build
            lines.append(process.stdout.readline())
        assert lines[-1].startswith("serving http://127.0.0.1:"), lines
        process.send_signal(getattr(signal, name))
        rest, _ = process.communicate(timeout=WAIT)
        assert (process.returncode, rest) == (0, "stopped\n")
        assert list(scratch.iterdir()) == []  # its output folder removed
    finally:
        process.kill()
        process.communicate()


def test_an_interrupt_at_any_line_of_a_cache_save_leaves_no_part_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C between the temporary file's creation and the `try` that removes it left
    it in the cache (the signal test above met one in CI). Here the interrupt is raised at
    each line of `cache.save` in turn, where a signal's handler would raise it."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("NALTREXONE_SITE_CACHE", raising=False)
    root = tmp_path / "project"
    root.mkdir()
    code = cache.save.__code__

    at, interrupted = 0, True
    while interrupted:
        at += 1
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always", ResourceWarning)
            sys.settrace(interrupting(at, lambda traced: traced is code))
            try:
                cache.save(root, "entry", {"a": 1})
                interrupted = False  # past the last line: saved whole
            except KeyboardInterrupt:
                pass
            finally:
                sys.settrace(None)
            gc.collect()  # a file left open is closed here, with a ResourceWarning
        left = [p.name for p in (tmp_path / "cache").rglob("*.tmp")]
        assert left == [], f"interrupted at line event {at} of cache.save"
        assert [str(w.message) for w in warned] == [], f"left open at line event {at}"
    assert at > 5  # every line of it was tried
    assert cache.load(root, "entry") == {"a": 1}


@pytest.mark.parametrize("size", [10, 1 << 20], ids=["flushed-at-close", "flushed-midway"])
def test_a_cache_save_on_a_full_disk_leaves_no_part_and_raises_nothing(
    size: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache that cannot be written is only a slower next build: the write that fails,
    while pickling or when the file is closed, is caught, and the part removed."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("NALTREXONE_SITE_CACHE", raising=False)
    root = tmp_path / "project"
    root.mkdir()

    def full(path: Path, mode: str) -> BinaryIO:  # the part made, then every write refused
        open(path, mode).close()
        return open("/dev/full", "wb")

    monkeypatch.setattr(cache, "open", full, raising=False)
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always", ResourceWarning)
        cache.save(root, "entry", b"x" * size)
        gc.collect()
    assert [p.name for p in (tmp_path / "cache").rglob("*.tmp")] == []
    assert [str(w.message) for w in warned] == []
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert cache.load(root, "entry") is None
