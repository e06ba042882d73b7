"""What a check found, kept with the name of the registry's state (pipeline.run_all_checks,
snapshot.Step): a check one step on redoes only what the changed claim files can change,
and finds what a check without any cache finds, whatever the edit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import MakeSite, checked_afresh, claim_yaml, rewrite

from naltrexone_site import cache, checks, pipeline
from naltrexone_site.inputs import scan_inputs
from naltrexone_site.stages import Stages

COPY = claim_yaml(  # a second file with the same id: check_ids' errors, at its `id` line
    "blocks-receptors",
    "A copy of the blockade claim.",
    quote="Naltrexone blocks opioid receptors in the brain.",
)


def checked(root: Path) -> list[str]:
    """`check` with the build's cache: the kept registry patched, the kept checks used."""
    found = pipeline.check_project(root, Stages(), scan_inputs(root)).problems
    return sorted(map(str, found))


def _statement(root: Path, claim_id: str, statement: str) -> None:
    path = root / f"claims/{claim_id}.yaml"
    lines = path.read_text(encoding="utf-8").split("\n")
    (at,) = [i for i, line in enumerate(lines) if line.startswith("statement: ")]
    lines[at] = f'statement: "{statement}"'
    path.write_text("\n".join(lines), encoding="utf-8")


def _near(root: Path) -> None:  # nearly sleep-better's: the warning is at sleep-better's file
    _statement(root, "ldn-endorphins", "Some users report sleeping better on naltrexone too.")


def _apart(root: Path) -> None:  # and back apart: that warning must go
    _statement(root, "ldn-endorphins", "Low-dose naltrexone may raise endorphin levels.")


def _lost_quote(root: Path) -> None:  # the claim's own error
    rewrite(
        root / "claims/blocks-receptors.yaml",
        'quote: "Naltrexone blocks opioid receptors in the brain."',
        'quote: "Nothing like this is in the article at all."',
    )


def _found_quote(root: Path) -> None:
    rewrite(
        root / "claims/blocks-receptors.yaml",
        'quote: "Nothing like this is in the article at all."',
        'quote: "Naltrexone blocks opioid receptors in the brain."',
    )


def _copy_moved(root: Path) -> None:  # the copy's id now on line 3: its errors move there
    path = root / "claims/blocks-receptors-copy.yaml"
    path.write_text("# copied\n\n" + path.read_text(encoding="utf-8"), encoding="utf-8")


def _stood_in(root: Path) -> None:  # an unknown strength: made with a stand-in, searched not
    rewrite(root / "claims/sleep-better.yaml", "strength: anecdotal", "strength: bogus")


def _mended(root: Path) -> None:
    rewrite(root / "claims/sleep-better.yaml", "strength: bogus", "strength: anecdotal")


def _renamed(root: Path) -> None:  # another id: everything that names claims is redone
    rewrite(root / "claims/sleep-better.yaml", "id: sleep-better", "id: sleeps-better")


AGAIN = claim_yaml(  # sleep-better's statement in a file of its own: a near-duplicate
    "sleep-better-again",
    "Some users report sleeping better on naltrexone.",
    quote="Some users report better sleep.",
    kind="clinical-effect",
    mechanism="mood",
    strength="anecdotal",
)


def _added(root: Path) -> None:  # the claim with that statement is warned of it
    (root / "claims/sleep-better-again.yaml").write_text(AGAIN, encoding="utf-8")


def _removed(root: Path) -> None:  # a check that only removes a file names a new state
    (root / "claims/sleep-better-again.yaml").unlink()


def _named(root: Path) -> None:  # a claim not there: sleep-better is told so
    rewrite(
        root / "claims/sleep-better.yaml",
        "stance: supports\n",
        "stance: supports\nrelated: [better-sleep]\n",
    )


def _added_unread(root: Path) -> None:  # its file, which cannot be read: the name is known
    (root / "claims/better-sleep.yaml").write_text("id: better-sleep\nstatement: [\n")


def _added_named(root: Path) -> None:  # the claim read: still known
    text = AGAIN.replace("sleep-better-again", "better-sleep")
    (root / "claims/better-sleep.yaml").write_text(text, encoding="utf-8")


def _removed_named(root: Path) -> None:  # gone again: sleep-better is told so again
    (root / "claims/better-sleep.yaml").unlink()


def _touched(root: Path) -> None:
    path = root / "claims/fibro-pain.yaml"
    path.write_bytes(path.read_bytes())


STEPS: list[Callable[[Path], None]] = [
    _near,
    _touched,
    _apart,
    _lost_quote,
    _copy_moved,
    _found_quote,
    _near,
    _stood_in,
    _mended,
    _renamed,
    _apart,
    _added,
    _removed,
    _added,  # the same bytes again: its warning again
    _named,
    _added_unread,
    _added_named,
    _removed_named,
]


def test_a_check_one_step_on_finds_what_a_check_afresh_finds(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_site({"claims/blocks-receptors-copy.yaml": COPY})
    full: list[str] = []  # the checks with the cache that checked every claim's ids
    check_ids = checks.check_ids
    now = ["first"]

    def counted(ctx: checks.Context) -> object:
        full.append(now[0])
        return check_ids(ctx)

    def compared() -> list[str]:
        monkeypatch.setattr(checks, "check_ids", counted)
        found = checked(root)
        monkeypatch.setattr(checks, "check_ids", check_ids)
        assert found == checked_afresh(root, monkeypatch), now[0]
        return found

    compared()
    seen = set()
    for step in STEPS:
        now[0] = step.__name__
        step(root)
        seen.update(compared())
    # the steps made and unmade each kind of problem kept
    assert any("nearly the same as claim 'ldn-endorphins'" in p for p in seen)
    assert any("blocks-receptors-copy.yaml:3:" in p and "already used" in p for p in seen)
    assert any("the quote is not in source" in p for p in seen)
    assert any("nearly the same as claim 'sleep-better-again'" in p for p in seen)
    assert any("'better-sleep' is not a known claim" in p for p in seen)
    # only the first check and those after an id changed, came or went checked every id
    assert full == [
        "first",
        "_renamed",
        "_added",
        "_removed",
        "_added",
        "_added_unread",
        "_added_named",  # an id where the file gave none: the same name, as it happens
        "_removed_named",
    ]


def test_kept_checks_of_another_state_are_not_used(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a check keeps names the registry it checked: after a run that kept nothing
    (an edit the kept registry could not be patched for, a lost cache entry), the next
    check finds everything again."""
    root = make_site()
    checked(root)
    folder = cache.cache_dir(root)
    assert folder is not None
    for path in folder.glob(f"{pipeline.KEPT_CHECKS}-*.pickle"):
        path.unlink()
    _lost_quote(root)
    assert checked(root) == checked_afresh(root, monkeypatch)
    _found_quote(root)
    cache.save(root, pipeline.KEPT_CHECKS, (b"another state", object()))
    _near(root)
    assert checked(root) == checked_afresh(root, monkeypatch)
