"""Benchmark: anchoring 10,000 quotes of about 150 characters in sources of about 15 KB.

Target (issue 2): at most 1 s on this 2-core machine. The peer in the same run is the
same matcher without the exact-substring fast path (rapidfuzz for every quote), so the
ratio shows what the fast path buys whatever the machine's load.

    python bench/anchoring.py [--quotes 10000] [--sources 20] [--runs 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from rapidfuzz import fuzz  # noqa: E402

from naltrexone_site.anchoring import SourceText, normalize  # noqa: E402

WORDS = [
    "naltrexone",
    "opioid",
    "receptor",
    "blockade",
    "dopamine",
    "release",
    "reward",
    "pathway",
    "endorphin",
    "rebound",
    "immune",
    "inflammation",
    "cortisol",
    "stress",
    "serotonin",
    "mood",
    "depression",
    "anxiety",
    "craving",
    "relapse",
    "alcohol",
    "dependence",
    "low",
    "dose",
    "standard",
    "clinical",
    "study",
    "patients",
    "brain",
    "signalling",
    "may",
    "could",
    "thought",
    "to",
    "increase",
    "decrease",
    "modulate",
    "pleasure",
    "pain",
    "fibromyalgia",
    "sleep",
    "nausea",
    "headache",
]


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(12, 28))]
    words[0] = words[0].capitalize()
    if rng.random() < 0.3:
        words[rng.randrange(len(words))] = "brain’s"  # curly apostrophes, as in the seeds
    return " ".join(words) + "."


def make_corpus(
    n_sources: int, n_quotes: int, seed: int = 7
) -> tuple[list[str], list[tuple[int, str]]]:
    rng = random.Random(seed)
    sources = []
    for _ in range(n_sources):
        paragraphs, size = [], 0
        while size < 15_000:
            para = " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))
            paragraphs.append(("## Heading\n\n" if rng.random() < 0.2 else "") + para)
            size += len(para)
        sources.append("\n\n".join(paragraphs))
    quotes = []
    for i in range(n_quotes):
        s = rng.randrange(n_sources)
        body = sources[s]
        start = rng.randrange(0, len(body) - 200)
        start = body.index(" ", start) + 1
        quote = " ".join(body[start : start + 150].split()[:-1])
        if i % 20 == 0:  # 5% edited by hand: one word changed, the fuzzy path
            words = quote.split()
            words[len(words) // 2] = "zzzz"
            quote = " ".join(words)
        elif i % 3 == 0:
            quote = quote.replace("’", "'")  # straight apostrophes: still exact
        quotes.append((s, quote))
    return sources, quotes


def anchor(sources: list[str], quotes: list[tuple[int, str]]) -> tuple[float, int]:
    start = time.perf_counter()
    texts = [SourceText(body) for body in sources]
    exact = sum(texts[s].find(q).exact for s, q in quotes)
    return time.perf_counter() - start, exact


def anchor_fuzzy_only(sources: list[str], quotes: list[tuple[int, str]]) -> float:
    start = time.perf_counter()
    texts = [SourceText(body) for body in sources]
    for s, q in quotes:
        fuzz.partial_ratio_alignment(normalize(q), texts[s].norm)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=10_000)
    parser.add_argument("--sources", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--peer-quotes", type=int, default=500, help="quotes for the slow peer")
    args = parser.parse_args()
    sources, quotes = make_corpus(args.sources, args.quotes)
    size = statistics.mean(len(s) for s in sources)
    qlen = statistics.mean(len(q) for _, q in quotes)
    times, exact = [], 0
    for _ in range(args.runs):
        seconds, exact = anchor(sources, quotes)
        times.append(seconds)
    peer = [anchor_fuzzy_only(sources, quotes[: args.peer_quotes]) for _ in range(args.runs)]
    ours = statistics.median(times)
    per_quote_peer = statistics.median(peer) / args.peer_quotes
    per_quote_ours = ours / args.quotes
    print(
        f"{args.quotes:,} quotes (mean {qlen:.0f} chars) in {args.sources} sources "
        f"(mean {size / 1000:.1f} KB); {exact:,} exact, {args.quotes - exact:,} fuzzy"
    )
    print(
        f"anchoring, median of {args.runs}: {ours:.3f} s "
        f"(min {min(times):.3f}, max {max(times):.3f}); target <= 1.000 s: "
        f"{'met' if ours <= 1.0 else 'NOT met'}"
    )
    print(
        f"peer without the fast path (rapidfuzz on every quote, {args.peer_quotes} quotes): "
        f"{per_quote_peer * 1e3:.3f} ms/quote vs {per_quote_ours * 1e3:.4f} ms/quote: "
        f"{per_quote_peer / per_quote_ours:.0f}x slower"
    )
    return 0 if ours <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
