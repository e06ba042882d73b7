"""When each claim changed and why: one `git log` pass over the whole registry.

The build calls `claim_history(root)` once and looks claims up in the mapping, so the
cost is one process however many claims there are. Without git, outside a repository,
or when git fails for any reason, the mapping is empty and pages simply omit history.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

SHORT = 10  # hex digits of a commit shown and linked; fixed so output does not drift
_RECORD, _UNIT = "\x1e", "\x1f"
# one line of --name-status: the change's letter (A added, M modified, D deleted, ...) and path
_CLAIM_PATH = re.compile(r"^([A-Z])[0-9]*\tclaims/([a-z0-9]+(?:-[a-z0-9]+)*)\.yaml$")
# Settings that would change git's output; pinned so the result depends on the repository only.
_PINNED = (
    "-c", "core.quotepath=off",
    "-c", "log.showSignature=false",
    "-c", "log.follow=false",
    "-c", "log.mailmap=false",
)  # fmt: skip


class Change(NamedTuple):
    """One commit that touched a claim file."""

    date: str  # committer date, YYYY-MM-DD: when the change landed
    commit: str  # the first SHORT hex digits of the commit hash
    subject: str  # the commit message's first line
    added: bool = False  # the commit added the file: pages say so rather than show its subject


History = Mapping[str, tuple[Change, ...]]


def claim_history(root: Path, timeout: float = 60.0) -> dict[str, tuple[Change, ...]]:
    """Every claim id under `root/claims/` -> the commits that touched its file, newest first.

    Paths are taken relative to `root`, so a project inside a larger repository works too.
    """
    command = [
        "git", *_PINNED, "log", "--no-color", "--no-renames", "--relative", "--name-status",
        f"--format={_RECORD}%H{_UNIT}%cs{_UNIT}%s", "--", "claims/",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["LC_ALL"] = "C"
    try:
        run = subprocess.run(
            command,
            cwd=root,
            env=env,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):  # no git, no folder, or too slow
        return {}
    if run.returncode != 0:  # not a repository, or one without commits
        return {}
    return parse_log(run.stdout.decode("utf-8", errors="replace"))


def parse_log(output: str) -> dict[str, tuple[Change, ...]]:
    """Parse the log written by `claim_history`'s format. Order is git's: newest first."""
    found: dict[str, list[Change]] = {}
    for record in output.split(_RECORD):
        head, _, names = record.partition("\n")
        fields = head.split(_UNIT, 2)
        if len(fields) != 3:
            continue
        full, date, subject = fields
        for name in sorted(set(names.split("\n"))):
            match = _CLAIM_PATH.match(name.strip())
            if match:
                added = match.group(1) == "A"
                change = Change(date, full[:SHORT], subject.strip(), added)
                found.setdefault(match.group(2), []).append(change)
    return {claim: tuple(changes) for claim, changes in sorted(found.items())}


def last_changed(changes: Sequence[Change]) -> str | None:
    """The most recent date among a claim's changes (None when it has none)."""
    return max((c.date for c in changes), default=None)


def head(root: Path, timeout: float = 10.0) -> str:
    """The commit checked out at `root` and, in a shallow clone, where its history is cut;
    "" without git or a repository. A build whose files are unchanged must still run again
    when a commit, or `git fetch --deepen` or `--unshallow`, changed claim histories."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    try:
        run = subprocess.run(
            ["git", "rev-parse", "HEAD", "--git-path", "shallow"],
            cwd=root,
            env=env,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    if run.returncode != 0:  # not a repository, or one without commits
        return ""
    commit, _, shallow = run.stdout.decode("utf-8", errors="replace").partition("\n")
    try:  # the commits where a shallow clone's history stops; no file when it is whole
        cut = (root / shallow.strip()).read_text(encoding="ascii", errors="replace")
    except OSError:
        cut = ""
    return f"{commit.strip()}\n{cut}"
