"""What the sharpness and noise-scale measurements add to the default sweep's wall time.

    python -m benchmarks.theory             # 2 rounds of the default 35-cell sweep, each way
    python -m benchmarks.theory --quick     # 4 cells, 1 round

Every sweep is a real `python -m src.train sweep=bs_lr hydra.launcher.n_jobs=2 ...` subprocess
with its folder in a temp dir, with the measurements (the default) and with
`theory.enabled=false`; round r runs the two in an order rotated by r. The ratio is taken per
round (with / without, same round) and its median reported: the machine is shared, seconds vary.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.report import publish
from benchmarks.sweep import QUICK_GRID, ROOT, interleave, machine

SECONDS = re.compile(r"^theory at batch size .* \(([0-9.]+) s\)$", re.MULTILINE)  # src.theory.run
RESULTS = ROOT / "benchmarks" / "results" / "theory.md"
VARIANTS = {"with theory (default)": [], "theory.enabled=false": ["theory.enabled=false"]}
TARGET = 1.10


def run_sweep(overrides: list[str], sweep_dir: Path) -> dict[str, float]:
    """Wall seconds of the whole sweep command and the sum of its cells' train() seconds."""
    command = [sys.executable, "-m", "src.train", "sweep=bs_lr", "hydra.launcher.n_jobs=2",
               *overrides, f"hydra.sweep.dir={sweep_dir}"]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    wall = time.perf_counter() - start
    cells = [json.loads(p.read_text()) for p in sweep_dir.glob("*/metrics.json")]
    train = sum(c["wall_seconds"] for c in cells)
    theory = sum(
        map(float, SECONDS.findall("".join(p.read_text() for p in sweep_dir.glob("*/*.log"))))
    )
    return {"wall": wall, "train": train, "theory": theory, "cells": len(cells)}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    grid = QUICK_GRID if args.quick else []
    rounds = 1 if args.quick else args.rounds
    before = machine()
    with tempfile.TemporaryDirectory() as tmp:
        variants = {
            name: lambda r, name=name, extra=extra: run_sweep(
                [*extra, *grid], Path(tmp) / f"r{r}-{len(extra)}"
            )
            for name, extra in VARIANTS.items()
        }
        results = interleave(variants, rounds)
    publish(markdown(results, before, machine()), args.out)


def markdown(results: dict[str, list[dict]], before: dict, after: dict) -> str:
    """Per round: both sweeps' seconds, the raw and the load-corrected ratio, the in-run share."""
    with_, without = (results[name] for name in VARIANTS)
    lines = [
        "# Theory cost: sharpness and noise scale on the default sweep",
        "",
        f"- Measured {before['date']} on {before['cpu']} (nproc {before['nproc']}); "
        f"{before['software']}; source tree {before['tree']}",
        f"- Load average before / after: {before['load_before']} / {after['load_before']}",
        f"- {len(with_)} round(s), {with_[0]['cells']} cells per sweep, n_jobs=2, interleaved.",
        "- Σ train(): the cells' `wall_seconds`, identical work in both sweeps: its ratio is the",
        "  load's doing, and the corrected ratio divides it out. In-run share: the seconds each",
        "  cell logs for the measurements over its `wall_seconds` (which excludes them).",
        "",
        "| round | wall s with / without | ratio | Σ train() ratio | corrected | in-run share |",
        "|---|---|---|---|---|---|",
    ]
    corrected = []
    for r, (w, o) in enumerate(zip(with_, without)):
        wall, train = w["wall"] / o["wall"], w["train"] / o["train"]
        corrected.append(wall / train)
        lines.append(f"| {r} | {w['wall']:.1f} / {o['wall']:.1f} | {wall:.3f} | {train:.3f} | "
                     f"{wall / train:.3f} | {w['theory'] / w['train']:.3f} |")  # fmt: skip
    extra = statistics.median(corrected)
    verdict = "met" if extra <= TARGET else "**missed**"
    lines += ["", f"Target: the measurements add ≤ 10% to the sweep's wall time (median corrected "
              f"ratio {extra:.3f}): {verdict}."]  # fmt: skip
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 cells, 1 round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the two sweeps")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the table goes")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
