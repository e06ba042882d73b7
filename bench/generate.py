"""Synthetic registries for the benchmarks: N claims over S sources.

Quotes are planted in the source texts (so every one anchors), field sizes follow the
real registry, every mechanism and dose is used, about 5% of statements are
near-duplicates of another, about 2% of claims contradict another, and half the claim
files hold typographic characters (curly quotes, an apostrophe), as half the real ones do.

    python bench/generate.py OUT_DIR --claims 10000 [--sources 50] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from itertools import accumulate
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from naltrexone_site.analysis import WEAK_GRADES  # noqa: E402
from naltrexone_site.load import load_registry  # noqa: E402

BASE_WORDS = (
    "naltrexone opioid receptor blockade dopamine release reward pathway endorphin rebound "
    "immune inflammation cortisol stress serotonin mood depression anxiety craving relapse "
    "alcohol dependence clinical patients brain signalling pleasure pain fibromyalgia sleep "
    "nausea headache microglia cytokine tolerance withdrawal abstinence motivation appetite"
)
SYLLABLES = "ka lo mi ne ru ta vo si pe da fu ri mo le xa zo bi ce gu hy".split()


VOCABULARY = 4000  # words, for registries of up to 10,000 claims


def vocabulary(rng: random.Random, size: int = VOCABULARY) -> tuple[list[str], list[float]]:
    """Real text has a long tail of rare words (Zipf); duplicate detection relies on it.
    A larger registry covers more topics rather than repeating the same words more often,
    so past 10,000 claims the vocabulary grows with the claims (the 1,000- and 10,000-claim
    registries are as before): each word keeps the frequency it has at 10,000."""
    words = BASE_WORDS.split()
    while len(words) < size:
        words.append("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return words, [1 / (rank + 1) for rank in range(len(words))]


STANCES = ["supports"] * 8 + ["qualifies", "disputes"]
KINDS = ["mechanism", "clinical-effect", "safety", "dosing", "pharmacology"]


_WORDS: tuple[list[str], list[float]] = ([], [])


def words(rng: random.Random, low: int, high: int) -> str:
    vocab, cumulative = _WORDS  # cumulative weights: `weights=` would sum them on every call
    return " ".join(rng.choices(vocab, cum_weights=cumulative, k=rng.randint(low, high)))


def generate(out: Path, n_claims: int, n_sources: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    vocab, weights = vocabulary(rng, VOCABULARY * max(1, n_claims // 10_000))
    _WORDS[0][:], _WORDS[1][:] = vocab, list(accumulate(weights))
    if out.exists():
        shutil.rmtree(out)
    (out / "content" / "sources").mkdir(parents=True)
    (out / "content" / "mechanisms").mkdir()
    (out / "claims").mkdir()
    shutil.copytree(REPO / "content" / "taxonomy", out / "content" / "taxonomy")
    shutil.copy(REPO / "content" / "site.yaml", out / "content" / "site.yaml")
    registry = load_registry(REPO).registry
    assert registry is not None
    mechanisms = [t.id for t in registry.taxonomy.mechanisms]
    doses = [t.id for t in registry.taxonomy.doses]
    # 'clinical' needs a cited trial, and synthetic sources have no reference lists
    graded = [t.id for t in registry.taxonomy.strengths if t.id != "clinical"]
    kinds = [t.id for t in registry.taxonomy.source_kinds]

    # Each claim gets 1-3 quotes; each quote is a unique sentence planted in one source.
    planted: list[list[str]] = [[] for _ in range(n_sources)]
    claims = []
    statements: list[str] = []
    for i in range(n_claims):
        cid = f"claim-{i:06d}"
        if statements and rng.random() < 0.05:  # near-duplicate of an earlier statement
            statement = rng.choice(statements) + " too"
        else:
            statement = f"Naltrexone {words(rng, 8, 18)} ({i})."
        if graded[i % len(graded)] in WEAK_GRADES and not statement.startswith("Naltrexone may"):
            # worded as its grade is, as `check` asks of an editor
            statement = statement.replace("Naltrexone", "Naltrexone may", 1)
        statements.append(statement)
        evidence = []
        for n in range(rng.choice((1, 1, 1, 2, 2, 3))):
            s = rng.randrange(n_sources)
            # Typographic characters, as in the real registry, where 69 of 151 claim
            # files hold one (curly quotes in notes, an apostrophe in a quote): a claim
            # in four has a note, in curly quotes, and another in four an apostrophe in
            # its quotes. A file not all ASCII takes the slower check for characters a
            # reader cannot see. (No draw from `rng`: the rest is generated as before.)
            says = "naltrexone’s" if i % 4 == 2 else "naltrexone"
            quote = f"Claim {i} says {says} {words(rng, 14, 24)}."
            planted[s].append(quote)
            evidence.append(
                (f"source-{s:03d}", quote, "supports" if n == 0 else rng.choice(STANCES))
            )
        contradicts = [f"claim-{rng.randrange(i):06d}"] if i and rng.random() < 0.02 else []
        claims.append((cid, statement, evidence, contradicts))

    for s, quotes in enumerate(planted):
        rng.shuffle(quotes)
        paragraphs = []
        for start in range(0, len(quotes), 5):
            if start % 40 == 0:
                paragraphs.append(f"## Section {start // 40 + 1}")
            paragraphs.append(" ".join(quotes[start : start + 5]))
        (out / "content" / "sources" / f"source-{s:03d}.md").write_text(
            "---\n"
            f"id: source-{s:03d}\n"
            f"title: Synthetic source {s}\n"
            "publisher: null\npublished: null\n"
            f"kind: {kinds[s % len(kinds)]}\n"
            "commercial_interest: null\ncites_literature: false\nreferences: []\n"
            "seed: synthetic\nremoved: []\nboilerplate: []\nnote: null\n"
            "---\n" + "\n\n".join(paragraphs) + "\n",
            encoding="utf-8",
        )

    for i, (cid, statement, evidence, contradicts) in enumerate(claims):
        lines = [
            "# yaml-language-server: $schema=../schema/claim.schema.json",
            f"id: {cid}",
            f"statement: {statement}",
            f"kind: {KINDS[i % len(KINDS)]}",
            f"mechanism: [{mechanisms[i % len(mechanisms)]}"
            + (f", {mechanisms[(i * 7 + 3) % len(mechanisms)]}]" if i % 3 == 0 else "]"),
            f"dose: {doses[(i // len(mechanisms)) % len(doses)]}",
            f"strength: {graded[i % len(graded)]}",
            "evidence:",
        ]
        for source, quote, stance in evidence:
            lines += [f"  - source: {source}", f"    quote: {quote}", f"    stance: {stance}"]
        if contradicts:
            lines.append(f"contradicts: [{', '.join(contradicts)}]")
        if i % 4 == 0:
            lines.append(f"note: The synthetic note for claim {i}, “*{words(rng, 6, 14)}*”.")
        lines.append("reviewed: 2026-11-21")
        (out / "claims" / f"{cid}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--claims", type=int, default=1000)
    parser.add_argument("--sources", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate(args.out, args.claims, args.sources, args.seed)
    print(f"wrote {args.claims:,} claims over {args.sources} sources to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
