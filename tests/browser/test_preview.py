"""The preview as an editor meets it in a browser: the open page reloads by itself when a
save is built, a bad save puts its problems in a banner over the last good page, and the
fix takes the banner away; with no console error, no request to another host, and the
banner within axe-core's WCAG 2.1 A and AA rules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import rewrite as save
from preview_support import WAIT, Running, make_project, preview_of

from .site_support import require_module, watch
from .test_accessibility import AXE_OPTIONS, Axe, describe

expect = require_module("playwright.sync_api", "playwright").expect

BUILT = WAIT * 1000  # ms: the most a rebuild and the page's reload may take


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    """A preview of a copy of the test project, watched in a thread."""
    with preview_of(make_project(tmp_path / "project"), tmp_path / "site") as preview:
        yield preview


def test_the_open_page_follows_every_save(new_context: Any, running: Running) -> None:
    url = running.url
    context = new_context()
    problems = watch(context, url)
    page = context.new_page()
    page.goto(url + "claims/base-claim.html", wait_until="load")
    statement = page.locator("h1.statement")
    expect(statement).to_have_text("Naltrexone is an opioid antagonist.")
    claim = running.preview.root / "claims" / "base-claim.yaml"

    save(claim, "is an opioid antagonist.", "blocks opioid receptors.")
    expect(statement).to_have_text("Naltrexone blocks opioid receptors.", timeout=BUILT)

    save(claim, "dose: unspecified", "dose: ldn")
    banner = page.locator("#serve-problems")
    expect(banner).to_contain_text("'ldn' is not a known dose", timeout=BUILT)
    expect(banner).to_contain_text("Showing the last good site")
    expect(statement).to_have_text("Naltrexone blocks opioid receptors.")
    found = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    assert not found, describe(found)

    save(claim, "dose: ldn", "dose: low")
    expect(banner).to_have_count(0, timeout=BUILT)
    expect(statement).to_have_text("Naltrexone blocks opioid receptors.")
    assert problems.problems() == []


def test_a_hidden_page_lets_go_of_its_question_and_asks_again_when_shown(
    new_context: Any, running: Running, capsys: pytest.CaptureFixture[str]
) -> None:
    """A browser keeps six connections to one host, and each question held by the server
    takes one: a page in a background tab gives its up (the server's answer then finds
    the connection gone, and prints nothing of it)."""
    url = running.url
    context = new_context()
    problems = watch(context, url)
    page = context.new_page()
    asked: list[str] = []
    let_go: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/__reload" in r.url else None)
    page.on("requestfailed", lambda r: let_go.append(r.url) if "/__reload" in r.url else None)
    page.goto(url + "claims/base-claim.html", wait_until="load")
    expect(page.locator("h1.statement")).to_have_text("Naltrexone is an opioid antagonist.")
    page.wait_for_timeout(500)
    assert len(asked) == 1 and not let_go

    shown = (  # as a browser does when its tab goes to the background, and comes back
        "(hidden) => { Object.defineProperty(document, 'hidden', {value: hidden, "
        "configurable: true}); document.dispatchEvent(new Event('visibilitychange')); }"
    )
    page.evaluate(shown, True)
    page.wait_for_timeout(500)
    assert len(asked) == 1 and len(let_go) == 1
    page.evaluate(shown, False)
    page.wait_for_timeout(500)
    assert len(asked) == 2 and len(let_go) == 1

    claim = running.preview.root / "claims" / "base-claim.yaml"
    save(claim, "is an opioid antagonist.", "blocks opioid receptors.")
    expect(page.locator("h1.statement")).to_have_text(
        "Naltrexone blocks opioid receptors.", timeout=BUILT
    )
    assert problems.problems() == []
    assert "Traceback" not in capsys.readouterr().err
