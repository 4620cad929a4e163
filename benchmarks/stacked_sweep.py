"""Stacked sweeps vs the per-cell path: wall time, runs/s and peak memory of real sweep commands.

    python -m benchmarks.stacked_sweep                 # default and fine sweeps (~20 min busy)
    python -m benchmarks.stacked_sweep --rounds 1 --no-growth    # only the default pair

Every measurement is a real `python -m src.train ...` subprocess with its folder in a temp dir.
The default 35-cell sweep (`sweep=bs_lr`) runs with the stacked sweeper (its default) and with
`hydra/sweeper=basic` (one job per cell), interleaved A B, B A, ...; the ratio is taken per round.
Then the stacked sweeper alone on 105 runs (`sweep=bs_lr trainer.seed=0,1,2`), 352
(`sweep=bs_lr_fine trainer.seed=0`) and 1,056 (`sweep=bs_lr_fine`). Peak RSS is the largest sum
of the resident sets of the command's whole process tree (parent and launcher workers), sampled
from /proc every 0.1 s. The per-cell path on the fine sweep runs only with `--fine-per-cell`;
otherwise its time is estimated from the per-cell default sweep of the same run (see `estimate`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks.report import load, publish
from benchmarks.sweep import ROOT, interleave, machine, slug
from src.results import METRICS

RESULTS = ROOT / "benchmarks" / "results" / "stacked_sweep.md"
FINE_MAP = ROOT / "docs" / "phase_map_fine.png"
PAIR = {"stacked": ["sweep=bs_lr"], "per-cell": ["sweep=bs_lr", "hydra/sweeper=basic"]}
GROWTH = {
    105: ["sweep=bs_lr", "trainer.seed=0,1,2"],
    352: ["sweep=bs_lr_fine", "trainer.seed=0"],
    1056: ["sweep=bs_lr_fine"],
}
PAGE_KB = 4  # /proc/<pid>/statm counts pages


def tree_rss_mb(root: int) -> float:
    """Resident memory of `root` and all its descendants, in MB (0 for vanished processes)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        with contextlib.suppress(OSError, IndexError):  # gone meanwhile
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB
    return total / 1024


def run(overrides: list[str], sweep_dir: Path) -> dict:
    """One sweep command: wall seconds, peak tree RSS, and every run's metrics.json."""
    command = [sys.executable, "-m", "src.train", *overrides, f"hydra.sweep.dir={sweep_dir}"]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = [0.0]

    def sample() -> None:
        while process.poll() is None:
            peak[0] = max(peak[0], tree_rss_mb(process.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = process.communicate()
    wall = time.perf_counter() - start
    sampler.join()
    if process.returncode:
        raise RuntimeError(f"{shlex.join(command)} failed:\n{err.decode()[-2000:]}")
    metrics = [json.loads(p.read_text()) for p in sweep_dir.glob(f"*/{METRICS}")]
    print(f"{len(metrics):5} runs {shlex.join(overrides):45} {wall:6.1f} s, peak RSS "
          f"{peak[0]:5.0f} MB, load {load()}", flush=True)  # fmt: skip
    return {"wall": wall, "rss": peak[0], "metrics": metrics, "dir": sweep_dir}


def estimate(per_cell: dict, fine: dict, workers: int = 2) -> float:
    """Seconds the per-cell path would take on the fine sweep, from the per-cell default sweep.

    With `workers` jobs in parallel a sweep of cells takes (cells * a + b * steps) / workers:
    b, seconds per step, fitted to the default cells' `wall_seconds` against their steps (least
    squares); a, everything else per cell, is what is left of that sweep's wall time. The fine
    sweep's runs bring their actual steps (from its stacked run)."""
    steps = np.array([m["steps"] for m in per_cell["metrics"]], dtype=float)
    seconds = np.array([m["wall_seconds"] for m in per_cell["metrics"]])
    b = float(np.polyfit(steps, seconds, 1)[0])
    a = (workers * per_cell["wall"] - b * steps.sum()) / len(steps)
    fine_steps = sum(m["steps"] for m in fine["metrics"])
    return (len(fine["metrics"]) * a + b * fine_steps) / workers


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="interleaved pairs, default sweep")
    parser.add_argument("--no-growth", action="store_true", help="skip the 105 ... 1,056 runs")
    parser.add_argument("--fine-per-cell", action="store_true", help="run it, do not estimate")
    parser.add_argument("--map", type=Path, default=FINE_MAP, help="copy of the fine map PNG")
    parser.add_argument("--out", type=Path, default=RESULTS, help="Markdown results file")
    args = parser.parse_args(argv)
    facts = machine()
    with tempfile.TemporaryDirectory(prefix="trainmap-stacked-") as tmp:
        work = Path(tmp)
        run(["--multirun", "trainer.epochs=1", "optimizer.lr=0.1,1"], work / "warm")  # untimed
        timed = {n: lambda r, o=o, n=n: run(o, work / f"{slug(n)}-{r}") for n, o in PAIR.items()}
        pair = interleave(timed, args.rounds)
        growth = {} if args.no_growth else {n: run(o, work / str(n)) for n, o in GROWTH.items()}
        if 1056 in growth and args.fine_per_cell:
            growth["per-cell 1056"] = run([*GROWTH[1056], "hydra/sweeper=basic"], work / "fine-pc")
        if 1056 in growth and args.map:
            shutil.copyfile(growth[1056]["dir"] / "phase_map.png", args.map)
            print(f"fine map copied to {args.map}")
        facts["load_after"] = load()
        publish(markdown(pair, growth, facts, argv), args.out)


def markdown(pair: dict, growth: dict, facts: dict, argv: list[str] | None) -> str:
    """Setting, the default pair per round, the growth table and the targets."""
    rounds = [(s["wall"], c["wall"], c["wall"] / s["wall"]) for s, c in zip(*pair.values())]
    lines = [
        "# Stacked sweeps vs one job per cell: wall time, runs/s, peak RSS",
        "",
        f"- Command: `python -m benchmarks.stacked_sweep {shlex.join(argv or sys.argv[1:])}`",
        f"- Measured {facts['date']} on {facts['cpu']} (nproc {facts['nproc']}), shared with "
        f"other jobs; {facts['software']}; source tree {facts['tree']}",
        f"- Load average before / after: {facts['load_before']} / {facts['load_after']}",
        "- Real `python -m src.train` commands, launcher joblib with its default n_jobs (all "
        "cores), TensorBoard logging, diagnosis and theory measurements on (the defaults).",
        "- Peak RSS: largest sum over the command's process tree (parent + workers), /proc "
        "sampled every 0.1 s.",
        "",
        "## Default sweep (`sweep=bs_lr`, 35 runs), interleaved",
        "",
        "| round | stacked s | per-cell s (`hydra/sweeper=basic`) | per-cell / stacked |",
        "|---|---|---|---|",
        *(f"| {i + 1} | {s:.1f} | {c:.1f} | {r:.2f}x |" for i, (s, c, r) in enumerate(rounds)),
        "",
        f"Median ratio {statistics.median(r for *_, r in rounds):.2f}x; peak RSS stacked "
        f"{max(s['rss'] for s in pair['stacked']):.0f} MB, per-cell "
        f"{max(c['rss'] for c in pair['per-cell']):.0f} MB.",
    ]
    if growth:
        lines += growth_table(pair, growth)
    return "\n".join(lines) + "\n"


def growth_table(pair: dict, growth: dict) -> list[str]:
    """Wall time, runs/s and peak RSS from 35 to 1,056 runs, stacked; the per-cell fine cost."""
    first = statistics.median(s["wall"] for s in pair["stacked"])
    top = max(pair["stacked"], key=lambda s: s["rss"])
    rows = [("35", "sweep=bs_lr (median of the rounds)", first, top)]
    rows += [(f"{n:,}", " ".join(GROWTH[n]), growth[n]["wall"], growth[n]) for n in GROWTH]
    lines = [
        "",
        "## How wall time grows (stacked sweeper)",
        "",
        "| runs | command | wall s | runs/s | s per run | peak RSS MB |",
        "|---|---|---|---|---|---|",
    ]
    for runs, command, wall, result in rows:
        count = len(result["metrics"])
        lines.append(f"| {runs} | `{command}` | {wall:.1f} | {count / wall:.1f} | "
                     f"{wall / count:.3f} | {result['rss']:.0f} |")  # fmt: skip
    fine = growth[1056]
    per_cell = statistics.median(c["wall"] for c in pair["per-cell"])
    guess = estimate(min(pair["per-cell"], key=lambda c: abs(c["wall"] - per_cell)), fine)
    measured = growth.get("per-cell 1056")
    basis = f"estimated from the per-cell default sweep nearest its median: {guess:.0f} s"
    per_cell_fine = measured["wall"] if measured else guess
    lines += [
        "",
        f"Fine sweep, per-cell path: {per_cell_fine:.0f} s "
        f"({'measured in this run; ' + basis if measured else basis + ', not run'}), vs "
        f"{fine['wall']:.0f} s stacked: {per_cell_fine / fine['wall']:.1f}x.",
        "",
        "Targets (issue): default <= 5 s, fine <= 60 s wall on 2 cores, fine peak RSS <= 2 GB: "
        f"default {first:.1f} s, fine {fine['wall']:.1f} s, {fine['rss']:.0f} MB.",
    ]
    return lines


if __name__ == "__main__":
    main()
