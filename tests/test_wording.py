"""Wording against grade: a source that states a weak claim flatly (the overstated mark), and
a claim's own statement, which must be worded as its grade is."""

from __future__ import annotations

from pathlib import Path

import pytest

from naltrexone_site.analysis import flat, flat_evidence, lead_in, worded_as_fact
from naltrexone_site.anchoring import normalize
from naltrexone_site.models import Claim, Evidence
from naltrexone_site.pages import derive_marks
from naltrexone_site.pipeline import check_project

REPO = Path(__file__).parent.parent


@pytest.mark.parametrize(
    ("passage", "expected"),
    [
        # the mood article's sentences: shown, then a hedge only on what follows from it
        ("Naltrexone has been shown to increase the release of dopamine, which may help.", True),
        ("Naltrexone has been found to have anxiolytic effects, meaning that it may help", True),
        ("LDN's impact on the immune system is well-documented", True),
        ("Naltrexone blocks opioid receptors.", True),  # no hedge at all
        ("Naltrexone may increase the release of dopamine.", False),
        ("Studies suggest it has been shown to work in mice.", True),  # shown wins
        ("Pain is an area where LDN is anecdotally associated with benefit", False),
        ("Proponents of LDN argue that it raises endorphins", False),
        ("It has not been shown to help", True),  # no hedge: flat, as before
        # what is yet to be found out claims nothing
        ("Further research is needed on its effects on mood.", False),
        ("Patients took 4.5 mg for 12 weeks to determine its effect; pain fell by 30%.", True),
        # "report" hedges as an attribution, not as an instruction (the vendor's sentence)
        ("Some users report sleeping better.", False),
        ("Better sleep is reported by some users.", False),
        (
            "While these side effects are generally mild and often improve with time, it's "
            "important to report any persistent or severe side effects to a healthcare provider.",
            True,
        ),
    ],
)
def test_a_passage_is_flat_without_a_hedge_or_when_it_says_shown(
    passage: str, expected: bool
) -> None:
    assert flat(normalize(passage)) is expected


LISTS = """## Anecdotal reports

While its effect remains uncertain, many report changes. These anecdotal reports often include:
- Better sleep: Improved sleep quality is frequently mentioned.

- Less pain: Pain relief is mentioned too.

## Side effects

- Nausea: it causes nausea.

Here is the list, in a paragraph.
- Headache: it causes headaches.

Here are some potential applications to consider:

1. Long-Term Effects: Studying the sustained effects to determine optimal dosing.
2. Combination Therapy: Investigating other medicines.
Not a list item, after one: it stands alone.

Reports from users,
which may vary, often include:
10. Sleep: many say that
   rest comes more easily.
- Items:
  - Mood: nested under the item that introduces it.
"""


@pytest.mark.parametrize(
    ("passage", "intro"),
    [
        # the sentence that introduces the list, the last of its paragraph; blank lines
        # between items are one list
        ("Improved sleep quality", "These anecdotal reports often include:"),
        ("Pain relief is mentioned", "These anecdotal reports often include:"),
        ("Studying the sustained", "Here are some potential applications to consider:"),
        ("Investigating other", "Here are some potential applications to consider:"),
        ("it causes nausea", ""),  # a heading above the list
        ("it causes headaches", ""),  # a paragraph that introduces nothing
        ("it stands alone", ""),  # not a list item
        ("While its effect", ""),
        # a paragraph over two lines; an item's second line; "10."; a nested list
        ("Sleep: many", "Reports from users, which may vary, often include:"),
        ("rest comes more", "Reports from users, which may vary, often include:"),
        ("Mood: nested", "Items:"),
    ],
)
def test_a_list_item_is_read_with_the_sentence_that_introduces_its_list(
    passage: str, intro: str
) -> None:
    """The listenit article's "Better sleep: ... frequently mentioned." is one of "These
    anecdotal reports": stated flatly as an item, but hedged by what introduces it."""
    assert lead_in(LISTS, LISTS.index(passage)) == intro


def test_a_hedged_introduction_excuses_a_flat_item_unless_the_item_says_shown() -> None:
    claim = Claim(
        id="c",
        statement="Users say they sleep better.",
        kind="clinical-effect",
        mechanism=("mood",),
        dose="low",
        strength="anecdotal",
        evidence=(
            Evidence("s", "Better sleep is common.", "supports"),
            Evidence("s", "Better sleep has been shown to follow.", "supports"),
            Evidence("s", "Better sleep is common.", "supports"),
        ),
    )
    intros = [normalize("Users may report:"), normalize("Users may report:"), ""]
    assert flat_evidence(claim, intros=intros) == (1, 2)
    shown = [normalize("It has been shown to bring, though results may vary:")] * 3
    assert flat_evidence(claim, intros=shown) == (0, 1, 2)  # "shown" wins there too


def test_anecdotes_listed_as_such_are_not_overstated() -> None:
    ctx = check_project(REPO).context
    assert ctx is not None
    marks = derive_marks(ctx.registry.claims, ctx.flat)
    assert not marks["ldn-users-report-better-sleep"].overstated  # "These anecdotal reports"
    assert not marks["optimal-dose-and-duration-undetermined"].overstated  # "potential"
    assert marks["naltrexone-hinders-dopamine-release"].overstated  # a paragraph, no hedge


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("Naltrexone increases the release of dopamine.", True),
        # the hedge is only on what follows: the statement as it was before this check
        ("Naltrexone increases the release of dopamine, which may contribute to mood.", True),
        ("Naltrexone has anti-inflammatory properties; these may affect mood.", True),
        ("The mood article asserts that naltrexone increases dopamine, which may help.", False),
        ("Naltrexone *may* increase the release of dopamine.", False),  # Markdown ignored
        ("Low-dose naltrexone is thought to modulate the immune system.", False),
        ("Some users report sleeping better on naltrexone.", False),
        ("One article asserts that naltrexone modulates serotonin levels.", False),
        ("According to the vendor, naltrexone lifts mood.", False),
        ("Blocking opioid receptors is said to change the reward system.", False),
    ],
)
def test_a_statement_is_worded_as_fact_without_a_hedge_or_attribution(
    statement: str, expected: bool
) -> None:
    assert worded_as_fact(statement) is expected


def test_the_bundled_registry_marks_its_flat_passages_as_overstated() -> None:
    """The mood article's "has been shown to increase the release of dopamine, which may
    contribute ..." went unmarked while any hedge anywhere excused a passage; the vendor's
    "generally mild ..., it's important to report" while an instruction counted as one."""
    checked = check_project(REPO)
    assert checked.context is not None
    marks = derive_marks(checked.context.registry.claims)
    for claim_id in (
        "naltrexone-increases-dopamine-release",
        "naltrexone-reduces-cortisol-release",
        "may-reduce-anxiety",
        "naltrexone-anti-inflammatory-mood",
    ):
        assert marks[claim_id].overstated, claim_id
    assert not marks["ldn-users-report-less-pain"].overstated  # "anecdotally associated"
    # the vendor's "generally mild": its "it's important to report" is advice, not a hedge
    assert marks["side-effects-generally-mild-and-temporary"].overstated
