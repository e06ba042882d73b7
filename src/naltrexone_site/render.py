"""Pages to HTML strings: a Jinja2 environment (autoescape, StrictUndefined) and one function
per kind of page. Links are relative (`root` is "", "../" or "../../"), so the site works
under any base path and from file://. No file writes here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from . import exports, markup
from .analysis import is_hedged
from .fragments import Fragments
from .markup import BodyMarks
from .models import Claim, Evidence, Source, Term
from .pages import COLUMNS, Contradiction, Dispute, Site, chunks

# No page grows without bound with the registry: long lists continue on numbered pages.
LIST_LIMIT = 500  # claims per page of the browse list
SECTION_LIMIT = 200  # claims per dose section of a mechanism page, or per source page
SIDE_LIMIT = 25  # claims per dose in one row of the dose view
OPPOSITE_LIMIT = 5  # contradicting pairs shown in full in one row of the dose view
CONFLICT_LIMIT = 100  # conflicts per page


@dataclass(frozen=True)
class Page:
    path: str  # relative to the site root, forward slashes
    text: str


@dataclass(frozen=True)
class EvidenceView:
    """One evidence item as a claim page shows it."""

    index: int
    item: Evidence
    source: Source
    stance: Term
    before: str  # the source's words around the quote, in the same paragraph
    quoted: str  # the source's own words for the quote
    after: str
    target: str  # the id of the passage on the source page
    cites: tuple[tuple[int, str], ...]  # (number, reference) from the source's list
    flat: bool  # the claim is overstated and this passage supports it without any hedge


def environment(templates: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates),
        autoescape=select_autoescape(("html", "xml"), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.globals.update(md_inline=markup.inline, md_block=markup.block, plain=markup.plain)
    return env


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


def render_site(site: Site, templates: Path) -> list[Page]:
    return list(_Renderer(site, environment(templates)).pages())


class _Renderer:
    def __init__(self, site: Site, env: Environment) -> None:
        self.site = site
        self.env = env
        settings = site.registry.settings
        env.globals.update(
            settings=settings,
            terms=site.terms,
            marks=site.marks,
            sources=site.sources,
            claims=site.claims,
            by_source=site.by_source,
            coverage=site.coverage,
            columns=COLUMNS,
            doses={column: site.terms["doses"][column] for column in COLUMNS},
            frag=Fragments(site.terms, site.marks),
            chrome=chrome(env),
            edit_base=f"{settings.repository_url.rstrip('/')}/edit/{settings.branch}/claims/",
        )
        self.bodies: dict[str, Markup] = {}
        self.targets: dict[tuple[str, int], str] = {}
        for source in site.sources.values():
            self._prepare_source(source)

    def _prepare_source(self, source: Source) -> None:
        """Render the article once, and note where each quote's passage is on the page."""
        site = self.site
        text = site.texts[source.id]
        sentences = text.sentences
        quoted = [
            (anchor.start, anchor.end)
            for found in site.by_source.get(source.id, ())
            for _, _, anchor in found.items
            if anchor.exact
        ]
        kept = set(site.coverage[source.id].sentences)
        classes = {i: "boilerplate" for i, span in enumerate(sentences) if span not in kept}
        marks = BodyMarks(sentences, markup.merge_spans(quoted), classes)
        self.bodies[source.id], emitted = markup.source_body(text.body, marks)
        for found in site.by_source.get(source.id, ()):
            for index, _, anchor in found.items:
                first = markup.first_sentence(sentences, anchor.start, anchor.end)
                target = markup.sentence_id(first) if first in emitted else "article"
                self.targets[(found.claim.id, index)] = target

    def render(self, template: str, path: str, **context: Any) -> Page:
        text = self.env.get_template(template).render(root=root_of(path), path=path, **context)
        return Page(path, text)

    def pages(self) -> Iterator[Page]:
        site = self.site
        yield self.render("index.html", "index.html", nav="map", rows=site.rows)
        for row in site.rows:
            yield from self.mechanism_pages(row.term)
        yield self.dose_page()
        for claim in site.claims.values():
            yield self.claim_page(claim)
        yield self.render("sources.html", "sources.html", nav="sources")
        for source in site.sources.values():
            yield from self.source_pages(source)
        yield from self.conflict_pages()
        yield from self.browse_pages()
        yield self.render("methodology.html", "methodology.html", nav="methodology")
        yield self.not_found_page()

    def not_found_page(self) -> Page:
        """404.html, which a host serves at any depth: its style is inline."""
        loader = self.env.loader
        assert loader is not None
        css, _, _ = loader.get_source(self.env, "static/site.css")
        base_path = urlsplit(self.site.registry.settings.base_url).path or "/"
        return self.render(
            "404.html",
            "404.html",
            nav="",
            inline_css=Markup(css.strip().replace("</", "<\\/")),
            base_path=base_path if base_path.endswith("/") else base_path + "/",
        )

    def mechanism_pages(self, term: Term) -> Iterator[Page]:
        overview = self.site.overviews.get(term.id)
        sections = []
        for column in COLUMNS:
            found = self.site.groups.get((term.id, column), ())
            parts = chunks(found, SECTION_LIMIT)
            sections.append((column, parts[0], len(found), len(parts)))
            for n, part in enumerate(parts[1:], start=2):
                yield self.render(
                    "list.html",
                    f"mechanisms/{term.id}/{column}-{n}.html",
                    nav="map",
                    title=f"{term.label}: {self.site.terms['doses'][column].label}",
                    back=(f"mechanisms/{term.id}.html#dose-{column}", term.label),
                    claims=part,
                    pager=_pager(
                        f"mechanisms/{term.id}/{column}-{{n}}.html",
                        n,
                        len(parts),
                        f"mechanisms/{term.id}.html#dose-{column}",
                    ),
                    start=(n - 1) * SECTION_LIMIT + 1,
                )
        yield self.render(
            "mechanism.html",
            f"mechanisms/{term.id}.html",
            nav="map",
            term=term,
            overview=overview,
            sections=sections,
        )

    def dose_page(self) -> Page:
        return self.render(
            "dose.html",
            "dose.html",
            nav="dose",
            comparisons=self.site.comparisons,
            ranges=self.site.ranges,
            limit=SIDE_LIMIT,
            opposite_limit=OPPOSITE_LIMIT,
        )

    def claim_page(self, claim: Claim) -> Page:
        path = f"claims/{claim.id}.html"
        return self.render(
            "claim.html",
            path,
            nav="browse",
            claim=claim,
            evidence=[self.evidence_view(claim, i) for i in range(len(claim.evidence))],
            jsonld=exports.claim_jsonld(self.site, claim, path),
        )

    def evidence_view(self, claim: Claim, index: int) -> EvidenceView:
        item = claim.evidence[index]
        source = self.site.sources[item.source]
        anchor = self.site.anchors[(claim.id, index)]
        text = self.site.texts[source.id]
        before, quoted, after = markup.context(text.body, text.sentences, anchor.start, anchor.end)
        return EvidenceView(
            index=index,
            item=item,
            source=source,
            stance=self.site.terms["stances"][item.stance],
            before=before,
            quoted=quoted,
            after=after,
            target=self.targets.get((claim.id, index), "article"),
            cites=tuple(
                (n, source.references[n - 1]) for n in item.cites if 0 < n <= len(source.references)
            ),
            flat=(
                self.site.marks[claim.id].overstated
                and item.stance == "supports"
                and not is_hedged(item.quote)
            ),
        )

    def source_pages(self, source: Source) -> Iterator[Page]:
        found = self.site.by_source.get(source.id, ())
        parts = chunks(found, SECTION_LIMIT)
        for n, part in enumerate(parts[1:], start=2):
            yield self.render(
                "source-claims.html",
                f"sources/{source.id}/claims-{n}.html",
                nav="sources",
                source=source,
                found=part,
                targets=self.targets,
                pager=_pager(
                    f"sources/{source.id}/claims-{{n}}.html",
                    n,
                    len(parts),
                    f"sources/{source.id}.html#claims",
                ),
                start=(n - 1) * SECTION_LIMIT + 1,
            )
        yield self.render(
            "source.html",
            f"sources/{source.id}.html",
            nav="sources",
            source=source,
            body=self.bodies[source.id],
            coverage=self.site.coverage[source.id],
            found=parts[0],
            total=len(found),
            more=f"sources/{source.id}/claims-2.html" if len(parts) > 1 else "",
            targets=self.targets,
            start=1,
        )

    def conflict_pages(self) -> Iterator[Page]:
        entries: list[Contradiction | Dispute] = [*self.site.contradictions, *self.site.disputes]
        parts = chunks(entries, CONFLICT_LIMIT)
        for n, part in enumerate(parts, start=1):
            path = "conflicts.html" if n == 1 else f"conflicts-{n}.html"
            yield self.render(
                "conflicts.html",
                path,
                nav="conflicts",
                contradictions=[e for e in part if isinstance(e, Contradiction)],
                disputes=[e for e in part if isinstance(e, Dispute)],
                total=(len(self.site.contradictions), len(self.site.disputes)),
                pager=_pager("conflicts-{n}.html", n, len(parts), "conflicts.html"),
            )

    def browse_pages(self) -> Iterator[Page]:
        claims = list(self.site.claims.values())
        parts = chunks(claims, LIST_LIMIT)
        for n, part in enumerate(parts, start=1):
            path = "browse.html" if n == 1 else f"browse-{n}.html"
            yield self.render(
                "browse.html",
                path,
                nav="browse",
                claims=part,
                start=(n - 1) * LIST_LIMIT + 1,
                total=len(claims),
                pager=_pager("browse-{n}.html", n, len(parts), "browse.html"),
            )


@dataclass(frozen=True)
class Pager:
    current: int
    links: tuple[tuple[int, str], ...]  # (page number, path from the site root)

    @property
    def pages(self) -> int:
        return len(self.links)


def _pager(pattern: str, current: int, count: int, first: str) -> Pager:
    links = tuple((n, first if n == 1 else pattern.format(n=n)) for n in range(1, count + 1))
    return Pager(current, links)


def data_files(site: Site, pages: Sequence[Page]) -> Mapping[str, str]:
    """The non-HTML outputs, from the same values as the pages."""
    return {
        "claims.json": exports.claims_json(site),
        "claims.csv": exports.claims_csv(site),
        "search-index.js": exports.search_index(site),
        "sitemap.xml": exports.sitemap(site, [p.path for p in pages]),
        "robots.txt": exports.robots(site),
    }
