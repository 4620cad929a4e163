"""The edge search against a uniform log grid of the same resolution, on the default net.

    python -m benchmarks.edge            # reduced: bs 4,64,512 x lr 0.1 ... 10 (a few minutes)
    python -m benchmarks.edge --full     # bs 1 ... 1024 x lr 1e-4 ... 100: ~1,600 uniform runs

Both are real `python -m src.train` sweeps (n_jobs=2, logger=none) into a temp dir (or `--keep
DIR`), the edge search first. Reported: runs and wall time of each, and per batch size whether
the edge, lr_max (the largest lr that trains), agrees to within one uniform grid step, and whether
every transition the uniform grid finds is matched by an edge-search bracket of that name.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import report
from benchmarks.sweep import machine
from src.edge.boundary import Row, rows
from src.edge.grid import Settings
from src.edge.search import Bracket, State, lattice, lr_max, lr_text
from src.sweep.collect import collect

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "edge.md"
LR, BS = "optimizer.lr", "trainer.batch_size"
COMMON = ["logger=none", "hydra.launcher.n_jobs=2"]
REDUCED = {"batches": "4,64,512", "lr_range": (0.1, 10.0)}
FULL = {"batches": "1,2,4,8,16,32,64,128,256,512,1024", "lr_range": (1e-4, 100.0)}


def uniform_lrs(low: float, high: float, resolution: float) -> list[float]:
    """The uniform log grid of that resolution the edge search draws its lrs from (its steps a
    multiple of the coarse grid's 7, so it holds the coarse lrs too)."""
    return list(lattice(low, high, Settings.lr_points, resolution))


def run(overrides: list[str], sweep_dir: Path) -> float:
    """Wall seconds of `python -m src.train <overrides>` (a multirun into `sweep_dir`)."""
    command = [sys.executable, "-m", "src.train", *overrides, *COMMON,
               f"hydra.sweep.dir={sweep_dir}"]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{shlex.join(command)} failed:\n{proc.stderr[-2000:]}")
    return time.perf_counter() - start


def outcomes(sweep_dir: Path) -> tuple[int, State]:
    """(runs, outcomes per batch size and lr) read from the cells."""
    sweep = collect(sweep_dir)
    state: State = {}
    for cell in sweep.cells:
        group = (f"{BS}={cell.overrides[BS]}",)
        state.setdefault(group, {}).setdefault(float(cell.overrides[LR]), []).append(cell.outcome)
    return len(sweep.cells), state


def close(a: Bracket, b: Bracket, step: float) -> bool:
    """Brackets that overlap once widened by one grid step."""
    return a.lo <= b.hi * step and a.hi >= b.lo / step


def near(a: Bracket, b: Bracket, step: float) -> bool:
    """The same transition, within one grid step."""
    return a.transition == b.transition and close(a, b, step)


def span(b: Bracket | None) -> str:
    return "none" if b is None else f"{b.lo:.3g}–{b.hi:.3g}"


def agree(edge: list[Row], uniform: list[Row], step: float) -> tuple[bool, str]:
    """Does each uniform transition have an edge bracket of that name within one grid step?"""
    notes, ok = [], True
    for u in uniform:
        match = [e.bracket for e in edge if near(e.bracket, u.bracket, step)]
        ok &= bool(match)
        notes.append(f"{u.bracket.transition} {span(u.bracket)}: "
                     f"{span(match[0]) if match else 'missed'}")  # fmt: skip
    extra = sum(1 for e in edge if not any(near(e.bracket, u.bracket, step) for u in uniform))
    return ok, "; ".join(notes) + (f"; {extra} bracket(s) only in the edge search" * (extra > 0))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="bs 1..1024 x lr 1e-4..100")
    parser.add_argument("--resolution", type=float, default=1.1)
    parser.add_argument("--budget", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--keep", type=Path, help="write the two sweeps here (edge/, uniform/)")
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
        root = args.keep or Path(tmp)
        for name, overrides in commands(setup["batches"], low, high, args).items():
            sweep_dir = root / ("uniform" if name.startswith("uniform") else "edge")
            wall = run(overrides, sweep_dir)
            results[name] = (wall, *outcomes(sweep_dir))
    facts["load_after"] = report.load()
    head = [
        *report.heading(
            "Edge search vs uniform log grid (default net: digits, MLP 64-100-10, relu, SGD)",
            facts,
        ),
        f"Batch sizes {setup['batches']}; lr {low:g} … {high:g}; resolution {args.resolution}"
        f" (uniform grid: {len(grid)} lrs, step {step:.4f}); the edge search probes up to"
        f" {Settings.probe_above:g}x above lr_max. Both with n_jobs=2, logger=none.",
    ]  # fmt: skip
    report.publish("\n".join(head + table(results, step)) + "\n", args.out)


def table(results: dict, step: float) -> list[str]:
    """Runs and wall time of both sweeps, then the agreement per batch size."""
    (edge_wall, edge_runs, edge), (uniform_wall, uniform_runs, uniform) = results.values()
    lines = ["", "| sweep | runs | wall s | runs/s |", "| --- | --- | --- | --- |"]
    lines += [f"| {name} | {runs} | {wall:.0f} | {runs / wall:.2f} |"
              for name, (wall, runs, _) in results.items()]  # fmt: skip
    lines += [
        "", f"Edge search / uniform grid: {edge_runs / uniform_runs:.2f} of the runs, "
        f"{edge_wall / uniform_wall:.2f} of the wall time.", "",
        "| batch size | lr_max: uniform grid | lr_max: edge search | lr_max agrees | every "
        "transition matched | uniform grid's transitions: edge search's bracket |",
        "| --- | --- | --- | --- | --- | --- |",
    ]  # fmt: skip
    for group in sorted(uniform, key=lambda g: float(g[0].partition("=")[2])):
        top_u, top_e = lr_max(group, uniform[group]), lr_max(group, edge.get(group, {}))
        same = top_u == top_e or bool(top_u and top_e and close(top_u, top_e, step))
        ok, notes = agree(rows({group: edge.get(group, {})}, BS, step),
                          rows({group: uniform[group]}, BS, step), step)  # fmt: skip
        lines.append(
            f"| {group[0].partition('=')[2]} | {span(top_u)} | {span(top_e)} | "
            f"{'yes' if same else 'no'} | {'yes' if ok else 'no'} | {notes} |"
        )
    return lines


if __name__ == "__main__":
    main()
