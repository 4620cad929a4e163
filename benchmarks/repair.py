"""How many failed cells `python -m src.repair` makes converge, and what it costs next to the sweep.

    python -m benchmarks.repair          # reduced: bs 1,8,64,512,1437 x lr 1e-4 ... 100 (7)
    python -m benchmarks.repair --full   # bs 1 ... 1437 (12) x lr 1e-4 ... 100 (12)

For the default net and its MSE (`loss=mse`) and sigmoid (`activation=sigmoid`) twins: a real
sweep (`python -m src.train --multirun`, n_jobs=2, logger=none, 20 epochs) into a temp dir, then
`python -m src.repair <sweep> --tries N` on it, both timed in the same run. Reported per twin and
per cause (the failed cell's first cause): the share of non-converged cells that converge after
their top suggestion (the first attempt) and after --tries, and repair wall time / sweep wall time.
The default twin's phase_map.png and repaired_map.png are copied to --maps.
"""

from __future__ import annotations

import argparse
import csv
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from benchmarks import report
from benchmarks.sweep import machine
from src.edge.search import log_grid, lr_text

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "repair.md"
MAPS = ROOT / "docs"
TWINS = {"default": [], "MSE": ["loss=mse"], "sigmoid": ["activation=sigmoid"]}
REDUCED = {"batches": [1, 8, 64, 512, 1437], "lrs": 7}
FULL = {"batches": [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 1437], "lrs": 12}


def timed(command: list[str]) -> float:
    """Wall seconds of `command`, run from the repository root; raises if it fails."""
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{shlex.join(command)} failed:\n{proc.stderr[-2000:]}")
    return time.perf_counter() - start


def sweep_and_repair(twin: list[str], grid: list[str], sweep_dir: Path, tries: int) -> dict:
    """Run the sweep, then the repair; return both wall times and repair.csv's rows."""
    sweep = [sys.executable, "-m", "src.train", "--multirun", *grid, *twin, "logger=none",
             "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={sweep_dir}"]  # fmt: skip
    sweep_wall = timed(sweep)
    repair_wall = timed([sys.executable, "-m", "src.repair", str(sweep_dir), f"--tries={tries}"])
    with open(sweep_dir / "repair.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    cells = sum(1 for p in sweep_dir.glob("*/metrics.json"))
    return {"sweep": sweep_wall, "repair": repair_wall, "rows": rows, "cells": cells}


def rates(rows: list[dict[str, str]]) -> tuple[int, int, int]:
    """(failed cells, converged after the first attempt, converged in the end)."""
    first = sum(1 for r in rows if r["outcomes"].split(" | ")[0] == "converged")
    final = sum(1 for r in rows if r["final_outcome"] == "converged")
    return len(rows), first, final


def share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.0%})" if whole else "—"


def tables(results: dict[str, dict], tries: int) -> list[str]:
    """Per twin (rates and wall times), then per cause and twin."""
    lines = ["", f"| twin | cells | not converged | converged after the top suggestion | "
             f"after --tries {tries} | sweep s | repair s | repair / sweep |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    total = {"sweep": 0.0, "repair": 0.0, "rows": []}
    for name, r in results.items():
        n, first, final = rates(r["rows"])
        lines.append(
            f"| {name} | {r['cells']} | {n} | {share(first, n)} | {share(final, n)} | "
            f"{r['sweep']:.0f} | {r['repair']:.0f} | {r['repair'] / r['sweep']:.2f} |"
        )
        for key in ("sweep", "repair", "rows"):
            total[key] += r[key]  # fmt: skip
    n, first, final = rates(total["rows"])
    lines.append(f"| all | {sum(r['cells'] for r in results.values())} | {n} | "
                 f"{share(first, n)} | {share(final, n)} | {total['sweep']:.0f} | "
                 f"{total['repair']:.0f} | {total['repair'] / total['sweep']:.2f} |")  # fmt: skip
    lines += ["", "| cause (before repair) | twin | not converged | after the top suggestion | "
              f"after --tries {tries} |", "| --- | --- | --- | --- | --- |"]  # fmt: skip
    by_cause: dict[tuple[str, str], list] = defaultdict(list)
    for name, r in results.items():
        for row in r["rows"]:
            by_cause[(row["cause"] or "(none)", name)].append(row)
    for (cause, name), rows in sorted(by_cause.items()):
        n, first, final = rates(rows)
        lines.append(f"| {cause} | {name} | {n} | {share(first, n)} | {share(final, n)} |")
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the 12 x 12 grid")
    parser.add_argument("--tries", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--maps", type=Path, default=MAPS, help="where the default twin's maps go")
    parser.add_argument("--keep", type=Path, help="keep the sweeps here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    setup = FULL if args.full else REDUCED
    lrs = [lr_text(lr) for lr in log_grid(1e-4, 100.0, setup["lrs"])]
    grid = [f"trainer.batch_size={','.join(map(str, setup['batches']))}",
            f"optimizer.lr={','.join(lrs)}"]  # fmt: skip
    facts, results = machine(), {}
    with tempfile.TemporaryDirectory(prefix="trainmap-repair-") as tmp:
        tmp = args.keep or tmp
        for name, twin in TWINS.items():
            results[name] = sweep_and_repair(twin, grid, Path(tmp) / name, args.tries)
            print(f"{name}: {rates(results[name]['rows'])}", flush=True)
        args.maps.mkdir(parents=True, exist_ok=True)
        for png in ("phase_map.png", "repaired_map.png"):
            shutil.copy(Path(tmp) / "default" / png, args.maps / f"repair_{png}")
    facts["load_after"] = report.load()
    head = [
        *report.heading("Repairing failed cells (digits, MLP 64-100-10, SGD, 20 epochs)", facts),
        f"Grid: batch size {', '.join(map(str, setup['batches']))} x lr {', '.join(lrs)}"
        f"; sweeps and repairs with n_jobs=2, logger=none; `--tries {args.tries}`.",
    ]  # fmt: skip
    report.publish("\n".join(head + tables(results, args.tries)) + "\n", args.out)


if __name__ == "__main__":
    main()
