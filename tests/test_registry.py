"""The bundled registry: clean, covering its sources, honest about disagreement."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from naltrexone_site.analysis import contradictions, is_contested
from naltrexone_site.checks import Context
from naltrexone_site.pipeline import check_project

REPO = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def ctx() -> Context:
    checked = check_project(REPO)
    assert checked.context is not None
    assert [str(p) for p in checked.problems] == []  # check --strict is clean
    return checked.context


def test_every_source_is_at_least_90_percent_covered(ctx: Context) -> None:
    for source in ctx.registry.sources:
        assert ctx.coverage[source.id].percent >= 90.0, source.id


def test_every_quote_anchors_exactly(ctx: Context) -> None:
    assert all(item.anchor is not None and item.anchor.exact for item in ctx.anchored)


def test_registry_size_and_every_source_used(ctx: Context) -> None:
    assert 150 <= len(ctx.registry.claims) <= 220
    used = Counter(e.source for c in ctx.registry.claims for e in c.evidence)
    assert set(used) == {s.id for s in ctx.registry.sources}


def test_every_row_and_dose_column_is_used(ctx: Context) -> None:
    rows = {m for c in ctx.registry.claims for m in c.mechanism}
    assert rows == {t.id for t in ctx.registry.taxonomy.mechanisms}
    assert {c.dose for c in ctx.registry.claims} >= {"standard", "low", "unspecified"}


def test_the_dopamine_disagreement_is_recorded(ctx: Context) -> None:
    """Increases (mood-article), hinders (reward-system-article), not at the standard dose."""
    linked = contradictions(ctx.registry.claims)
    claims = {c.id: c for c in ctx.registry.claims}
    dopamine = [c for c in ctx.registry.claims if "dopamine" in c.mechanism]
    contested = {c.id for c in dopamine if is_contested(c, linked)}
    sources = {e.source for cid in contested for e in claims[cid].evidence}
    assert {"mood-article", "reward-system-article", "dopamine-dose-article"} <= sources


def test_the_low_dose_range_disagreement_is_recorded(ctx: Context) -> None:
    linked = contradictions(ctx.registry.claims)
    ranges = [c for c in ctx.registry.claims if c.kind == "dosing" and c.dose == "low"]
    quotes = {e.quote for c in ranges if linked.get(c.id) for e in c.evidence}
    assert any("1 to 4.5 mg" in q for q in quotes)
    assert any("1.5 to 4.5 mg" in q or "1.5-4.5mg" in q for q in quotes)


def test_grades_are_honest(ctx: Context) -> None:
    """No source names a trial in its text, so nothing is graded 'clinical'; anything
    graded 'established' is label or textbook pharmacology."""
    assert not [c.id for c in ctx.registry.claims if c.strength == "clinical"]
    for source in ctx.registry.sources:
        assert source.cites_literature is False


def test_vendor_is_labelled_as_such(ctx: Context) -> None:
    vendor = next(s for s in ctx.registry.sources if s.id == "powder-vendor-post")
    assert vendor.kind == "vendor-marketing"
    assert vendor.commercial_interest and "sales contact" in vendor.commercial_interest
    # the contact itself is removed, and the removal noted: the site does not pass it on
    assert "@" not in vendor.body and "contact" not in vendor.body
    assert any("sales contact" in note for note in vendor.removed)
    assert len(vendor.references) == 10


def test_overviews_cover_every_row_within_80_to_200_words(ctx: Context) -> None:
    import re

    assert {o.id for o in ctx.registry.overviews} == {
        t.id for t in ctx.registry.taxonomy.mechanisms
    }
    for overview in ctx.registry.overviews:
        prose = re.sub(r"\]\(claim:[^)]*\)", "]", overview.body)
        assert 80 <= len(prose.split()) <= 200, overview.id
        assert "(claim:" in overview.body


def test_a_dose_badge_says_it_is_about_the_dose(ctx: Context) -> None:
    """A claim's badges sit side by side: 'Not stated' or 'Both' alone would not say what
    is meant (screen readers hear a hidden 'Dose:', sighted readers do not see it)."""
    for term in ctx.registry.taxonomy.doses:
        assert "dose" in (term.short or "").lower() or term.short == "LDN", term.id


def test_background_claims_are_filed_as_such(ctx: Context) -> None:
    """A claim an editor calls background ("not a claim about naltrexone") is of kind
    background, which the map keeps out of its strength mix, and the other way round."""
    said = {
        c.id
        for c in ctx.registry.claims
        if (c.note or "").startswith("Background given by the article, not a claim")
    }
    filed = {c.id for c in ctx.registry.claims if c.kind == "background"}
    assert said == filed
    assert len(filed) >= 20


def test_advice_claims_say_what_to_do(ctx: Context) -> None:
    """A claim of kind advice, never marked overstated, is a recommendation: its statement
    says what a person should do (or what may need doing), not what naltrexone does."""
    advice = [c for c in ctx.registry.claims if c.kind == "advice"]
    assert len(advice) >= 5
    for claim in advice:
        assert re.search(r"\bshould\b|\bmay need\b|only after consulting", claim.statement), (
            claim.id
        )
        assert claim.mechanism[0] == "safety", claim.id


def test_claims_about_approval_or_off_label_use_are_filed_as_status(ctx: Context) -> None:
    """A claim that a use is off-label, or what the drug is mainly used for, is of kind
    status, which the map keeps out of its strength mix, and the other way round."""
    about_use = {
        c.id
        for c in ctx.registry.claims
        if re.search(r"\boff-label\b|\bused mainly\b", c.statement) and c.kind != "background"
    }
    filed = {c.id for c in ctx.registry.claims if c.kind == "status"}
    assert about_use == filed
    assert len(filed) >= 10
