"""The edge search against a uniform log grid of the same resolution, on the default net.

    python -m benchmarks.edge            # reduced: bs 4,64,512 x lr 0.1 ... 10 (a few minutes)
    python -m benchmarks.edge --full     # bs 1 ... 1024 x lr 1e-4 ... 100: ~1,600 uniform runs

Both are real `python -m src.train` sweeps (n_jobs=2, logger=none) into a temp dir, the edge
search first. Reported: runs and wall time of each, and per batch size whether every transition
the uniform grid finds is matched by the edge search's bracket to within one grid step.
"""

from __future__ import annotations

import argparse
import math
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import report
from benchmarks.sweep import machine
from src.edge.boundary import Row, rows
from src.edge.search import State, log_grid, lr_text
from src.sweep.collect import collect

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "edge.md"
LR, BS = "optimizer.lr", "trainer.batch_size"
COMMON = ["logger=none", "hydra.launcher.n_jobs=2"]
REDUCED = {"batches": "4,64,512", "lr_range": (0.1, 10.0)}
FULL = {"batches": "1,2,4,8,16,32,64,128,256,512,1024", "lr_range": (1e-4, 100.0)}


def uniform_lrs(low: float, high: float, resolution: float) -> list[float]:
    """The fewest log-spaced lrs from `low` to `high` whose neighbours are <= `resolution` apart."""
    steps = math.ceil(math.log(high / low) / math.log(resolution) - 1e-9)
    return log_grid(low, high, steps + 1)


def run(overrides: list[str], sweep_dir: Path) -> float:
    """Wall seconds of `python -m src.train <overrides>` (a multirun into `sweep_dir`)."""
    command = [sys.executable, "-m", "src.train", *overrides, *COMMON,
               f"hydra.sweep.dir={sweep_dir}"]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{shlex.join(command)} failed:\n{proc.stderr[-2000:]}")
    return time.perf_counter() - start


def transitions(sweep_dir: Path, resolution: float) -> tuple[int, list[Row]]:
    """(runs, every transition per batch size) read from the cells, as boundary.csv has them."""
    sweep = collect(sweep_dir)
    state: State = {}
    for cell in sweep.cells:
        group = (f"{BS}={cell.overrides[BS]}",)
        state.setdefault(group, {}).setdefault(float(cell.overrides[LR]), []).append(cell.outcome)
    return len(sweep.cells), rows(state, BS, resolution)


def agree(edge: list[Row], uniform: list[Row], step: float) -> tuple[bool, str]:
    """Does each uniform transition have an edge bracket of that name within one grid step?"""
    notes, ok = [], True
    for u in uniform:
        near = [e for e in edge if e.bracket.transition == u.bracket.transition
                and e.bracket.lo <= u.bracket.hi * step and e.bracket.hi >= u.bracket.lo / step]
        ok &= bool(near)  # fmt: skip
        found = f"{near[0].bracket.lo:.3g}–{near[0].bracket.hi:.3g}" if near else "missed"
        notes.append(f"{u.bracket.transition} {u.bracket.lo:.3g}–{u.bracket.hi:.3g}: {found}")
    extra = len(edge) - sum(1 for e in edge if any(
        e.bracket.transition == u.bracket.transition for u in uniform))  # fmt: skip
    return ok, "; ".join(notes) + (f"; {extra} transition(s) only in the edge search" * (extra > 0))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="bs 1..1024 x lr 1e-4..100")
    parser.add_argument("--resolution", type=float, default=1.1)
    parser.add_argument("--budget", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def commands(batches: str, low: float, high: float, args: argparse.Namespace) -> dict:
    """The two sweeps' overrides: the edge search, and the uniform grid of its resolution."""
    grid = uniform_lrs(low, high, args.resolution)
    edge = ["sweep=bs_lr_edge", f"{BS}={batches}", f"hydra.sweeper.lr_range=[{low},{high}]",
            f"hydra.sweeper.resolution={args.resolution}",
            f"hydra.sweeper.budget={args.budget}"]  # fmt: skip
    uniform = ["--multirun", f"{BS}={batches}", f"{LR}=" + ",".join(map(lr_text, grid))]
    return {"edge search (`sweep=bs_lr_edge`)": edge, "uniform log grid": uniform}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    setup = FULL if args.full else REDUCED
    low, high = setup["lr_range"]
    grid = uniform_lrs(low, high, args.resolution)
    step = grid[1] / grid[0]
    facts, results = machine(), {}
    with tempfile.TemporaryDirectory(prefix="trainmap-edge-") as tmp:
        for i, (name, overrides) in enumerate(commands(setup["batches"], low, high, args).items()):
            wall = run(overrides, Path(tmp) / str(i))
            runs, found = transitions(Path(tmp) / str(i), args.resolution if i == 0 else step)
            results[name] = (runs, wall, found)
    facts["load_after"] = report.load()
    head = [
        *report.heading(
            "Edge search vs uniform log grid (default net: digits, MLP 64-100-10, relu, SGD)",
            facts,
        ),
        f"Batch sizes {setup['batches']}; lr {low:g} … {high:g}; resolution {args.resolution}"
        f" (uniform grid: {len(grid)} lrs, step {step:.4f}). Both with n_jobs=2, logger=none.",
    ]  # fmt: skip
    report.publish("\n".join(head + table(results, step)) + "\n", args.out)


def table(results: dict, step: float) -> list[str]:
    """Runs and wall time of both sweeps, then the agreement per batch size."""
    (edge_runs, edge_wall, edge_rows), (uniform_runs, uniform_wall, uniform_rows) = (
        results.values()
    )
    lines = ["", "| sweep | runs | wall s | runs/s |", "| --- | --- | --- | --- |"]
    lines += [f"| {name} | {runs} | {wall:.0f} | {runs / wall:.2f} |"
              for name, (runs, wall, _) in results.items()]  # fmt: skip
    lines += [
        "", f"Edge search / uniform grid: {edge_runs / uniform_runs:.2f} of the runs, "
        f"{edge_wall / uniform_wall:.2f} of the wall time.", "",
        "| batch size | agree to one step | uniform grid's transitions: edge search's bracket |",
        "| --- | --- | --- |",
    ]  # fmt: skip
    for batch in sorted({r.batch_size for r in uniform_rows + edge_rows}):
        ok, notes = agree([r for r in edge_rows if r.batch_size == batch],
                          [r for r in uniform_rows if r.batch_size == batch], step)  # fmt: skip
        lines.append(f"| {batch:g} | {'yes' if ok else 'no'} | {notes} |")
    return lines


if __name__ == "__main__":
    main()
