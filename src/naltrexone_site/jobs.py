"""The files of a site as jobs: where each goes, the key of what it holds (pagekeys.py),
a rough cost, and how to make its bytes; and making them, across cores when there are
many, straight into the staging folder (so no process holds the whole site in memory).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import cache, exports, parallel, render, sitepatch
from .checks import Context
from .downloads import PATHS, Downloads
from .history import claim_history
from .inputs import SCHEMAS, TEMPLATES
from .output import Content, Spliced, Staging, check_paths
from .pagekeys import Keys, build_key, claim_versions, digest
from .pages import Site, analyse
from .render import CLAIM_TEMPLATE, Renderer, Spec, claim_path, claim_spec
from .sitepatch import Analysed

if TYPE_CHECKING:
    from .snapshot import Earlier

PARALLEL_FROM = 400  # files to make; below this, forking workers costs more than it saves
FORK_COST = 1000  # in COSTS' units: below this, a job made beside the rest costs more than it saves
_BATCH = 256  # files written at a time
_BIG = 1 << 20  # bytes: a file this large is written at once
# Rough cost of a page, rendered and written, in tenths of a claim page (about 90 us),
# measured at 10,000 claims: what splits the work evenly between processes.
COSTS = {
    CLAIM_TEMPLATE: 10,
    "list.html": 90,
    "source-claims.html": 160,
    "browse.html": 400,
    "conflicts.html": 570,
    "mechanism.html": 180,
    "source.html": 700,
    "index.html": 3000,
    "dose.html": 3000,
    "dose-ranges.html": 150,
}


@dataclass(frozen=True)
class Plan:
    """Every file of the site by its key, the jobs that make those whose key is not the
    last build's, the last build's files that are gone, and the build key (see
    pagekeys.build_key)."""

    keys: dict[str, bytes]  # output path -> key of what it shows
    jobs: list[Job]  # the stale files' (a file whose key is the last build's has none)
    removed: list[str]
    build: bytes
    claims: int
    sources: int
    prepare: Callable[[], None]  # what every job needs, done once before work is split
    analysed: Analysed  # kept for the next build to patch (snapshot.py)


def plan(
    root: Path,
    ctx: Context,
    known_paths: set[str] | None,
    build: bytes | None = None,
    ahead: Ahead | None = None,
    earlier: Earlier | None = None,
) -> Plan:
    """Analyse the checked registry and list the site's files. `known_paths`: the paths
    of the last build, already checked for clashes; `build`: the build key, when no file
    it depends on changed since it was worked out; `ahead` starts the downloads as soon
    as they can be made; `earlier`: an earlier analysis to patch (sitepatch.py)."""
    history = claim_history(root)
    analysed = sitepatch.patched(earlier, ctx, history) if earlier is not None else None
    if analysed is None:
        site = analyse(ctx, history)  # group, derive marks and conflicts
        versions = claim_versions(site.claims.values(), site.marks, ctx.digests, site.history)
        analysed = Analysed(site, versions)
    site, versions = analysed.site, analysed.versions
    if build is None:
        build = build_key(cache.code_fingerprint(), root / TEMPLATES, site)
    old = valid_keys(ahead.old, ahead.old_build, build) if ahead is not None else {}
    current = (ahead.out, old) if ahead is not None and old else None  # a site built there
    made = Downloads(root, site, versions, build, current)
    downloads = Job(PATHS, made.key, made.cost, made.files, alone=True)
    if ahead is not None:
        ahead.start(downloads, build)
    compiled = cache.folder(root, "templates")
    renderer = Renderer(site, versions, build, root / TEMPLATES, compiled, root)
    keys = Keys(versions, site.marks)
    listed, jobs = _jobs(root, site, renderer, keys, downloads, old)
    keys.forget()  # the build runs without the cycle collector: let go of the memo now
    files = dict(listed)
    if known_paths is None or known_paths != files.keys() or len(files) != len(listed):
        check_paths([path for path, _ in listed])  # no two files at one path, none outside
    removed = sorted(old.keys() - files.keys())
    # made before the work is split, so that no process makes them again
    prepare = partial(render.prepare, renderer.env)
    return Plan(files, jobs, removed, build, len(site.claims), len(site.sources), prepare, analysed)


@dataclass(frozen=True, slots=True)  # one per page: no __dict__ each
class Job:
    """Output files made together (mostly one): where they go, the key of what they
    hold, a rough cost to split work evenly, and how to make their bytes, one file at a
    time (so a large file is written and freed before the next is made)."""

    paths: tuple[str, ...]
    key: bytes
    cost: int
    make: Callable[[], Iterator[tuple[str, Content]]]
    # Made in a process of its own when the work is split: it holds a row of every claim
    # (200 MB at 100,000 claims), which on top of a share of the pages' caches made the
    # largest process of the build.
    alone: bool = False


def _jobs(
    root: Path,
    site: Site,
    renderer: Renderer,
    keys: Keys,
    downloads: Job,
    old: Mapping[str, bytes],
) -> tuple[list[tuple[str, bytes]], list[Job]]:
    """Every file with its key, and the jobs of the stale ones: those whose key is not in
    `old` (the last build's keys). A page's job is made only then: a one-claim rebuild at
    10,000 claims makes two or three of them, where listing them all took 0.07 s."""
    pages = renderer.pages()
    specs = pages.specs()
    page_keys = [keys.page(s.template, s.path, s.nav, s.context) for s in specs]
    page_jobs = [
        Job((spec.path,), key, COSTS.get(spec.template, 50), _renders(renderer, spec))
        for spec, key in zip(specs, page_keys, strict=True)
        if old.get(spec.path) != key
    ]
    # Claim pages after them: the process that renders the source pages (the first run)
    # then knows which passages have ids on them from rendering the articles, instead of
    # parsing every article again for its claim pages (0.85 s at 100,000 claims).
    claim_pages = [(claim_path(claim), keys.claim_page(claim)) for claim in pages.claims]
    claim_jobs = [
        Job((path,), key, COSTS[CLAIM_TEMPLATE], _renders(renderer, claim_spec(claim)))
        for claim, (path, key) in zip(pages.claims, claim_pages, strict=True)
        if old.get(path) != key
    ]
    others = [downloads]  # the files that are not pages
    paths = pages.paths([path for path, _ in claim_pages])  # as the sitemap lists them
    base = site.registry.settings.base_url
    key = digest(base.encode(), *(p.encode() for p in paths))
    sitemap = exports.sitemap_files(base, paths)  # one, or an index and its parts

    def sitemaps() -> Iterator[tuple[str, Content]]:
        return ((p, text.encode("utf-8")) for p, text in exports.sitemaps(site, paths))

    others.append(Job(sitemap, key, len(paths) // 10, sitemaps))
    others.append(Job(("robots.txt",), base.encode(), 1, _made("robots.txt", exports.robots, site)))
    for path, data in assets(root):
        others.append(Job((path,), digest(data), 1, _constant(path, data)))
    listed = [
        *((spec.path, key) for spec, key in zip(specs, page_keys, strict=True)),
        *claim_pages,
        *((path, job.key) for job in others for path in job.paths),
    ]
    return listed, page_jobs + claim_jobs + [job for job in others if stale(job, old)]


def _renders(renderer: Renderer, spec: Spec) -> Callable[[], Iterator[tuple[str, Content]]]:
    return lambda: iter(((spec.path, renderer.render(spec).encode("utf-8")),))


def _made(
    path: str, make: Callable[..., str], *args: Any
) -> Callable[[], Iterator[tuple[str, Content]]]:
    return lambda: iter(((path, make(*args).encode("utf-8")),))


def _constant(path: str, data: bytes) -> Callable[[], Iterator[tuple[str, Content]]]:
    return lambda: iter(((path, data),))


def valid_keys(
    old: Mapping[str, bytes] | None, old_build: bytes | None, build: bytes
) -> Mapping[str, bytes]:
    """The last build's page keys, if it had this build key; else none (new templates,
    taxonomy, sources or code: every page is new)."""
    return old if old is not None and old_build == build else {}


def stale(job: Job, old: Mapping[str, bytes]) -> bool:
    """Whether the job's files must be made again: one of them shows something new."""
    return any(old.get(path) != job.key for path in job.paths)


class Ahead:
    """The downloads, made in a child process from the moment the analysis is done while
    this one lists the pages and renders them, when made whole (0.1 s at 10,000 claims,
    as long as the pages; they used to start only after them). Spliced after a few edits
    (downloads.py), they cost less than the fork: they are made here, with the pages.
    The child writes into a staging folder it makes, which the build then uses; leaving
    the block stops the child if nobody waited for it, and removes that folder."""

    def __init__(self, out: Path, old: Mapping[str, bytes] | None, build: bytes | None):
        self.out = out
        self.old, self.old_build = old, build  # the last build's page keys and build key
        self.job: Job | None = None
        self.staging: Staging | None = None
        self._child: parallel.Beside[list[str]] | None = None

    def start(self, job: Job, build: bytes) -> None:
        """Start `job` in a child, if it is to be made and worth a process of its own."""
        if self._child is not None or parallel.workers() < 2 or job.cost < FORK_COST:
            return
        if not stale(job, valid_keys(self.old, self.old_build, build)):
            return  # unchanged: the build keeps the current files
        self.staging = Staging(self.out)
        compare = self.old is not None  # see builder: what is not written is kept
        self._child = _made_beside(job, self.staging, compare)
        self.job = job

    def result(self) -> list[str]:
        """The paths the child wrote (what it failed to make is made here)."""
        return self._child.result() if self._child is not None else []

    def __enter__(self) -> Ahead:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._child is not None:
            self._child.__exit__(*exc)
        if self.staging is not None:
            self.staging.discard()


def produce(
    jobs: Sequence[Job], staging: Staging, compare: bool, prepare: Callable[[], None]
) -> list[str]:
    """Make every job's bytes and write them into the staging folder; with `compare`,
    skip files whose bytes equal the current site's. Returns the paths written."""
    # Everything made before the pages is frozen: the collections after each page
    # (render.Renderer._rendered) walk only what was made since, here and in the
    # processes forked here, where walking the rest would copy each memory page of it
    # (gc.freeze's documented use before a fork).
    gc.freeze()
    try:
        return _produce(jobs, staging, compare, prepare)
    finally:
        gc.unfreeze()


def _produce(
    jobs: Sequence[Job], staging: Staging, compare: bool, prepare: Callable[[], None]
) -> list[str]:
    count = parallel.workers()
    rest = [job for job in jobs if not job.alone]
    alone = [job for job in jobs if job.alone]
    beside = bool(rest) and sum(job.cost for job in alone) >= FORK_COST
    if count < 2 or not beside and len(jobs) < PARALLEL_FROM:
        return _produce_share(jobs, staging, compare)
    if len(jobs) < PARALLEL_FROM:
        count = 1  # a few pages here, the downloads beside them
    else:
        prepare()
    try:
        with ExitStack() as stack:
            # each in a process of its own (see Job.alone)
            children = [stack.enter_context(_made_beside(job, staging, compare)) for job in alone]
            written = parallel.fork_pieces(
                lambda piece: _produce_share(piece, staging, compare),
                rest,
                [job.cost for job in rest],
                count,
            )
            for child in children:
                written += child.result()
    except parallel.ShareFailed:
        # See the failure here, as it is: do it all again, over what the children left.
        return _produce_again(jobs, staging, compare)
    return written


def _made_beside(job: Job, staging: Staging, compare: bool) -> parallel.Beside[list[str]]:
    """`job` made in a child process; where the child fails at it, it is made again here,
    over what the child left."""
    return parallel.Beside(partial(_produce_again, [job], staging, compare))


def _produce_again(jobs: Sequence[Job], staging: Staging, compare: bool) -> list[str]:
    """_produce_share, after removing what a child process that failed at it left."""
    for job in jobs:
        for path in job.paths:
            (staging.folder / path).unlink(missing_ok=True)
    return _produce_share(jobs, staging, compare)


def _produce_share(jobs: Sequence[Job], staging: Staging, compare: bool) -> list[str]:
    written: list[str] = []
    batch: dict[str, bytes] = {}
    for job in jobs:
        for path, data in job.make():
            if isinstance(data, Spliced):  # made only where it differs (see downloads.py)
                staging.write({path: data})
                written.append(path)
                continue
            if not isinstance(data, bytes):  # a large file in pieces: written as they come
                if compare:
                    data = list(data)  # read once, to compare and maybe write
                    if _same(staging.out / path, data):
                        continue
                staging.write({path: data})
                written.append(path)
                continue
            if compare and _same(staging.out / path, data):
                continue
            batch[path] = data
            if len(batch) >= _BATCH or len(data) > _BIG:
                staging.write(batch)
                written += batch
                batch = {}
    if batch:
        staging.write(batch)
        written += batch
    return written


def _same(path: Path, content: bytes | Sequence[bytes]) -> bool:
    try:
        with path.open("rb") as handle:
            if isinstance(content, bytes):
                return handle.read(len(content) + 1) == content
            return all(handle.read(len(piece)) == piece for piece in content) and not (
                handle.read(1)
            )
    except OSError:
        return False


def assets(root: Path) -> list[tuple[str, bytes]]:
    """The static files (templates/static/ to static/) and the JSON Schemas, as bytes."""
    found = []
    static = root / TEMPLATES / "static"
    for path in sorted(static.rglob("*")):
        if path.is_file():
            found.append((f"static/{path.relative_to(static).as_posix()}", path.read_bytes()))
    schemas = root / SCHEMAS
    for path in sorted(schemas.glob("*.json")) if schemas.is_dir() else ():
        found.append((f"schema/{path.name}", path.read_bytes()))
    return found
