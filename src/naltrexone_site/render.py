"""Pages to HTML strings: a Jinja2 environment (autoescape, StrictUndefined), the list of
pages as specs, and one spec to a string. Links are relative (`root` is "", "../" or
"../../"), so the site works under any base path and from file://. No page is written
here; a source's article, rendered, is kept in the cache for the next build.

A page sees only its own values (its spec's context) and build-wide constants (settings,
taxonomy, source metadata, fragments), never the whole registry: so a digest of the
context is a digest of everything the page shows (`pagekeys.py`), and a page whose
digest is unchanged need not be rendered again.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from jinja2 import (
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
    TemplateSyntaxError,
    select_autoescape,
)
from jinja2.bccache import Bucket
from markupsafe import Markup

from . import cache, exports, markup
from .claimpage import ClaimArticle, EvidenceView
from .fragments import Fragments, esc
from .inputs import digest
from .interrupt import signals_held
from .models import Claim, Source, Term
from .pages import Contradiction, Dispute, DoseComparison, Opposite, Site, chunks
from .schema import COLUMNS

# No page grows without bound with the registry: long lists continue on numbered pages.
LIST_LIMIT = 500  # claims per page of the browse list
SECTION_LIMIT = 200  # claims per dose section of a mechanism page, or per source page
SIDE_LIMIT = 25  # claims per dose in one row of the dose view
OPPOSITE_LIMIT = 5  # contradicting pairs shown in full in one row of the dose view
RANGE_LIMIT = 3  # quotes per source in the dose view's table of stated low-dose ranges
RANGE_SOURCES = 50  # sources per page of that table (the rest on dose-ranges-N.html)
CONFLICT_LIMIT = 100  # conflicts per page
SOURCE_LIST_LIMIT = 100  # sources per page of the source list
PAGER_SIDE = 2  # a pager links the pages this close to the current one, the first and last
# From this many claims (an index of about 1 MB), the browse pages load the search index
# on the form's first use instead of with the page (see static/search.js).
INDEX_ON_DEMAND_FROM = 5000
CLAIM_TEMPLATE = "claim.html"


@dataclass(frozen=True)
class Page:
    path: str  # relative to the site root, forward slashes
    text: str


@dataclass(frozen=True, slots=True)  # one per page: no __dict__ each
class Spec:
    """One page to render: its path, template and own values. A claim page's context is
    just {"claim": claim}; the rest of what it shows follows from the claim."""

    path: str
    template: str
    nav: str
    context: Mapping[str, Any] = field(default_factory=dict)


def claim_path(claim: Claim) -> str:
    return f"claims/{claim.id}.html"


def claim_spec(claim: Claim) -> Spec:
    return Spec(claim_path(claim), CLAIM_TEMPLATE, "browse", {"claim": claim})


@dataclass(frozen=True)
class Pages:
    """Every page of the site, in order: `first`, a page per claim, then `rest`. The claim
    pages have no spec until one is to be rendered (`claim_spec`): 10,000 of them took a
    twentieth of a one-claim rebuild, which renders one or two."""

    first: list[Spec]
    claims: tuple[Claim, ...]
    rest: list[Spec]

    def specs(self) -> tuple[Spec, ...]:
        """The pages that are not claim pages."""
        return (*self.first, *self.rest)

    def paths(self, claim_paths: Sequence[str]) -> list[str]:
        """In the order the sitemap lists them, given each claim's `claim_path` (which the
        caller has worked out already, for the claim pages' keys)."""
        return [
            *(spec.path for spec in self.first),
            *claim_paths,
            *(spec.path for spec in self.rest),
        ]


class _Loader(FileSystemLoader):
    """Templates from a folder; one that is not UTF-8 is a located TemplateSyntaxError,
    which `build` and `serve` report with its file and line, not a UnicodeDecodeError."""

    def get_source(self, environment: Environment, template: str) -> Any:
        try:
            return super().get_source(environment, template)
        except UnicodeDecodeError as exc:
            raw = exc.object
            raise TemplateSyntaxError(
                f"the template is not valid UTF-8 (byte 0x{raw[exc.start]:02x}): save it as UTF-8",
                raw[: exc.start].count(b"\n") + 1,
                template,
                str(Path(self.searchpath[0]) / template),
            ) from None


class _BytecodeCache(FileSystemBytecodeCache):
    """Compiled templates, each written with the stopping signals held: Jinja removes its
    temporary file when interrupted, but not when the signal comes between making the
    file and the `try` that would (a test that stops builds caught one left behind)."""

    def dump_bytecode(self, bucket: Bucket) -> None:
        with signals_held():
            super().dump_bytecode(bucket)


def environment(templates: Path, compiled: Path | None = None) -> Environment:
    """`compiled`: a folder for Jinja's compiled templates, so a later build loads them
    instead of compiling them again (a tenth of a one-claim rebuild)."""
    env = Environment(
        loader=_Loader(templates),
        bytecode_cache=_BytecodeCache(str(compiled)) if compiled else None,
        autoescape=select_autoescape(("html", "xml"), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.globals.update(md_inline=markup.inline, md_block=markup.block, plain=markup.plain)
    return env


def compile_all(env: Environment) -> None:
    """Every page template compiled (and, with a compiled folder, kept there)."""
    for name in env.list_templates(extensions=("html",)):
        env.get_template(name)


def prepare(env: Environment) -> None:
    """What every process that renders needs, made once before the work is split among
    forked processes, which then share it: the templates compiled, and the Markdown
    parsers (markdown-it imported and its rules set up, 40 ms that each process spent)."""
    compile_all(env)
    markup.parsers()


def chrome(env: Environment) -> Callable[..., Markup]:
    """Header and footer partials, rendered once per distinct set of values and reused:
    every claim page has the same ones, and rendering them per page was a fifth of it."""
    cache: dict[tuple[str, tuple[tuple[str, str], ...]], Markup] = {}

    def render(template: str, **values: str) -> Markup:
        if "/" in values.get("current", ""):
            values["current"] = ""  # only top-level pages are marked as the current page
        key = (template, tuple(sorted(values.items())))
        found = cache.get(key)
        if found is None:
            found = cache[key] = Markup(env.get_template(template).render(**values).strip())
        return found

    return render


def root_of(path: str) -> str:
    return "../" * path.count("/")


# Slots of the claim page frame: filled per claim (see `Renderer.claim_page`).
_SLOTS = ("path", "title", "jsonld", "article")
_SLOT = "\x00slot:{}\x00"


class Renderer:
    def __init__(
        self,
        site: Site,
        versions: Mapping[str, bytes],
        build: bytes,
        templates: Path,
        compiled: Path | None = None,
        kept: Path | None = None,
    ) -> None:
        """`versions` and `build`: the claims' versions and the build key, which say
        whether a kept browse item is current (see `listed`); `kept`: the project whose
        cache keeps the sources' articles and the browse list's items as rendered."""
        self.site = site
        self.kept = kept
        self.versions = versions
        self.build = build
        self.env = env = environment(templates, compiled)
        settings = site.registry.settings
        self.frag = Fragments(site.terms, site.marks, site.sources)
        self.edit_base = f"{settings.repository_url.rstrip('/')}/edit/{settings.branch}/claims/"
        env.globals.update(  # build-wide constants only: see the module docstring
            settings=settings,
            terms=site.terms,
            sources=site.sources,
            columns=COLUMNS,
            doses={column: site.terms["doses"][column] for column in COLUMNS},
            frag=self.frag,
            chrome=chrome(env),
            edit_base=self.edit_base,
        )
        self.article = ClaimArticle(
            site.terms,
            site.claims,
            site.marks,
            self.frag,
            self.edit_base,
            site.history,
            f"{settings.repository_url.rstrip('/')}/commit/",
        )
        self.jsonld = exports.ClaimJsonLd(site)
        self._emitted: dict[str, frozenset[int]] = {}
        self._texts: dict[str, _Text] = {}
        self._articles: dict[str, KeptArticle | None] = {}  # from the cache, by source id
        self._lists: dict[int, Mapping[bytes, str]] = {}  # kept browse items, by page number
        self._frame: list[str] | None = None

    # ------------------------------------------------------------------------- the plan

    def pages(self) -> Pages:
        """Every page of the site, in a fixed order."""
        site = self.site
        index = {"rows": site.rows, "claim_count": len(site.claims)}
        first = [Spec("index.html", "index.html", "map", index)]
        for row in site.rows:
            first += self.mechanism_specs(row.term)
        first += self.dose_specs()
        rest = self.source_list_specs()
        for source in site.sources.values():
            rest += self.source_specs(source)
        rest += self.conflict_specs()
        rest += self.browse_specs()
        rest.append(Spec("methodology.html", "methodology.html", "methodology"))
        rest.append(Spec("404.html", "404.html", ""))
        return Pages(first, tuple(site.claims.values()), rest)

    def dose_specs(self) -> list[Spec]:
        """The dose view, with the first sources' stated ranges; the rest of the sources on
        pages of their own (a source is an article: their number grows with the registry)."""
        site = self.site
        first, *rest = _paged(
            site.ranges, RANGE_SOURCES, "dose-ranges-{n}.html", "dose.html#ranges"
        )
        dose = {
            "comparisons": tuple(map(DoseRow.of, site.comparisons)),
            "ranges": first.items,
            "range_limit": RANGE_LIMIT,
            "pager": first.pager,
        }
        specs = [Spec("dose.html", "dose.html", "dose", dose)]
        for page in rest:
            more = {
                "ranges": page.items,
                "range_limit": RANGE_LIMIT,
                "start": page.start,
                "total": len(site.ranges),
                "pager": page.pager,
            }
            specs.append(Spec(page.path, "dose-ranges.html", "dose", more))
        return specs

    def mechanism_specs(self, term: Term) -> list[Spec]:
        specs = []
        sections = []
        for column in COLUMNS:
            found = self.site.groups.get((term.id, column), ())
            pages = _paged(
                found,
                SECTION_LIMIT,
                f"mechanisms/{term.id}/{column}-{{n}}.html",
                f"mechanisms/{term.id}.html#dose-{column}",
            )
            sections.append((column, pages[0].items, len(found), len(pages)))
            for page in pages[1:]:
                specs.append(
                    Spec(
                        page.path,
                        "list.html",
                        "map",
                        {
                            "title": f"{term.label}: {self.site.terms['doses'][column].label}",
                            "back": (f"mechanisms/{term.id}.html#dose-{column}", term.label),
                            "claims": page.items,
                            "pager": page.pager,
                            "start": page.start,
                        },
                    )
                )
        specs.append(
            Spec(
                f"mechanisms/{term.id}.html",
                "mechanism.html",
                "map",
                {
                    "term": term,
                    "overview": self.site.overviews.get(term.id),
                    "sections": sections,
                },
            )
        )
        return specs

    def source_specs(self, source: Source) -> list[Spec]:
        found = self.site.by_source.get(source.id, ())
        pages = _paged(
            found,
            SECTION_LIMIT,
            f"sources/{source.id}/claims-{{n}}.html",
            f"sources/{source.id}.html#claims",
        )
        specs = [
            Spec(
                page.path,
                "source-claims.html",
                "sources",
                {
                    "source": source,
                    "found": page.items,
                    "targets": Passages(source.id),
                    "pager": page.pager,
                    "start": page.start,
                },
            )
            for page in pages[1:]
        ]
        specs.append(
            Spec(
                f"sources/{source.id}.html",
                "source.html",
                "sources",
                {
                    "source": source,
                    "body": self.article_of(source.id),  # rendered only when needed
                    "coverage": self.site.coverage[source.id],
                    "found": pages[0].items,
                    "total": len(found),
                    "alone": self.site.alone.get(source.id, 0),
                    "more": pages[1].path if len(pages) > 1 else "",
                    "targets": Passages(source.id),
                    "start": 1,
                },
            )
        )
        return specs

    def source_list_specs(self) -> list[Spec]:
        """The source list, SOURCE_LIST_LIMIT sources a page, each page keyed by its own."""
        site = self.site
        sources = tuple(site.sources.values())
        return [
            Spec(
                page.path,
                "sources.html",
                "sources",
                {
                    "listed": page.items,
                    "claim_counts": {s.id: len(site.by_source.get(s.id, ())) for s in page.items},
                    "alone": {s.id: site.alone.get(s.id, 0) for s in page.items},
                    "coverage": {s.id: site.coverage[s.id] for s in page.items},
                    "pager": page.pager,
                },
            )
            for page in _paged(sources, SOURCE_LIST_LIMIT, "sources-{n}.html", "sources.html")
        ]

    def conflict_specs(self) -> list[Spec]:
        entries: list[Contradiction | Dispute] = [*self.site.contradictions, *self.site.disputes]
        return [
            Spec(
                page.path,
                "conflicts.html",
                "conflicts",
                {
                    "contradictions": tuple(e for e in page.items if isinstance(e, Contradiction)),
                    "disputes": tuple(e for e in page.items if isinstance(e, Dispute)),
                    "total": (len(self.site.contradictions), len(self.site.disputes)),
                    "pager": page.pager,
                },
            )
            for page in _paged(entries, CONFLICT_LIMIT, "conflicts-{n}.html", "conflicts.html")
        ]

    def browse_specs(self) -> list[Spec]:
        claims = tuple(self.site.claims.values())
        return [
            Spec(
                page.path,
                "browse.html",
                "browse",
                {
                    "claims": page.items,
                    "start": page.start,
                    "total": len(claims),
                    "pager": page.pager,
                    "index_on_demand": len(claims) >= INDEX_ON_DEMAND_FROM,
                },
            )
            for page in _paged(claims, LIST_LIMIT, "browse-{n}.html", "browse.html")
        ]

    # -------------------------------------------------------------------------- rendering

    def render(self, spec: Spec) -> str:
        if spec.template == CLAIM_TEMPLATE:
            return self.claim_page(spec.context["claim"], spec.path)
        context = dict(spec.context)
        if spec.template == "404.html":
            context.update(self._not_found())
        body = context.get("body")
        if isinstance(body, Article):
            context["body"] = self.body(body)
        targets = context.get("targets")
        if isinstance(targets, Passages):
            context["targets"] = self.targets(targets.source_id, context["found"])
        root = root_of(spec.path)
        if spec.template == "browse.html":
            context["items"] = self.listed(root, context["pager"].current, context["claims"])
        return self._rendered(spec.template, root=root, path=spec.path, nav=spec.nav, **context)

    def _rendered(self, template: str, **values: Any) -> str:
        text = self.env.get_template(template).render(**values)
        # The page's values stay in a reference cycle once it is rendered (the macros
        # imported `with context` hold a context made of them), and a build runs without
        # the cycle collector (cache.no_gc): each browse page's items, each source page's
        # article were kept to the process's end (5 MB at 10,000 claims). Collected here:
        # what was made since the last collection, the render stage having frozen what was
        # made before it (jobs.produce), so this touches nothing older.
        gc.collect(0)
        return text

    def _not_found(self) -> dict[str, Any]:
        """404.html, which a host serves at any depth: its style is inline."""
        loader = self.env.loader
        assert loader is not None
        css, _, _ = loader.get_source(self.env, "static/site.css")
        base_path = urlsplit(self.site.registry.settings.base_url).path or "/"
        return {
            "inline_css": Markup(css.strip().replace("</", "<\\/")),
            "base_path": base_path if base_path.endswith("/") else base_path + "/",
        }

    def claim_page(self, claim: Claim, path: str) -> str:
        """The article from `claimpage.py` in the frame of templates/claim.html. The frame
        is rendered once, with placeholders; if filling it in ever differs from rendering
        the template for real (a template that tests a slot's value), every claim page is
        rendered through Jinja instead."""
        slots = {
            "path": esc(path),
            "title": esc(markup.plain(claim.statement)),
            "jsonld": self.jsonld(claim, path),
            "article": self.article(claim, self.evidence(claim)),
        }
        if self._frame is None:
            self._frame = self._make_frame(slots)
        if not self._frame:
            return self._claim_by_template({k: Markup(v) for k, v in slots.items()})
        return _fill(self._frame, slots)

    def _make_frame(self, first: Mapping[str, str]) -> list[str]:
        """The claim frame as text pieces with slot names at odd positions, or [] when
        it cannot be used."""
        text = self._claim_by_template({name: Markup(_SLOT.format(name)) for name in _SLOTS})
        pieces = [
            part.removeprefix("slot:") if i % 2 else part
            for i, part in enumerate(text.split("\x00"))
        ]
        if len(pieces) % 2 == 0 or any(p not in _SLOTS for p in pieces[1::2]):
            return []
        real = self._claim_by_template({k: Markup(v) for k, v in first.items()})
        return pieces if _fill(pieces, first) == real else []

    def _claim_by_template(self, slots: Mapping[str, Markup]) -> str:
        return self._rendered(CLAIM_TEMPLATE, root="../", nav="browse", **slots)

    def evidence(self, claim: Claim) -> list[EvidenceView]:
        anchors, texts = self.site.anchors, self._texts
        marks = self.site.marks[claim.id]
        flat = marks.flat if marks.overstated else ()
        views = []
        for index, item in enumerate(claim.evidence):
            text = texts.get(item.source) or self._text(item.source)
            source, sentences = text.source, text.sentences
            anchor = anchors[(claim.id, index)]
            start, end = anchor.start, anchor.end
            first = markup.first_sentence(sentences, start, end, text.starts)
            before, quoted, after = markup.context_at(text.body, sentences, start, end, first)
            cites = (
                tuple(
                    (n, source.references[n - 1])
                    for n in item.cites
                    if 0 < n <= len(source.references)
                )
                if item.cites
                else ()
            )
            target = text.ids[first] if first in text.emitted else "article"
            views.append(
                EvidenceView(
                    index + 1, item, source, before, quoted, after, target, cites, index in flat
                )
            )
        return views

    def target(self, source_id: str, start: int, end: int) -> str:
        """The id of the passage's first sentence on the source page, or the article."""
        text = self._texts.get(source_id) or self._text(source_id)
        first = markup.first_sentence(text.sentences, start, end, text.starts)
        return text.ids[first] if first in text.emitted else "article"

    def _text(self, source_id: str) -> _Text:
        text = self.site.texts[source_id]
        emitted = self._emitted.get(source_id)  # known if the article was rendered
        if emitted is None:
            kept = self._kept_article(source_id)
            emitted = self._emitted[source_id] = (
                kept.emitted
                if kept is not None
                else markup.emitted_sentences(text.body, text.sentences)
            )
        found = self._texts[source_id] = _Text(
            self.site.sources[source_id],
            text.body,
            text.sentences,
            [s for s, _ in text.sentences],
            emitted,
            text.sentence_ids,
        )
        return found

    def targets(self, source_id: str, found: Sequence[Any]) -> dict[tuple[str, int], str]:
        """Passage ids for the claims listed on one source page."""
        return {
            (f.claim.id, index): self.target(source_id, anchor.start, anchor.end)
            for f in found
            for index, _, anchor in f.items
        }

    def article_of(self, source_id: str) -> Article:
        """A source page's article as its page key needs it: with the words it marks, the
        exact quotes of every claim drawn from the source, listed on that page or not."""
        return Article(source_id, self.site.marked.get(source_id, ()))

    def body(self, article: Article) -> Markup:
        """The article rendered once: sentences as targets, quoted words marked. Rendered
        as the last build did, it is taken from the cache: a one-claim rebuild renders
        the page of the claim's source, and rendering its article (markdown-it imported
        for it) was most of the time spent rendering."""
        site, source_id = self.site, article.source_id
        text = site.texts[source_id]
        covered = set(site.coverage[source_id].sentences)
        boilerplate = tuple(i for i, span in enumerate(text.sentences) if span not in covered)
        drawn = cache.stable((article.marked, boilerplate))
        kept = self._kept_article(source_id)
        if kept is not None and kept.drawn == drawn:
            self._emitted[source_id] = kept.emitted
            return Markup(kept.html)
        classes = dict.fromkeys(boilerplate, "boilerplate")
        marks = markup.BodyMarks(text.sentences, article.marked, classes, text.sentence_ids)
        rendered, emitted = markup.source_body(text.body, marks)
        self._emitted[source_id] = emitted
        if self.kept is not None:  # a kept one is of this body: its digest, not again
            body = kept.body if kept is not None else digest(text.body.encode())
            found = KeptArticle(body, drawn, str(rendered), emitted)
            cache.save(self.kept, _ARTICLE.format(source_id), found)
        return rendered

    def listed(self, root: str, number: int, claims: Sequence[Claim]) -> Markup:
        """The items of page `number` of the browse list. A claim added or removed moves
        every later claim by one place, and one at each page's end onto the next page or
        the one before; and every page gives the total: all the pages are made again (21
        at 10,000 claims, 30 to 70 ms of a rebuild, most of it their items, though those
        before the claim keep every one). An item follows from its claim's
        version, the build key and the page's root, so the items kept (in the cache)
        from the last pages of this number and its neighbours are taken where the version
        is the same, and the rest are made."""
        if self.kept is None:
            return self.frag.items(claims, root)
        for far in [n for n in self._lists if abs(n - number) > 1]:
            del self._lists[far]  # pages are made in order: not needed again
        here, after, before = (self._kept_list(n, root) for n in (number, number + 1, number - 1))
        versions = self.versions
        shown = [versions[claim.id] for claim in claims]
        lines = [here.get(v) or after.get(v) or before.get(v) or "" for v in shown]
        if not all(lines):  # kept again only then: what it keeps stays true (1 ms a page)
            make = self.frag.line
            lines = [line or make(claim, root) for line, claim in zip(lines, claims, strict=True)]
            kept = KeptList(self.build, root, dict(zip(shown, lines, strict=True)))
            cache.save(self.kept, _LIST.format(number), kept)
        return Markup("".join(lines))

    def _kept_list(self, number: int, root: str) -> Mapping[bytes, str]:
        """The items kept from the last page `number` of the browse list, by their claims'
        versions, if they were made under this build key at this root."""
        found = self._lists.get(number)
        if found is None:
            assert self.kept is not None
            loaded = cache.load(self.kept, _LIST.format(number), hold=False)
            current = isinstance(loaded, KeptList) and loaded.build == self.build
            found = loaded.lines if current and loaded.root == root else {}
            self._lists[number] = found
        return found

    def _kept_article(self, source_id: str) -> KeptArticle | None:
        """The source's article as a build rendered it, if of the same body."""
        if source_id in self._articles or self.kept is None:
            return self._articles.get(source_id)
        loaded = cache.load(self.kept, _ARTICLE.format(source_id))
        body = self.site.texts[source_id].body
        found = loaded if isinstance(loaded, KeptArticle) else None
        if found is not None and found.body != digest(body.encode()):
            found = None
        self._articles[source_id] = found
        return found


def _fill(frame: Sequence[str], slots: Mapping[str, str]) -> str:
    """The frame's text with each slot's value in its place (str.format_map would parse
    the frame again for every page: six times slower)."""
    return "".join([slots[piece] if i % 2 else piece for i, piece in enumerate(frame)])


class _Text(NamedTuple):
    """What a claim page needs of a source to show a quote in context and link to it."""

    source: Source
    body: str
    sentences: tuple[tuple[int, int], ...]
    starts: list[int]  # of the sentences, to bisect
    emitted: frozenset[int]  # sentences with an id on the source page
    ids: tuple[str, ...]  # those ids, by sentence


@dataclass(frozen=True)
class Article:
    """A source page's article, rendered when the page is (it is the costly part)."""

    source_id: str
    marked: tuple[tuple[int, int], ...]  # spans of the body, merged: see `article_of`


@dataclass(frozen=True)
class KeptArticle:
    """A source's article as rendered (see `Renderer.body`). The sentences that got an id
    depend on the body alone; the HTML also on the words marked and the boilerplate."""

    body: bytes  # digest of the source's body (as pipeline.Texts has it)
    drawn: bytes  # what is drawn on it: the spans marked, the boilerplate sentences
    html: str
    emitted: frozenset[int]


_ARTICLE = "article-{}"  # a cache entry per source, by its id


@dataclass(frozen=True)
class KeptList:
    """A page of the browse list's items as rendered (see `Renderer.listed`)."""

    build: bytes  # the build key, and
    root: str  # the page's root, they were made with
    lines: dict[bytes, str]  # claim version -> the claim's item, a line


_LIST = "browse-{}"  # a cache entry per page of the browse list, by its number


@dataclass(frozen=True)
class Passages:
    """The passage ids of a source page's quotes, found when the page is rendered. They
    follow from the source's text and the quotes' anchors (pagekeys.py)."""

    source_id: str


@dataclass(frozen=True)
class DoseRow:
    """A row of the dose view as the page shows it: the first claims of each side and
    the first contradicting pairs, with how many there are in all. The page's key
    follows these, so an edit of a claim the view does not show leaves it as it is."""

    row: Term
    difference: str  # see DoseComparison
    sides: tuple[tuple[str, tuple[Claim, ...], int], ...]  # (column, first claims, count)
    opposite: tuple[Opposite, ...]
    opposite_count: int
    unstated: int  # see DoseComparison

    @classmethod
    def of(cls, found: DoseComparison) -> DoseRow:
        return cls(
            found.row,
            found.difference,
            (
                ("standard", found.standard[:SIDE_LIMIT], len(found.standard)),
                ("low", found.low[:SIDE_LIMIT], len(found.low)),
            ),
            found.opposite[:OPPOSITE_LIMIT],
            len(found.opposite),
            found.unstated,
        )


@dataclass(frozen=True)
class Pager:
    current: int
    links: tuple[tuple[int, str], ...]  # (page number, path from the site root)

    @property
    def pages(self) -> int:
        return len(self.links)

    @property
    def shown(self) -> list[tuple[int, str] | None]:
        """The links a pager shows: the first and last pages and those within PAGER_SIDE
        of this one, None for each run of pages left out (a run of one is shown). All of
        them would make every page of a 100,000-claim list carry 200 links."""
        last = self.pages
        keep = {1, last, *range(self.current - PAGER_SIDE, self.current + PAGER_SIDE + 1)}
        keep |= {n for n in range(2, last) if n - 1 in keep and n + 1 in keep}
        shown: list[tuple[int, str] | None] = []
        for n, href in self.links:
            if n in keep:
                shown.append((n, href))
            elif shown[-1] is not None:
                shown.append(None)
        return shown

    def neighbour(self, step: int) -> str | None:
        """The path of the previous (-1) or next (+1) page, if there is one."""
        n = self.current + step
        return self.links[n - 1][1] if 1 <= n <= self.pages else None


class Part(NamedTuple):
    """One page of a list split into pages: its items, the number of its first item, and
    its pager (the first page is `first`, maybe a section of another page; the others
    `pattern` with the page number)."""

    items: tuple[Any, ...]
    start: int
    pager: Pager

    @property
    def path(self) -> str:
        """Where the page is written (the first one's path without its #section)."""
        return self.pager.links[self.pager.current - 1][1].partition("#")[0]


def _paged(items: Sequence[Any], size: int, pattern: str, first: str) -> list[Part]:
    """`items` in pages of at most `size` (always at least one, maybe empty)."""
    parts = chunks(items, size)
    links = tuple((n, first if n == 1 else pattern.format(n=n)) for n in range(1, len(parts) + 1))
    return [
        Part(part, (n - 1) * size + 1, Pager(n, links)) for n, part in enumerate(parts, start=1)
    ]
