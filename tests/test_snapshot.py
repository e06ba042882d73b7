"""The registry kept loaded and anchored between builds (snapshot.py): patched for the
claim files that changed, it is what loading everything again gives, whatever the edit;
a lost, damaged or foreign part of it only makes the build load everything."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import MakeSite, claim_yaml, rewrite

from naltrexone_site import cache, pipeline, snapshot
from naltrexone_site.inputs import scan_inputs
from naltrexone_site.pipeline import Anchored
from naltrexone_site.stages import Stages


def loaded(root: Path) -> Anchored:
    """The registry loaded and anchored as a build does, with the build's cache."""
    with pipeline.anchor_project(root, Stages(), scan_inputs(root)) as anchored:
        return anchored


def assert_as_loaded_afresh(root: Path, kept: Anchored, monkeypatch: pytest.MonkeyPatch) -> None:
    """`kept` is what loading and anchoring every file without a cache gives."""
    with monkeypatch.context() as m:
        m.setenv("NALTREXONE_SITE_CACHE", "0")
        fresh = loaded(root)
    a, b = kept.context, fresh.context
    assert a is not None and b is not None
    assert a.registry == b.registry
    assert a.anchored == b.anchored
    assert a.coverage == b.coverage
    assert dict(a.digests) == dict(b.digests)
    assert a.flat == b.flat
    assert (a.claim_files, a.source_files) == (b.claim_files, b.source_files)
    assert {k: t.body for k, t in a.texts.items()} == {k: t.body for k, t in b.texts.items()}
    assert sorted(kept.problems, key=str) == sorted(fresh.problems, key=str)


@pytest.fixture
def patches(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """From now on, for each load: whether the kept registry was patched."""
    taken: list[bool] = []
    patched = snapshot.patched

    def recorded(*args: object) -> object:
        found = patched(*args)  # type: ignore[arg-type]
        taken.append(found is not None)
        return found

    monkeypatch.setattr(snapshot, "patched", recorded)
    return taken


def kept_files(root: Path) -> Iterator[Path]:
    folder = cache.cache_dir(root)
    assert folder is not None
    return folder.glob(f"{snapshot.BASE}-*.pickle")


def base_file(root: Path) -> Path:
    (found,) = [p for p in kept_files(root) if not p.name.startswith(snapshot.CHANGES)]
    return found


def changes_file(root: Path) -> Path:
    folder = cache.cache_dir(root)
    assert folder is not None
    (found,) = folder.glob(f"{snapshot.CHANGES}-*.pickle")
    return found


QUOTE = "Naltrexone blocks opioid receptors in the brain."
Edit = Callable[[Path], None]


def _statement(root: Path) -> None:
    rewrite(root / "claims/blocks-receptors.yaml", 'brain."\nkind', 'brain, it says."\nkind')


def _quote(root: Path) -> None:  # the quote no longer found: the source's coverage changes
    rewrite(root / "claims/blocks-receptors.yaml", f'quote: "{QUOTE}"', "quote: Nothing like it.")


def _broken(root: Path) -> None:  # a claim that cannot be made: loading's problem instead
    (root / "claims/blocks-receptors.yaml").write_text("id: [blocks-receptors\n", encoding="utf-8")


def _new_claim_in_old_file(root: Path) -> None:
    text = claim_yaml("blocks-receptors", "Naltrexone blocks opioid receptors.", quote=QUOTE)
    (root / "claims/blocks-receptors.yaml").write_text(text, encoding="utf-8")


def _touched(root: Path) -> None:  # saved again, the same bytes
    path = root / "claims/blocks-receptors.yaml"
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 5_000_000_000))


def _another(root: Path) -> None:
    for path in sorted((root / "claims").glob("*.yaml")):
        if path.name != "blocks-receptors.yaml":
            text = path.read_text(encoding="utf-8")
            path.write_text(text.replace("statement: ", "statement: Also, ", 1), encoding="utf-8")
            return


def _two(root: Path) -> None:
    _statement(root)
    _another(root)


NEW = "claims/new-claim.yaml"


def _added(root: Path) -> None:
    text = claim_yaml("new-claim", "Naltrexone is a new claim here.", quote=QUOTE)
    (root / NEW).write_text(text, encoding="utf-8")


def _added_first(root: Path) -> None:  # before every other file: the order of the claims
    text = claim_yaml("aaa-first", "Naltrexone comes first here.", quote=QUOTE)
    (root / "claims/aaa-first.yaml").write_text(text, encoding="utf-8")


def _added_broken(root: Path) -> None:  # a file that gives no claim: loading's problem
    (root / "claims/broken-new.yaml").write_text("id: [oops\n", encoding="utf-8")


def _removed(root: Path) -> None:
    (root / "claims/blocks-receptors.yaml").unlink()


def _removed_new(root: Path) -> None:  # the file added since the base, gone again
    (root / NEW).unlink()


_kept_text: dict[str, str] = {}


def _removed_keeping(root: Path) -> None:
    path = root / "claims/blocks-receptors.yaml"
    _kept_text["blocks-receptors"] = path.read_text(encoding="utf-8")
    path.unlink()


def _put_back(root: Path) -> None:  # the same bytes as the base's, a new stat
    text = _kept_text["blocks-receptors"]
    (root / "claims/blocks-receptors.yaml").write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    "edits",
    [
        [_statement],
        [_quote],
        [_broken],
        [_broken, _new_claim_in_old_file],
        [_touched],
        [_statement, _touched, _quote],
        [_two],
        [_statement, _another],
        [_added],
        [_added_first],
        [_added_broken],
        [_removed],
        [_added, _statement, _removed_new],
        [_added, _removed, _added_first],
        [_removed_keeping, _put_back],
        [_added_broken, _removed],
    ],
    ids=[
        "statement",
        "quote",
        "broken",
        "broken-then-mended",
        "touched",
        "three-builds",
        "two",
        "one-then-another",
        "added",
        "added-first",
        "added-broken",
        "removed",
        "added-edited-removed",
        "added-removed-added",
        "removed-put-back",
        "broken-added-then-one-removed",
    ],
)
def test_a_patched_registry_is_the_registry_loaded_again(
    edits: list[Edit],
    make_site: MakeSite,
    patches: list[bool],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = make_site()
    loaded(root)  # the first load keeps it
    for edit in edits:
        edit(root)
        kept = loaded(root)
        assert patches[-1], f"{edit.__name__}: the kept registry was not patched"
        assert_as_loaded_afresh(root, kept, monkeypatch)


def test_an_edit_undone_leaves_nothing_to_patch(make_site: MakeSite) -> None:
    root = make_site()
    path = root / "claims/blocks-receptors.yaml"
    before = path.read_text(encoding="utf-8")
    loaded(root)
    _statement(root)
    loaded(root)
    base = base_file(root).stat()
    path.write_text(before, encoding="utf-8")
    loaded(root)
    kept = cache.load(root, snapshot.CHANGES)
    assert isinstance(kept, snapshot.Changes)
    assert kept.entries == {}  # only the new stat is kept: the bytes are the base's
    assert list(kept.inputs) == ["claims/blocks-receptors.yaml"]
    assert base_file(root).stat().st_mtime_ns == base.st_mtime_ns


def test_a_one_claim_edit_writes_only_the_changes(make_site: MakeSite, patches: list[bool]) -> None:
    root = make_site()
    loaded(root)
    base = base_file(root).stat()
    _statement(root)
    loaded(root)
    assert patches == [False, True]
    assert (base_file(root).stat().st_ino, base_file(root).stat().st_mtime_ns) == (
        base.st_ino,
        base.st_mtime_ns,
    )
    kept = cache.load(root, snapshot.CHANGES)
    assert isinstance(kept, snapshot.Changes)
    assert list(kept.entries) == ["claims/blocks-receptors.yaml"]


def test_past_most_changes_the_base_is_written_again(
    make_site: MakeSite, patches: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot, "MOST", 1)
    root = make_site()
    loaded(root)
    stamp = cache.load(root, snapshot.BASE).stamp
    _two(root)
    kept = loaded(root)
    assert patches == [False, True]
    assert cache.load(root, snapshot.BASE).stamp != stamp  # a new base, with both
    assert cache.load(root, snapshot.CHANGES) is None
    assert_as_loaded_afresh(root, kept, monkeypatch)
    _quote(root)
    kept = loaded(root)
    assert patches[-1]  # patched from the new base
    assert_as_loaded_afresh(root, kept, monkeypatch)


def test_changes_kept_for_another_base_are_not_applied(
    make_site: MakeSite, patches: list[bool], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A build stopped between writing a new base and its changes, or two builds at once,
    could leave the changes of one base beside another: they are recognised and left out,
    and the files they covered read again."""
    root = make_site()
    loaded(root)
    _quote(root)
    loaded(root)
    old_changes = tmp_path / "changes.pickle"
    shutil.copy(changes_file(root), old_changes)
    rewrite(root / "content/sources/other-article.md", "title: ", "title: The ")
    loaded(root)  # a source changed: all loaded again, a new base
    assert patches == [False, True, False]
    shutil.copy(old_changes, changes_file(root).with_name(changes_file(root).name))
    _statement(root)
    kept = loaded(root)
    assert patches[-1]
    assert_as_loaded_afresh(root, kept, monkeypatch)


@pytest.mark.parametrize("part", ["base", "changes"])
def test_a_damaged_snapshot_is_only_a_slower_load(
    part: str, make_site: MakeSite, patches: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_site()
    loaded(root)
    _statement(root)
    loaded(root)
    path = base_file(root) if part == "base" else changes_file(root)
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    _quote(root)
    kept = loaded(root)
    assert patches[-1] is (part == "changes")  # without its base, everything is loaded
    assert_as_loaded_afresh(root, kept, monkeypatch)


@pytest.mark.parametrize(
    "change",
    ["misnamed", "folder", "source", "source removed", "taxonomy"],
)
def test_anything_but_a_claim_file_changed_loads_everything(
    change: str, make_site: MakeSite, patches: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_site()
    loaded(root)
    if change == "misnamed":  # said by loading, which the patch does not do
        text = claim_yaml("new-claim", "Naltrexone is a new claim here.", quote=QUOTE)
        (root / "claims/new-claim.yml").write_text(text, encoding="utf-8")
    elif change == "folder":
        (root / "claims/more").mkdir()
        text = claim_yaml("new-claim", "Naltrexone is a new claim here.", quote=QUOTE)
        (root / "claims/more/new-claim.yaml").write_text(text, encoding="utf-8")
    elif change == "source removed":
        (root / "content/sources/other-article.md").unlink()
    elif change == "source":
        rewrite(root / "content/sources/demo-article.md", "title: ", "title: The ")
    else:
        path = next((root / "content/taxonomy").glob("*.yaml"))
        path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    kept = loaded(root)
    assert patches == [False, False]
    assert_as_loaded_afresh(root, kept, monkeypatch)
