"""Fixtures for the browser tests: the site built once from the real registry, served on
127.0.0.1, and Debian's chromium for pytest-playwright.

On a machine without chromium, java or the Nu checker jar these tests skip with the
reason; with CI=true they fail instead, so CI cannot pass by skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .site_support import REPO_ROOT, load_script, missing_tool, require_chromium

sitetools = load_script("sitetools")


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real registry built once with `python build.py build --out DIR`.

    TEST_SITE_DIR=path reuses a site built beforehand (a quicker loop while editing
    templates); CI never sets it."""
    prebuilt = os.environ.get("TEST_SITE_DIR")
    if prebuilt:
        if not (Path(prebuilt) / "index.html").is_file():
            pytest.fail(f"TEST_SITE_DIR={prebuilt} holds no index.html", pytrace=False)
        return Path(prebuilt).resolve()
    out = tmp_path_factory.mktemp("built") / "site"
    done = sitetools.build_site(out, REPO_ROOT)
    if done.returncode != 0 or not (out / "index.html").is_file():
        pytest.fail(
            f"`python build.py build --out {out}` exited {done.returncode} "
            f"(index.html {'present' if (out / 'index.html').is_file() else 'missing'})\n"
            f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}",
            pytrace=False,
        )
    return out


@pytest.fixture(scope="session")
def site_url(built_site: Path) -> Iterator[str]:
    """Base URL (ending in '/') of the built site served over http on 127.0.0.1."""
    with sitetools.serve_site(built_site) as url:
        yield url


@pytest.fixture(scope="session")
def site_pages(built_site: Path) -> list[str]:
    """Every HTML page of the built site (site-relative paths)."""
    pages: list[str] = sitetools.html_pages(built_site)
    assert pages, "the build produced no HTML page"
    return pages


# ------------------------------------------------------------ pytest-playwright settings


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """Debian's chromium with the flags a closed-network, root CI machine needs."""
    require_chromium()
    args: dict[str, Any] = sitetools.launch_args()
    return args


@pytest.fixture(scope="session")
def browser_context_args() -> dict[str, Any]:
    """Playwright's defaults (a 1280 x 720 viewport); each test passes what it varies."""
    return {}


try:
    import pytest_playwright  # noqa: F401  (the plugin provides page, new_context, ...)
except ImportError:  # without the test extra: skip (fail in CI) instead of a fixture error

    @pytest.fixture
    def page() -> None:
        missing_tool("Python package 'pytest-playwright' is not installed")

    @pytest.fixture
    def new_context() -> None:
        missing_tool("Python package 'pytest-playwright' is not installed")
