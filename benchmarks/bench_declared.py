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
folder: ``--fresh`` rebuilds), warms every operation up once, and times them through the test
client by URL, which both trees serve alike. PDFs stop before WeasyPrint (the same in both trees,
and seconds long): what is timed is the query and the HTML. Each round (``--rounds``) starts a
fresh child in each tree; in each of its turns (``--repeat``) every operation is timed in one tree
and right after in the other, the first alternating, so that both meet the same load.

Machine caveats: this machine has 2 cores shared with other work, whose load moves wall-clock
times by ±50 % between two runs of the same code seconds apart. The verdict is on CPU time (the
process's own, user + system, and that of any child it waited for), which the others' load
hardly moves; wall-clock medians and their ratio are printed beside it. Only the ratios mean
anything, not the milliseconds. With both trees at the same code every ratio is ≈ 1.0 (README).

Run: .venv/bin/python benchmarks/bench_declared.py [--baseline REV] [--rounds 3] [--json out.json]
About 3-4 minutes with the defaults on this machine (a tree's first run also seeds its database,
20-50 s, both at once).
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


class Child:
    """The measuring child in one tree: started, warmed up, then timing one operation per request."""

    def __init__(self, name: str, tree: Path, seed_file: Path, log: Path, count: bool) -> None:
        self.name, self.log = name, log
        command = [sys.executable, str(CHILD), "--seed-file", str(seed_file), *(["--count"] if count else [])]
        with log.open("w") as stderr:
            self.process = subprocess.Popen(command, cwd=tree,
                                            env={**os.environ, "PYTHONPATH": str(tree)}, text=True,
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr)

    def answer(self) -> dict:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait()
            raise SystemExit(f"the measuring child failed in the {self.name} tree "
                             f"(exit {self.process.returncode}):\n" + self.log.read_text()[-4000:])
        return json.loads(line)

    def time(self, index: int) -> dict:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{index}\n")
        self.process.stdin.flush()
        return self.answer()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def measure(trees: dict[str, Path], seeds: dict[str, Path], scratch: Path, rounds: int, repeat: int) -> dict:
    """Per round, a fresh child in each tree (started together: seeding and warming up are not
    timed; the first round's count the SQL statements); then ``repeat`` turns over the
    operations, each operation timed in one tree and at once in the other, which goes first
    alternating."""
    samples: dict[str, dict[str, dict[str, list[float]]]] = {name: {} for name in trees}
    first: dict[str, dict] = {}
    for n in range(rounds):
        children = {name: Child(name, tree, seeds[name], scratch / f"{name}-{n}.log", count=n == 0)
                    for name, tree in trees.items()}
        try:
            ready = {name: child.answer() for name, child in children.items()}
            for name, answer in ready.items():
                if answer["seeded_seconds"]:
                    print(f"  ({name}: seeded 2,016 applications in {answer['seeded_seconds']:.0f} s)",
                          flush=True)
                first.setdefault(name, answer)
            operations = ready["current"]["operations"]
            if ready["baseline"]["operations"] != operations:
                raise SystemExit("the two children name different operations: is the child the same file?")
            for turn in range(repeat):
                for index, operation in enumerate(operations):
                    order = list(trees) if (n + turn + index) % 2 == 0 else list(reversed(trees))
                    for name in order:
                        timed = children[name].time(index)
                        figures = samples[name].setdefault(operation, {"wall": [], "cpu": []})
                        figures["wall"].append(timed["wall"])
                        figures["cpu"].append(timed["cpu"])
        finally:
            for child in children.values():
                child.close()
        print(f"  round {n + 1}/{rounds} done", flush=True)
    return {"samples": samples, "first": first}


def summarize(measured: dict) -> list[dict]:
    """Per operation: the median of each tree's samples, CPU and wall-clock, and their ratios."""
    samples, first = measured["samples"], measured["first"]
    rows = []
    for name in first["current"]["operations"]:
        medians = {(tree, clock): statistics.median(samples[tree][name][clock])
                   for tree in samples for clock in ("cpu", "wall")}
        rows.append({"operation": name,
                     "baseline_ms": medians[("baseline", "cpu")] * 1000,
                     "current_ms": medians[("current", "cpu")] * 1000,
                     "ratio": medians[("current", "cpu")] / medians[("baseline", "cpu")],
                     "wall_ms": {tree: medians[(tree, "wall")] * 1000 for tree in samples},
                     "wall_ratio": medians[("current", "wall")] / medians[("baseline", "wall")],
                     "statements": {tree: first[tree]["statements"][name] for tree in samples},
                     "bytes": {tree: first[tree]["bytes"][name] for tree in samples},
                     "samples_ms": {tree: {clock: [s * 1000 for s in values]
                                           for clock, values in samples[tree][name].items()}
                                    for tree in samples}})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default=DEFAULT_BASELINE,
                        help=f"the revision to compare with ({DEFAULT_BASELINE})")
    parser.add_argument("--rounds", type=int, default=3, help="fresh children per tree (3)")
    parser.add_argument("--repeat", type=int, default=5, help="turns over the operations per round (5)")
    parser.add_argument("--json", type=Path, help="also write the figures and every sample here")
    parser.add_argument("--fresh", action="store_true", help="seed both databases again")
    args = parser.parse_args()
    try:
        baseline_commit = git("rev-parse", "--verify", f"{args.baseline}^{{commit}}")
    except subprocess.CalledProcessError:
        raise SystemExit(f"no such revision: {args.baseline}") from None
    scratch = Path(tempfile.mkdtemp(prefix="xkxl-bench-declared-"))
    worktree = scratch / "baseline"
    git("worktree", "add", "--detach", str(worktree), baseline_commit)
    try:
        trees = {"baseline": worktree, "current": CURRENT}
        revisions = {name: tree_revision(tree) for name, tree in trees.items()}
        seeds = {name: SEED_CACHE / f"{revision}.sqlite3" for name, revision in revisions.items()}
        for seed in SEED_CACHE.glob("*.sqlite3"):  # an edit's: never used again
            if seed not in seeds.values() and ("+dirty" in seed.name or args.fresh):
                seed.unlink(missing_ok=True)
        if args.fresh:
            for seed in seeds.values():
                seed.unlink(missing_ok=True)
        print(f"Declared values, 2,016 applications: baseline {args.baseline} ({revisions['baseline'][:12]}) "
              "vs "
              f"current {CURRENT} ({revisions['current'].split('-')[0][:12]}"
              f"{' + uncommitted changes' if '+dirty' in revisions['current'] else ''}); "
              f"{args.rounds} rounds × {args.repeat} turns per tree, alternating", flush=True)
        rows = summarize(measure(trees, seeds, scratch, args.rounds, args.repeat))
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=CURRENT, check=False)
        subprocess.run(["git", "worktree", "prune"], cwd=CURRENT, check=False)
        shutil.rmtree(scratch, ignore_errors=True)

    print(table([(row["operation"], f"{row['baseline_ms']:.1f}", f"{row['current_ms']:.1f}",
                  f"{row['ratio']:.2f}×",
                  f"{row['wall_ms']['baseline']:.1f} / {row['wall_ms']['current']:.1f} = "
                  f"{row['wall_ratio']:.2f}×",
                  f"{row['statements']['baseline']} / {row['statements']['current']}",
                  "ok" if row["ratio"] <= TARGET else "SLOWER")
                 for row in rows],
                ("operation", "baseline CPU ms", "current CPU ms", "ratio", "wall ms: base / cur",
                 "SQL: base / cur", "")))
    slower = [row["operation"] for row in rows if row["ratio"] > TARGET]
    worst = max(rows, key=lambda row: row["ratio"])
    print(f"\ntarget: every ratio current / baseline ≤ {TARGET}× (CPU time, medians of "
          f"{args.rounds * args.repeat} samples each); worst {worst['ratio']:.2f}× ({worst['operation']}): "
          + ("PASS" if not slower else f"FAIL ({len(slower)} slower: {', '.join(slower)})"))
    if args.json:
        args.json.write_text(json.dumps({"baseline": args.baseline, "revisions": revisions, "target": TARGET,
                                         "rounds": args.rounds, "repeat": args.repeat, "operations": rows},
                                        ensure_ascii=False, indent=1))
    if slower:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
