"""The preview server: rebuilds after an edit, keeps the last good site on a bad edit and
shows its problems, reloads open pages, and stops cleanly. Loopback traffic only."""

from __future__ import annotations

import errno
import gc
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import rewrite as edit
from preview_support import FIXTURE, REPO, WAIT, Running, make_project, preview_of

from naltrexone_site import builder, cache
from naltrexone_site import serve as serve_module
from naltrexone_site.cli import main
from naltrexone_site.inputs import BUILT_FROM
from naltrexone_site.problems import Location, error
from naltrexone_site.serve import Preview, Status, inject


def lines_until(process: subprocess.Popen[str], text: str) -> list[str]:
    """The process's output lines up to the first containing `text`, read as they come
    (a byte at a time from the pipe, so nothing after that line is taken from whoever
    reads next): a line it holds back fails the test after WAIT seconds, not hangs it."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    lines: list[str] = []
    line = b""
    deadline = time.monotonic() + WAIT
    while not any(text in x for x in lines):
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        byte = os.read(fd, 1) if ready else b""
        assert byte, f"no line with {text!r} within {WAIT} s; got {lines + [line.decode()]}"
        line += byte
        if byte == b"\n":
            lines.append(line.decode())
            line = b""
    return lines


def unbuffered_unset() -> dict[str, str]:
    """The environment without PYTHONUNBUFFERED (set on some machines): as a user's."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def reload_status(url: str) -> dict[str, object]:
    status, body = fetch(url + "__reload")
    assert status == 200
    data: dict[str, object] = json.loads(body)
    return data


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"gave up after {WAIT:.0f} s waiting for {what}")


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    """A preview of a copy of the fixture project."""
    with preview_of(make_project(tmp_path / "project"), tmp_path / "out") as preview:
        yield preview


def test_rebuilds_after_an_edit_and_keeps_the_last_good_site_on_a_bad_one(
    running: Running,
) -> None:
    url, root = running.url, running.preview.root
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url)
    status, home = fetch(url)
    assert status == 200, running.lines
    assert '<script src="/__serve/reload.js" data-generation="1" defer></script>' in home
    assert "serve-problems" not in home
    claim = url + "claims/base-claim.html"
    assert "Naltrexone is an opioid antagonist." in fetch(claim)[1]

    # A good edit: rebuilt, the new text is served, open pages see a new generation.
    edit(
        root / "claims" / "base-claim.yaml", "is an opioid antagonist.", "blocks opioid receptors."
    )
    wait_for(lambda: reload_status(url)["generation"] == 2, "the rebuild")
    assert reload_status(url)["ok"] is True
    assert "Naltrexone blocks opioid receptors." in fetch(claim)[1]
    assert any(line.startswith("changed: claims/base-claim.yaml") for line in running.lines)

    # A bad edit: not rebuilt; the last good page is still served, with the problem on it.
    edit(root / "claims" / "base-claim.yaml", "dose: unspecified", "dose: ldn")
    wait_for(lambda: reload_status(url)["generation"] == 3, "the failed rebuild")
    state = reload_status(url)
    problem = (
        "claims/base-claim.yaml:5:1: error: dose: 'ldn' is not a known dose "
        "(choose one of: both, low, standard, unspecified)"
    )
    assert state["ok"] is False
    assert state["problems"] == [problem]
    assert state["summary"] == "3 claims, 1 source: 1 error, 0 warnings"
    status, page = fetch(claim)
    assert status == 200
    assert "Naltrexone blocks opioid receptors." in page  # the last good site
    assert '<aside id="serve-problems" class="failed" role="alert"><details open>' in page
    assert f"<li><code>{problem.replace(chr(39), '&#x27;')}</code></li>" in page
    assert problem in running.lines  # and in the terminal
    assert any("not rebuilt" in line and "still serving" in line for line in running.lines)

    # Fixed: rebuilt, and the banner is gone.
    edit(root / "claims" / "base-claim.yaml", "dose: ldn", "dose: low")
    wait_for(lambda: reload_status(url)["ok"] is True, "the repaired build")
    assert "serve-problems" not in fetch(claim)[1]


def test_a_yaml_syntax_error_and_a_broken_template_do_not_stop_the_server(
    running: Running,
) -> None:
    url, root = running.url, running.preview.root
    (root / "claims" / "base-sleep.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    wait_for(lambda: reload_status(url)["generation"] == 2, "the failed rebuild")
    problems = reload_status(url)["problems"]
    assert isinstance(problems, list)
    assert problems[0].startswith("claims/base-sleep.yaml:2:1: error: YAML syntax error")
    assert fetch(url)[0] == 200

    shutil.copy(FIXTURE / "claims" / "base-sleep.yaml", root / "claims" / "base-sleep.yaml")
    template = root / "templates" / "index.html"
    template.write_text(template.read_text() + "{% if %}\n", encoding="utf-8")
    wait_for(lambda: reload_status(url)["generation"] == 3, "the template failure")
    problems = reload_status(url)["problems"]
    assert isinstance(problems, list) and len(problems) == 1
    assert re.match(r"templates/index\.html:\d+: error: ", problems[0]), problems
    assert fetch(url)[0] == 200

    text = template.read_text().replace("{% if %}\n", "")
    assert "{% block main %}" in text
    text = text.replace("{% block main %}", "{% block main %}\n{{ no_such_variable.field }}", 1)
    template.write_text(text, encoding="utf-8")
    wait_for(lambda: reload_status(url)["generation"] == 4, "the undefined variable")
    lines = template.read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "no_such_variable" in text)
    assert reload_status(url)["problems"] == [
        f"templates/index.html:{line}: error: 'no_such_variable' is undefined"
    ]


def test_an_unexpected_build_failure_is_reported_not_fatal(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(root: Path, out: Path) -> object:
        raise RuntimeError("a bug in the renderer")

    monkeypatch.setattr(serve_module, "build", broken)
    edit(running.preview.root / "claims" / "base-claim.yaml", "antagonist", "blocker")
    wait_for(lambda: reload_status(running.url)["generation"] == 2, "the failed rebuild")
    assert reload_status(running.url)["problems"] == [
        "error: the build failed: RuntimeError: a bug in the renderer"
    ]
    assert "Naltrexone is an opioid antagonist." in fetch(running.url + "claims/base-claim.html")[1]


def test_a_site_write_that_fails_later_keeps_the_last_good_site_and_says_why(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk full or a permission lost after the first build: the last good site stays
    served, and the banner said "a file cannot be read" of a file being written."""
    out = running.preview.out

    def full(root: Path, into: Path) -> object:
        raise OSError(errno.ENOSPC, "No space left on device", str(into / "index.html"))

    monkeypatch.setattr(serve_module, "build", full)
    edit(running.preview.root / "claims" / "base-claim.yaml", "antagonist", "blocker")
    wait_for(lambda: reload_status(running.url)["generation"] == 2, "the failed rebuild")
    status = reload_status(running.url)
    assert status["problems"] == [f"error: {out / 'index.html'}: No space left on device"]
    assert status["summary"] == "the site cannot be written"
    assert "Naltrexone is an opioid antagonist." in fetch(running.url + "claims/base-claim.html")[1]


def test_a_site_that_cannot_be_written_at_all_stops_the_preview(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--out` under a file: it served "No site yet ... fix and save" for ever, though no
    save could help. It stops, as `build` does."""
    root = make_project(tmp_path / "project")
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    out = tmp_path / "notes.txt" / "site"
    assert main(["--root", str(root), "serve", "--port", "0", "--out", str(out)]) == 1
    said = capsys.readouterr().out.splitlines()
    assert said[0] == (
        f"error: cannot write the site into '{out}': '{tmp_path / 'notes.txt'}' is a file, "
        "not a folder"
    )
    # not "not rebuilt: ...; no site to serve yet" between them, as if it would wait
    assert said[1:] == [
        "error: nothing to serve: the site cannot be written (choose another --out)"
    ]


def held_questions(monkeypatch: pytest.MonkeyPatch, preview: Preview) -> threading.Semaphore:
    """Released once for each page's question the server starts to hold."""
    held = threading.Semaphore(0)
    hold = preview.status_after

    def holding(generation: str, timeout: float) -> Status:
        held.release()
        return hold(generation, timeout)

    monkeypatch.setattr(preview, "status_after", holding)
    return held


def test_a_page_asking_for_a_newer_build_is_answered_when_one_ends(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """reload.js asks `/__reload?since=N` with its page's build counter; the answer is
    held until a build ends (or HOLD seconds pass, when it asks again)."""
    url = running.url
    assert reload_status(url)["generation"] == 1
    held = held_questions(monkeypatch, running.preview)
    answers: list[dict[str, object]] = []

    def ask(since: str) -> threading.Thread:
        def asking() -> None:
            status, body = fetch(f"{url}__reload?since={since}")
            assert status == 200
            answers.append(json.loads(body))

        thread = threading.Thread(target=asking)
        thread.start()
        return thread

    ask("0").join(timeout=WAIT)  # a build since the page's: answered at once
    assert answers == [reload_status(url)]
    waiting = ask("1")
    assert held.acquire(timeout=WAIT)
    time.sleep(0.5)
    assert answers == [reload_status(url)]  # no build since: nothing said yet
    edit(
        running.preview.root / "claims" / "base-claim.yaml",
        "is an opioid antagonist.",
        "blocks opioid receptors.",
    )
    waiting.join(timeout=WAIT)
    assert len(answers) == 2 and answers[-1]["generation"] == 2 and answers[-1]["ok"] is True

    monkeypatch.setattr(serve_module, "HOLD", 0.5)
    started = time.monotonic()
    quiet = ask("2")  # nothing happens: answered after HOLD, with the same build
    quiet.join(timeout=WAIT)
    assert not quiet.is_alive() and len(answers) == 3
    assert answers[-1]["generation"] == 2 and time.monotonic() - started >= 0.5


def test_closing_the_preview_answers_the_pages_still_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    preview = Preview(make_project(tmp_path / "project"), tmp_path / "out", lambda line: None)
    url = preview.start("127.0.0.1", 0)
    held = held_questions(monkeypatch, preview)
    answered: list[int] = []
    waiting = threading.Thread(target=lambda: answered.append(fetch(url + "__reload?since=1")[0]))
    waiting.start()
    assert held.acquire(timeout=WAIT)
    preview.close()
    waiting.join(timeout=WAIT)
    assert answered == [200]


def test_a_page_gone_while_its_question_was_held_prints_nothing(
    running: Running, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A page closed, or left for another, while the server held its question: the
    answer finds the connection gone, which is no fault to print a traceback for."""
    held = held_questions(monkeypatch, running.preview)
    port = int(running.url.rstrip("/").rsplit(":", 1)[1])
    page = socket.create_connection(("127.0.0.1", port))
    page.sendall(b"GET /__reload?since=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert held.acquire(timeout=WAIT)
    page.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    page.close()  # with a reset, as a browser leaving a page may
    running.preview.rebuild()  # the answer goes out to nobody
    time.sleep(0.5)
    assert "Traceback" not in capsys.readouterr().err
    assert reload_status(running.url)["generation"] == 2  # and the server is still there


def test_missing_pages_get_the_site_404_page(running: Running) -> None:
    status, page = fetch(running.url + "claims/no-such-claim.html")
    assert status == 404
    assert "/__serve/reload.js" in page
    assert page == fetch(running.url + "claims/no-such-claim.html")[1]
    status, script = fetch(running.url + "__serve/reload.js")
    assert status == 200 and 'fetch("/__reload?since="' in script
    assert "http" not in script  # no request to any other host


def test_a_project_that_never_built_serves_a_placeholder_with_the_problems(
    tmp_path: Path,
) -> None:
    root = make_project(tmp_path / "project")
    edit(root / "claims" / "base-claim.yaml", "dose: unspecified", "dose: ldn")
    preview = Preview(root, tmp_path / "out", report=lambda line: None)
    url = preview.start("127.0.0.1", 0)
    try:
        status, page = fetch(url)
        assert status == 503
        assert "No site yet" in page and "is not a known dose" in page
        assert not (tmp_path / "out").exists()
    finally:
        preview.close()


def test_the_banner_escapes_problem_text() -> None:
    problem = error(Location("claims/x.yaml", 2, 1), "statement", "bad <script>alert(1)</script>")
    page = b"<html><body><p>page</p></body></html>"
    shown = inject(page, Status(4, False, (str(problem),), "1 error")).decode()
    assert "<script>alert(1)" not in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert shown.endswith('data-generation="4" defer></script></body></html>')
    assert inject(b"no body tag", Status(1, True)).startswith(b"no body tag<script")


def changes_built(running: Running, count: int) -> list[str]:
    """The first `count` "changed:" lines, once the rebuild after the last has reported;
    then a moment more, to show that no other build follows."""
    lines = running.lines

    def built() -> bool:
        at = [i for i, line in enumerate(lines) if line.startswith("changed: ")]
        return len(at) >= count and any("] built:" in x for x in lines[at[count - 1] + 1 :])

    wait_for(built, f"{count} rebuilds")
    time.sleep(1.0)  # ten times the quiet time that ends a batch of changes
    return [line for line in lines if line.startswith("changed: ")]


def test_the_watcher_ignores_editor_swap_files(running: Running) -> None:
    root = running.preview.root
    for name in (".base-claim.yaml.swp", "base-claim.yaml~", "#base-claim.yaml#", "x.tmp"):
        (root / "claims" / name).write_text("junk")
    (root / "content" / "mechanisms" / "dopamine.md").write_text("---\nid: dopamine\n---\n")
    assert changes_built(running, 1) == ["changed: content/mechanisms/dopamine.md"]


def test_the_watcher_sees_a_file_replaced_with_its_old_time_and_size(running: Running) -> None:
    """Tools that copy with times kept (cp -p, rsync -t) or save by renaming a new file
    over the old one leave mtime and size as they were; the inode and ctime differ."""
    claim = running.preview.root / "claims" / "base-claim.yaml"
    text = claim.read_text(encoding="utf-8")
    stat = claim.stat()
    fresh = claim.with_name("incoming.tmp")
    fresh.write_text(text.replace("an opioid", "a  opioid", 1), encoding="utf-8")
    os.utime(fresh, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    fresh.replace(claim)
    assert claim.read_text(encoding="utf-8") != text
    assert claim.stat().st_size == stat.st_size and claim.stat().st_mtime_ns == stat.st_mtime_ns
    assert changes_built(running, 1) == ["changed: claims/base-claim.yaml"]


def test_writes_in_quick_succession_are_built_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An editor that saves in several steps, or a checkout of several files: one build.
    (The quiet time that ends a batch is made long, so a pause of the test between two
    writes cannot split them on a busy machine.)"""
    monkeypatch.setattr(serve_module, "QUIET_MS", 1000)
    with preview_of(make_project(tmp_path / "project"), tmp_path / "out") as running:
        claims = running.preview.root / "claims"
        for name in ("base-claim.yaml", "base-sleep.yaml"):
            (claims / name).write_text((claims / name).read_text(encoding="utf-8") + "\n")
        built = changes_built(running, 1)
        assert built == ["changed: claims/base-claim.yaml, claims/base-sleep.yaml"]
        assert reload_status(running.url)["generation"] == 2


def test_an_edit_made_during_a_build_is_built_after_it(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    claims = running.preview.root / "claims"
    build = builder.build  # as serve imports it
    builds: list[Path] = []

    def saved_meanwhile(root: Path, out: Path) -> object:
        outcome = build(root, out)  # the inputs are read: what is saved now is not in it
        builds.append(out)
        if len(builds) == 1:
            edit(claims / "base-sleep.yaml", "sleeping better", "sleeping much better")
        return outcome

    monkeypatch.setattr(serve_module, "build", saved_meanwhile)
    edit(claims / "base-claim.yaml", "is an opioid antagonist.", "blocks opioid receptors.")
    assert changes_built(running, 2) == [
        "changed: claims/base-claim.yaml",
        "changed: claims/base-sleep.yaml",
    ]
    assert reload_status(running.url)["ok"] is True
    assert "Naltrexone blocks opioid receptors." in fetch(running.url + "claims/base-claim.html")[1]
    assert "sleeping much better" in fetch(running.url + "claims/base-sleep.html")[1]


def test_an_edit_saved_during_the_first_build_is_built_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watcher is set up before the first build, not after it."""
    root = make_project(tmp_path / "project")
    claim = root / "claims" / "base-claim.yaml"
    first = builder.build  # as serve imports it
    builds: list[Path] = []

    def saved_meanwhile(root: Path, out: Path) -> object:
        outcome = first(root, out)
        builds.append(out)
        if len(builds) == 1:
            edit(claim, "is an opioid antagonist.", "blocks opioid receptors.")
        return outcome

    monkeypatch.setattr(serve_module, "build", saved_meanwhile)
    preview = Preview(root, tmp_path / "out", report=lambda line: None)
    url = preview.start("127.0.0.1", 0)
    watcher = threading.Thread(target=preview.watch, daemon=True)
    watcher.start()
    try:
        wait_for(lambda: reload_status(url)["generation"] == 2, "the rebuild")
        assert "Naltrexone blocks opioid receptors." in fetch(url + "claims/base-claim.html")[1]
    finally:
        preview.close()
        watcher.join(timeout=WAIT)
    assert not watcher.is_alive()


@pytest.fixture
def ctrl_c_reaches_children() -> Iterator[None]:
    """A program started with SIGINT ignored keeps it ignored, and Python then never
    raises KeyboardInterrupt: a runner that starts the tests in the background without
    job control passes that on to every process the tests start. Handling SIGINT here
    while they start gives them the default, as a program started from a terminal has."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


@pytest.mark.usefixtures("ctrl_c_reaches_children")
def test_serve_from_the_command_line_prints_the_url_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    out = tmp_path / "preview"
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "--root", str(root), "serve", "--port", "0"]
        + ["--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=unbuffered_unset(),  # its lines must come as they happen all the same
    )
    try:
        lines = lines_until(process, "serving ")
        serving = lines[-1]
        match = re.search(r"serving (http://127\.0\.0\.1:(\d+)/)", serving)
        assert match and match.group(2) != "0", lines
        status, page = fetch(match.group(1) + "claims/base-claim.html")
        assert status == 200 and "Naltrexone is an opioid antagonist." in page
        assert (out / "index.html").is_file()
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=WAIT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert rest.splitlines()[-1] == "stopped"
    assert "Traceback" not in "".join(lines) + rest


@pytest.mark.usefixtures("ctrl_c_reaches_children")
def test_serve_without_out_cleans_up_its_temporary_site(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "--root", str(root), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**unbuffered_unset(), "TMPDIR": str(tmp_path)},
    )
    try:
        lines_until(process, "serving ")
        assert [p.name.startswith("naltrexone-serve-") for p in tmp_path.iterdir()].count(True) == 1
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=WAIT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("naltrexone-serve-")]
    assert not (root / "_site").exists()


def test_a_busy_port_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path / "project")
    lines: list[str] = []
    first = Preview(root, tmp_path / "out", report=lines.append)
    url = first.start("127.0.0.1", 0)
    port = url.rstrip("/").rsplit(":", 1)[1]
    out = tmp_path / "second"
    try:
        assert main(["--root", str(root), "serve", "--port", port, "--out", str(out)]) == 1
        # said before a build: it was said after building the whole site for nothing
        assert capsys.readouterr().out == (
            f"error: cannot listen on 127.0.0.1:{port}: Address already in use (try --port 0)\n"
        )
        assert not out.exists()
    finally:
        first.close()


def test_an_address_not_of_this_machine_is_said_to_be_the_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The hint was "try --port 0", which cannot help."""
    root = make_project(tmp_path / "project")
    # TEST-NET-1 (RFC 5737): an address no machine has, so no interface of this one
    out = tmp_path / "out"
    assert main(["--root", str(root), "serve", "--host", "192.0.2.1", "--out", str(out)]) == 1
    assert capsys.readouterr().out == (
        "error: cannot listen on 192.0.2.1:8000: Cannot assign requested address "
        "(check --host: 127.0.0.1 is this machine)\n"
    )
    assert not out.exists()


# '٣' was port 3 (str.isdigit takes any script's digits), and '²' "invalid _port value"
@pytest.mark.parametrize("port", ["x", "-1", "70000", "\u0663", "\u00b2"])
def test_a_bad_port_is_a_usage_error(
    port: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--root", str(tmp_path), "serve", "--port", port])
    assert exit_info.value.code == 2
    assert "is not a port number (0 to 65535)" in capsys.readouterr().err


def test_an_output_folder_inside_the_watched_inputs_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "project")
    out = root / "content" / "preview"
    assert main(["--root", str(root), "serve", "--port", "0", "--out", str(out)]) == 2
    assert capsys.readouterr().out == (
        f"error: --out {out} is inside a watched folder: every build would start another\n"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    "failure",
    [
        RuntimeError("Error creating watcher: Too many open files (os error 24)"),
        FileNotFoundError(2, "No such file or directory"),
    ],
)
def test_inputs_that_cannot_be_watched_are_a_clear_error(
    failure: Exception,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What watchfiles raises when inotify is out of watches or instances, or a folder is
    gone: not a traceback, and not taken for a busy port (FileNotFoundError is an
    OSError)."""
    import watchfiles._rust_notify

    def refused(*args: object) -> None:
        raise failure

    monkeypatch.setattr(watchfiles._rust_notify, "RustNotify", refused)
    root = make_project(tmp_path / "project")
    assert main(["--root", str(root), "serve", "--port", "0"]) == 1
    assert capsys.readouterr().out == (
        f"error: cannot watch the inputs: {failure} (raise fs.inotify.max_user_watches, "
        "or set WATCHFILES_FORCE_POLLING=1)\n"
    )


def test_a_watcher_that_stops_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Stopped:
        closed = False

        def watch(self, *args: object) -> object:
            raise RuntimeError("error in underlying watcher: No space left on device")

        def close(self) -> None:
            Stopped.closed = True

    monkeypatch.setattr(serve_module, "_watcher", lambda folders: Stopped())
    root = make_project(tmp_path / "project")
    assert main(["--root", str(root), "serve", "--port", "0"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == (
        "error: the watcher stopped: error in underlying watcher: No space left on device "
        "(raise fs.inotify.max_user_watches, or set WATCHFILES_FORCE_POLLING=1)"
    )
    assert out[-2].startswith("serving http://127.0.0.1:")
    assert out[-2].endswith("(watching content/, claims/, templates/, schema/; Ctrl-C to stop)")
    assert Stopped.closed


def test_where_the_system_sends_no_notices_the_watcher_looks_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WATCHFILES_FORCE_POLLING=1, as for a network share or a container's mount."""
    monkeypatch.setenv("WATCHFILES_FORCE_POLLING", "1")
    with preview_of(make_project(tmp_path / "project"), tmp_path / "out") as running:
        claim = running.preview.root / "claims" / "base-claim.yaml"
        edit(claim, "is an opioid antagonist.", "blocks opioid receptors.")
        assert changes_built(running, 1) == ["changed: claims/base-claim.yaml"]
        assert "blocks opioid receptors." in fetch(running.url + "claims/base-claim.html")[1]


WATCHING_ALL = "(a folder removed or made: watching content/, claims/, templates/, schema/)"


def test_a_folder_removed_and_made_again_is_watched_again(running: Running) -> None:
    """inotify watches a folder, not its name: claims/ removed and made again (a script's
    `rm -rf`, a checkout that empties it) was watched no more, and every later save in it
    went unbuilt, the preview serving the old pages."""
    root = running.preview.root
    claims = root / "claims"
    kept = root.parent / "claims-kept"
    shutil.copytree(claims, kept)
    shutil.rmtree(claims)
    kept.rename(claims)
    said = f"changed: claims/ {WATCHING_ALL}"

    def rebuilt() -> bool:
        lines = running.lines
        return said in lines and any("] built:" in x for x in lines[lines.index(said) :])

    wait_for(rebuilt, "the folder watched again, and a build")
    edit(claims / "base-claim.yaml", "is an opioid antagonist.", "blocks opioid receptors.")
    wait_for(
        lambda: "blocks opioid receptors." in fetch(running.url + "claims/base-claim.html")[1],
        "the edit in the folder made again built",
    )


def test_a_folder_made_after_the_start_is_watched_from_then_on(tmp_path: Path) -> None:
    """It was watched only from the preview's next start, and said so in CONTRIBUTING."""
    root = make_project(tmp_path / "project")
    kept = tmp_path / "schema-kept"
    (root / "schema").rename(kept)
    with preview_of(root, tmp_path / "out") as running:
        assert running.preview.watched == ("content", "claims", "templates")
        assert not any(line.startswith("changed: ") for line in running.lines)
        kept.rename(root / "schema")
        wait_for(lambda: running.preview.watched == BUILT_FROM, "schema/ watched")
        said = f"changed: schema/ {WATCHING_ALL}"
        wait_for(lambda: said in running.lines, "the change said")
        schema = root / "schema" / "claim.schema.json"
        schema.write_text(schema.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        assert changes_built(running, 2)[1] == "changed: schema/claim.schema.json"


def test_serve_turns_the_cycle_collector_back_on(tmp_path: Path) -> None:
    # the program starts without it (cli.entry); a server runs on and needs it
    root = make_project(tmp_path / "project")
    gc.disable()
    try:
        assert main(["--root", str(root), "serve", "--out", str(root / "claims" / "x")]) == 2
        assert gc.isenabled()
    finally:
        gc.enable()


def test_serve_frees_what_each_build_made(tmp_path: Path) -> None:
    # the program keeps a build's values until it exits (cache.held); a server runs on
    root = make_project(tmp_path / "project")
    cache.hold_until_exit(True)
    try:
        assert main(["--root", str(root), "serve", "--out", str(root / "claims" / "x")]) == 2
        kept = {"a build's value"}  # a set: a weak reference can follow it
        cache.held(kept)
        seen = weakref.ref(kept)
        del kept
        assert seen() is None
    finally:
        cache.hold_until_exit(False)
