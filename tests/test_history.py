"""Claim history: one `git log` for the whole registry, parsed into commits per claim."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import MakeSite, RunBuild

from naltrexone_site import history
from naltrexone_site.history import Change, claim_history, last_changed, parse_log


class Repo:
    """A throwaway git repository whose commits have fixed dates, so hashes are fixed too."""

    def __init__(self, top: Path) -> None:
        self.top = top
        top.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, date: str = "2026-01-01T12:00:00+00:00") -> str:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
            "GIT_AUTHOR_NAME": "Editor",
            "GIT_AUTHOR_EMAIL": "editor@example.org",
            "GIT_COMMITTER_NAME": "Editor",
            "GIT_COMMITTER_EMAIL": "editor@example.org",
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_DATE": date,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        run = subprocess.run(
            ["git", *args], cwd=self.top, env=env, capture_output=True, text=True, check=True
        )
        return run.stdout.strip()

    def commit(self, message: str, date: str, files: dict[str, str | None]) -> str:
        for name, text in files.items():
            path = self.top / name
            if text is None:
                self.git("rm", "-q", name)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            self.git("add", name)
        self.git("commit", "-q", "-m", message, date=date)
        return self.git("rev-parse", "HEAD")[: history.SHORT]


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


def test_history_per_claim_newest_first(repo: Repo) -> None:
    first = repo.commit(
        "Add two claims",
        "2026-01-02T09:00:00+00:00",
        {"claims/alpha.yaml": "id: alpha\n", "claims/beta.yaml": "id: beta\n"},
    )
    second = repo.commit(
        "Regrade alpha: no study is named",
        "2026-02-03T10:00:00+00:00",
        {"claims/alpha.yaml": "id: alpha\nstrength: unsupported\n"},
    )
    repo.commit("Tidy the README", "2026-02-04T10:00:00+00:00", {"README.md": "x\n"})
    third = repo.commit(
        "Merge beta into alpha",
        "2026-03-04T11:30:00+00:00",
        {"claims/alpha.yaml": "id: alpha\n# merged\n", "claims/beta.yaml": None},
    )
    found = claim_history(repo.top)
    assert found == {
        "alpha": (
            Change("2026-03-04", third, "Merge beta into alpha"),
            Change("2026-02-03", second, "Regrade alpha: no study is named"),
            Change("2026-01-02", first, "Add two claims", added=True),
        ),
        "beta": (
            Change("2026-03-04", third, "Merge beta into alpha"),
            Change("2026-01-02", first, "Add two claims", added=True),
        ),
    }
    assert last_changed(found["alpha"]) == "2026-03-04"
    assert last_changed(()) is None
    assert claim_history(repo.top) == found  # deterministic


def test_only_claim_files_count(repo: Repo) -> None:
    sha = repo.commit(
        "Files that are not claims",
        "2026-01-02T09:00:00+00:00",
        {
            "claims/README.md": "notes\n",
            "claims/drafts/gamma.yaml": "id: gamma\n",
            "claims/Upper.yaml": "id: upper\n",
            "content/sources/delta.md": "---\n",
            "claims/ok.yaml": "id: ok\n",
        },
    )
    assert claim_history(repo.top) == {
        "ok": (Change("2026-01-02", sha, "Files that are not claims", added=True),)
    }


def test_a_project_inside_a_larger_repository(repo: Repo) -> None:
    sha = repo.commit(
        "Add a claim to the sub-project",
        "2026-05-06T07:08:09+00:00",
        {"site/claims/one.yaml": "id: one\n", "claims/other.yaml": "id: other\n"},
    )
    assert claim_history(repo.top / "site") == {
        "one": (Change("2026-05-06", sha, "Add a claim to the sub-project", added=True),)
    }


def test_the_committer_date_is_the_date_shown(repo: Repo) -> None:
    repo.commit("Add", "2026-01-02T09:00:00+00:00", {"claims/one.yaml": "id: one\n"})
    (repo.top / "claims/one.yaml").write_text("id: one\n# edited\n")
    repo.git("add", "claims/one.yaml")
    env_date = "2026-07-08T00:00:00+00:00"
    subprocess.run(
        ["git", "commit", "-q", "-m", "Edit, landed later"],
        cwd=repo.top,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "A",
            "GIT_AUTHOR_EMAIL": "a@example.org",
            "GIT_COMMITTER_NAME": "C",
            "GIT_COMMITTER_EMAIL": "c@example.org",
            "GIT_AUTHOR_DATE": "2026-01-03T00:00:00+00:00",
            "GIT_COMMITTER_DATE": env_date,
            "GIT_CONFIG_GLOBAL": os.devnull,
        },
        check=True,
    )
    assert claim_history(repo.top)["one"][0].date == "2026-07-08"


def test_outside_a_repository_the_history_is_empty(tmp_path: Path) -> None:
    (tmp_path / "claims").mkdir()
    (tmp_path / "claims" / "one.yaml").write_text("id: one\n")
    assert claim_history(tmp_path) == {}
    assert claim_history(tmp_path / "missing-folder") == {}


def test_a_repository_without_commits_has_empty_history(repo: Repo) -> None:
    assert claim_history(repo.top) == {}


def test_without_git_the_history_is_empty(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.commit("Add", "2026-01-02T09:00:00+00:00", {"claims/one.yaml": "id: one\n"})
    empty = tmp_path / "no-git-here"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert claim_history(repo.top) == {}


def test_one_git_process_for_the_whole_registry(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.commit(
        "Add many claims",
        "2026-01-02T09:00:00+00:00",
        {f"claims/claim-{n}.yaml": f"id: claim-{n}\n" for n in range(50)},
    )
    calls: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(*args: object, **kwargs: object) -> object:
        calls.append(list(args[0]))  # type: ignore[call-overload]
        return real_run(*args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(subprocess, "run", counting_run)
    found = claim_history(repo.top)
    assert len(found) == 50
    assert len(calls) == 1 and "log" in calls[0]


def test_parse_log_skips_garbage() -> None:
    output = (
        "\x1e" + "a" * 40 + "\x1f2026-01-02\x1fSubject with \x1f inside\n\nM\tclaims/one.yaml\n"
        "\x1enot a record\n\x1e"
    )
    assert parse_log(output) == {
        "one": (Change("2026-01-02", "a" * 10, "Subject with \x1f inside"),)
    }


def test_claim_pages_show_when_each_claim_changed_and_why(
    make_site: MakeSite, run_build: RunBuild, tmp_path: Path
) -> None:
    """One `git log` feeds every claim page; a new commit, even one that only rewords the
    last commit's subject, reaches the pages on the next build."""
    root = make_site()
    claim = sorted((root / "claims").glob("*.yaml"))[0]
    other = sorted((root / "claims").glob("*.yaml"))[1]
    repo = Repo(root)
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "Add the registry", date="2026-03-01T09:00:00+00:00")
    claim.write_text(claim.read_text(encoding="utf-8") + "reviewed: 2026-03-02\n")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "Review <one> claim", date="2026-03-02T09:00:00+00:00")
    out = tmp_path / "site"

    assert run_build(root, out).code == 0
    page = (out / "claims" / f"{claim.stem}.html").read_text(encoding="utf-8")
    assert "<dt>Last changed</dt><dd>2026-03-02" in page
    assert "Review &lt;one&gt; claim" in page  # escaped, like every value from outside
    # the commit that added the file is named for what it did, not by its subject, which
    # was written for the developers of a whole batch ("WIP: ...")
    assert page.index("Review &lt;one&gt; claim") < page.index("Added to the registry")
    assert "Add the registry" not in page
    head = repo.git("rev-parse", "HEAD")[: history.SHORT]
    assert f'/commit/{head}"' in page
    untouched = (out / "claims" / f"{other.stem}.html").read_text(encoding="utf-8")
    assert "<dt>Last changed</dt><dd>2026-03-01" in untouched
    assert "Review &lt;one&gt; claim" not in untouched

    repo.git("commit", "-q", "--amend", "-m", "Review a claim", date="2026-03-02T09:00:00+00:00")
    assert run_build(root, out).code == 0
    page = (out / "claims" / f"{claim.stem}.html").read_text(encoding="utf-8")
    assert "Review a claim" in page and "Review &lt;one&gt; claim" not in page


def test_outside_a_repository_claim_pages_have_no_history(
    make_site: MakeSite, run_build: RunBuild, tmp_path: Path
) -> None:
    root = make_site()
    assert run_build(root, tmp_path / "site").code == 0
    for page in (tmp_path / "site" / "claims").glob("*.html"):
        assert 'id="history"' not in page.read_text(encoding="utf-8")


def test_a_shallow_clone_deepened_builds_the_history_again(
    make_site: MakeSite, run_build: RunBuild, tmp_path: Path
) -> None:
    """CI often clones one commit deep. `git fetch --unshallow` brings the claims' history
    without moving HEAD or touching a file, and the pages must show it all the same."""
    root = make_site()
    claim = sorted((root / "claims").glob("*.yaml"))[0]
    repo = Repo(root)
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "Add the registry", date="2026-03-01T09:00:00+00:00")
    claim.write_text(claim.read_text(encoding="utf-8") + "reviewed: 2026-03-02\n")
    repo.git("commit", "-q", "-am", "Review one claim", date="2026-03-02T09:00:00+00:00")
    clone = Repo(tmp_path / "clone")  # `git init` there, then the clone's own fetch
    clone.git("fetch", "-q", "--depth", "1", root.as_uri(), "main")
    clone.git("reset", "-q", "--hard", "FETCH_HEAD")
    out = tmp_path / "site"
    page = out / "claims" / f"{claim.stem}.html"

    assert run_build(clone.top, out).code == 0
    assert "Review one claim" not in page.read_text(encoding="utf-8")  # only the last commit

    clone.git("fetch", "-q", "--unshallow", root.as_uri(), "main")
    built = run_build(clone.top, out)
    assert built.code == 0 and "nothing to do" not in built.out
    shown = page.read_text(encoding="utf-8")
    assert "Review one claim" in shown and "<dd>2026-03-02" in shown
