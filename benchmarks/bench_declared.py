"""Issue 21, item 2: the values stored against the declaration keep the speed of what sorts or
totals figures. At 2,016 applications (21 cities × 96), every operation below must take at most
1.2× its time on a baseline revision, both measured side by side in the same run:

- 全部申报 (the province's list): page 1, filtered (one city's 初审通过, page 2), a search;
- the province dashboard (fragment cache off: every request renders);
- the roster: its page and its XLSX; the HTML its PDF is laid out from;
- 成都's 附件3 (96 rows): its page, its XLSX, the HTML its PDF is laid out from;
- the comparison of one figure (上年销售) across the applications, by value, and 初审通过 descending;
- 攀枝花's indicator template filled with its 96 applications, and their import: the upload
  read and previewed, then confirmed (one figure changed in all 96, so that every one is written).

How: the baseline revision (``--baseline``, default 632e459, the last commit before issue 21's
changes to the application) is checked out in a temporary ``git worktree add --detach`` (removed
at the end). The same measuring child (``_declared_child.py``, from this tree) runs in each tree,
with ``PYTHONPATH`` and the working directory set to that tree and this interpreter: it seeds its
database with the tree's own ``benchmarks/_common.py`` (cached per tree revision under the temp
folder: ``--fresh`` rebuilds), and times the operations through the test client by URL, which
both trees serve alike, after one warm-up, in turns. PDFs are cut before WeasyPrint (the same in
both trees, and seconds long): what is timed is the query and the HTML. The children run
baseline, current, current, baseline … (``--rounds``), so that the machine's load weighs on both.

Machine caveats: this runs on 2 shared cores, with other work on them. Only the ratios mean
anything, not the milliseconds; a ratio far from 1 on a short operation is worth a second run
before it is believed. With both trees at the same code the ratios are ≈ 1.0 (see README).

Run: .venv/bin/python benchmarks/bench_declared.py [--baseline REV] [--rounds 3] [--json out.json]
About 4-5 minutes with the defaults (the first run also seeds each tree's database, ≈ 15 s each).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import table

HERE = Path(__file__).resolve().parent
CURRENT = HERE.parent
CHILD = HERE / "_declared_child.py"
DEFAULT_BASELINE = "632e459"
TARGET = 1.2
SEED_CACHE = Path(tempfile.gettempdir()) / "xkxl-bench-declared"


def git(*args: str, cwd: Path = CURRENT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def tree_revision(tree: Path) -> str:
    """The tree's commit, and a digest of its uncommitted changes if it has any: what its seeded
    database depends on (with the child's own text, which seeds it)."""
    revision = git("rev-parse", "HEAD", cwd=tree)
    digest = hashlib.sha256(CHILD.read_bytes())
    if git("status", "--porcelain", cwd=tree):
        digest.update(git("diff", "HEAD", "--binary", cwd=tree).encode())
        for name in git("ls-files", "--others", "--exclude-standard", cwd=tree).splitlines():
            digest.update(name.encode() + (tree / name).read_bytes())
        revision += "+dirty"
    return f"{revision}-{digest.hexdigest()[:12]}"


def run_child(tree: Path, seed_file: Path, repeat: int) -> dict:
    command = [sys.executable, str(CHILD), "--seed-file", str(seed_file), "--repeat", str(repeat)]
    done = subprocess.run(command, cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)},
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the measuring child failed in {tree} (exit {done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout)


def measure(trees: dict[str, Path], seeds: dict[str, Path], rounds: int, repeat: int) -> dict[str, list[dict]]:
    """Each tree's child once per round, in the order A B, B A, A B …"""
    runs: dict[str, list[dict]] = {name: [] for name in trees}
    for n in range(rounds):
        order = list(trees) if n % 2 == 0 else list(reversed(trees))
        for name in order:
            result = run_child(trees[name], seeds[name], repeat)
            if result.get("seeded_seconds"):
                print(f"  ({name}: seeded 2,016 applications in {result['seeded_seconds']:.0f} s)", flush=True)
            runs[name].append(result)
        print(f"  round {n + 1}/{rounds} done", flush=True)
    return runs


def summarize(runs: dict[str, list[dict]]) -> list[dict]:
    """Per operation: the median of every sample of each tree, their ratio, and the spread of the
    rounds' own ratios (each round's medians, measured minutes apart)."""
    rows = []
    for name in runs["current"][0]["samples"]:
        samples = {tree: [s for run in tree_runs for s in run["samples"][name]] for tree, tree_runs in runs.items()}
        medians = {tree: statistics.median(values) for tree, values in samples.items()}
        per_round = [statistics.median(c["samples"][name]) / statistics.median(b["samples"][name])
                     for b, c in zip(runs["baseline"], runs["current"], strict=True)]
        rows.append({"operation": name, "baseline_ms": medians["baseline"] * 1000,
                     "current_ms": medians["current"] * 1000, "ratio": medians["current"] / medians["baseline"],
                     "round_ratios": per_round,
                     "statements": {tree: tree_runs[0]["statements"].get(name, 0) for tree, tree_runs in runs.items()},
                     "bytes": {tree: tree_runs[0]["bytes"][name] for tree, tree_runs in runs.items()},
                     "samples_ms": {tree: [s * 1000 for s in values] for tree, values in samples.items()}})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help=f"the revision to compare with ({DEFAULT_BASELINE})")
    parser.add_argument("--rounds", type=int, default=3, help="children per tree, alternating (3)")
    parser.add_argument("--repeat", type=int, default=3, help="timed turns per child (3)")
    parser.add_argument("--json", type=Path, help="also write the figures and every sample here")
    parser.add_argument("--fresh", action="store_true", help="seed both databases again")
    args = parser.parse_args()
    baseline_commit = git("rev-parse", "--verify", f"{args.baseline}^{{commit}}")
    scratch = Path(tempfile.mkdtemp(prefix="xkxl-bench-declared-"))
    worktree = scratch / "baseline"
    git("worktree", "add", "--detach", str(worktree), baseline_commit)
    try:
        trees = {"baseline": worktree, "current": CURRENT}
        revisions = {name: tree_revision(tree) for name, tree in trees.items()}
        seeds = {name: SEED_CACHE / f"{revision}.sqlite3" for name, revision in revisions.items()}
        if args.fresh:
            for seed in seeds.values():
                seed.unlink(missing_ok=True)
        print(f"Declared values, 2,016 applications: baseline {args.baseline} ({revisions['baseline'][:12]}) vs "
              f"current {CURRENT} ({revisions['current'].split('-')[0][:12]}"
              f"{' + uncommitted changes' if '+dirty' in revisions['current'] else ''}); "
              f"{args.rounds} rounds × {args.repeat} turns per tree, alternating", flush=True)
        rows = summarize(measure(trees, seeds, args.rounds, args.repeat))
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=CURRENT, check=False)
        subprocess.run(["git", "worktree", "prune"], cwd=CURRENT, check=False)
        shutil.rmtree(scratch, ignore_errors=True)

    print(table([(row["operation"], f"{row['baseline_ms']:.1f}", f"{row['current_ms']:.1f}", f"{row['ratio']:.2f}×",
                  "–".join(f"{r:.2f}" for r in (min(row["round_ratios"]), max(row["round_ratios"]))),
                  f"{row['statements']['baseline']} / {row['statements']['current']}", "ok" if row["ratio"] <= TARGET else "SLOWER")
                 for row in rows],
                ("operation", "baseline ms", "current ms", "ratio", "rounds' ratios", "SQL (base / cur)", "")))
    slower = [row["operation"] for row in rows if row["ratio"] > TARGET]
    worst = max(rows, key=lambda row: row["ratio"])
    print(f"\ntarget: every ratio current / baseline ≤ {TARGET}× (medians of {args.rounds * args.repeat} samples "
          f"each); worst {worst['ratio']:.2f}× ({worst['operation']}): "
          + ("PASS" if not slower else f"FAIL ({len(slower)} slower: {', '.join(slower)})"))
    if args.json:
        args.json.write_text(json.dumps({"baseline": args.baseline, "revisions": revisions, "target": TARGET,
                                         "rounds": args.rounds, "repeat": args.repeat, "operations": rows},
                                        ensure_ascii=False, indent=1))
    if slower:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
