"""What a sweep costs besides training: per cell, at start and end, for logging and diagnosis.

    python -m benchmarks.sweep              # full run (~7 min on 2 cores)
    python -m benchmarks.sweep --quick      # 4 cells, 1 round, 3 single-run repeats (~35 s)

Every command is a real `python -m src.train ...` subprocess with its folders in a temp dir.
Sweeps: the default 35-cell grid (`sweep=bs_lr`) with n_jobs=2 (the peer), n_jobs=1,
logger=none and logger.log_every=100, interleaved (round r runs them in an order rotated by r);
ratios are medians of per-round ratios against n_jobs=2 in the same round. Each sweep gets one
extra override, a log format with a timestamp and a pid, so each cell's last log line says when
its job returned and in which worker process it ran. Per-cell overhead, within one worker's
sequence of cells: previous cell's last log line -> this cell's last log line, minus this cell's
`wall_seconds` (train() incl. data loading, excl. the end-of-run reports). Each worker's first
cell is left out: its gap is start-up. Single runs, diagnosis and divergence: `--singles` each.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir

from benchmarks import diagnosis, report
from benchmarks.sweep_report import PEER, markdown
from src.results import METRICS

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "sweep.md"
STAMPED = 'hydra.job_logging.formatters.simple.format="%(created).6f %(process)d %(message)s"'
LINE = re.compile(r"^(\d+\.\d+) (\d+) ", re.MULTILINE)
QUICK_GRID = ["trainer.batch_size=16,256", "optimizer.lr=0.01,1"]
SWEEPS = {
    PEER: ["hydra.launcher.n_jobs=2"],
    "n_jobs=1": ["hydra.launcher.n_jobs=1"],
    "logger=none": ["hydra.launcher.n_jobs=2", "logger=none"],
    "logger.log_every=100": ["hydra.launcher.n_jobs=2", "logger.log_every=100"],
}
SINGLES = {
    "tensorboard (default)": [],
    "logger=none": ["logger=none"],
    "logger.log_every=100": ["logger.log_every=100"],
}
MSE_BS1 = ["loss=mse", "trainer.batch_size=1"]
DIVERGE = {"optimizer.lr=50": [*MSE_BS1, "optimizer.lr=50"],
           "optimizer.lr=0.01": [*MSE_BS1, "optimizer.lr=0.01"]}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    facts = machine()
    with tempfile.TemporaryDirectory(prefix="trainmap-bench-") as tmp:
        work = Path(tmp)
        run_single([], work / "warm")  # untimed: .pyc files, page cache, font cache
        run_sweep(SWEEPS[PEER] + QUICK_GRID, work / "warm-sweep")
        results = {
            "composition": compose_seconds(),
            "sweeps": bench_sweeps(args, work / "sweeps"),
            "singles": commands(SINGLES, args.singles, work / "single"),
            "diagnosis": bench_diagnosis(args.singles, work / "diagnosis"),
            "diverge": commands(DIVERGE, args.singles, work / "diverge"),
        }
    facts["load_after"] = report.load()
    text = markdown(results, facts, args)
    report.publish(text, args.out)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="rounds of the four sweeps")
    parser.add_argument("--singles", type=int, default=9, help="repeats of each single run")
    parser.add_argument("--quick", action="store_true", help="4 cells, 1 round, 3 single repeats")
    parser.add_argument("--out", type=Path, default=RESULTS, help="Markdown results file")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.singles = min(args.repeats, 1), min(args.singles, 3)
    args.grid = QUICK_GRID if args.quick else []
    args.argv = sys.argv[1:] if argv is None else argv
    return args


def machine() -> dict[str, str]:
    """CPU, versions, source tree and load: what the numbers were measured on."""
    facts = report.machine(None)
    names = ["numpy", "hydra-core", "hydra-joblib-launcher", "joblib", "tensorboardX", "matplotlib"]
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in names)
    facts["software"] = f"Python {sys.version.split()[0]}, {versions}"
    facts["nproc"] = str(len(os.sched_getaffinity(0)))
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    status = [*git, "status", "--porcelain", "--", "src", "conf", "sweeps"]
    dirty = subprocess.run(status, capture_output=True, text=True).stdout.strip()
    facts["tree"] = head.stdout.strip() + (" + uncommitted changes in src/conf" if dirty else "")
    return facts


def interleave(variants: dict[str, Callable[[int], Any]], repeats: int) -> dict[str, list]:
    """Each variant's results; repeat r runs them in an order rotated by r (none always first)."""
    names = list(variants)
    out: dict[str, list] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            out[name].append(variants[name](r))
    return out


def run_single(overrides: list[str], run_dir: Path) -> dict[str, Any]:
    """`python -m src.train <overrides>`: the command's seconds plus its metrics.json."""
    command = [sys.executable, "-m", "src.train", *overrides, f"hydra.run.dir={run_dir}"]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, **json.loads((run_dir / METRICS).read_text())}


def slug(name: str) -> str:
    """A folder name Hydra's override grammar accepts in `hydra.run.dir=...`."""
    return re.sub(r"\W+", "_", name).strip("_")


def commands(table: dict[str, list[str]], repeats: int, work: Path) -> dict[str, list[dict]]:
    """The commands of `table`, interleaved, each repeat in its own run folder."""
    run = lambda overrides, name, r: run_single(overrides, work / f"{slug(name)}-{r}")  # noqa: E731
    return interleave({name: partial(run, o, name) for name, o in table.items()}, repeats)


@dataclass
class Cell:
    batch: int
    started: float  # .hydra/config.yaml written: Hydra has set the job up in its worker
    ended: float  # the cell's last log line: its task function returns
    train: float  # wall_seconds
    pid: int
    between: float = math.nan  # this worker's previous cell ended -> this cell started

    @property
    def inside(self) -> float:
        """The cell's own job outside train()'s clock."""
        return self.ended - self.started - self.train


def read_cell(folder: Path) -> Cell:
    metrics = json.loads((folder / METRICS).read_text())
    ended, pid = LINE.findall((folder / "train.log").read_text())[-1]
    started = (folder / ".hydra" / "config.yaml").stat().st_mtime
    batch = int(metrics["trainer.batch_size"])
    return Cell(batch, started, float(ended), metrics["wall_seconds"], int(pid))


def run_sweep(overrides: list[str], sweep_dir: Path) -> dict[str, Any]:
    """`python -m src.train sweep=bs_lr <overrides>`: its wall time and where the time went.

    Per-cell path (`hydra/sweeper=basic`): the timings read one job per cell from its files."""
    command = [sys.executable, "-m", "src.train", "sweep=bs_lr", "hydra/sweeper=basic", *overrides,
               f"hydra.sweep.dir={sweep_dir}", STAMPED]  # fmt: skip
    launched, start = time.time(), time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, err = process.communicate()
    wall, exited = time.perf_counter() - start, time.time()
    if process.returncode:
        raise RuntimeError(f"{shlex.join(command)} failed:\n{err.decode()[-2000:]}")
    cells = sorted(map(read_cell, (p.parent for p in sweep_dir.glob(f"*/{METRICS}"))),
                   key=lambda c: c.started)  # fmt: skip
    last: dict[int, Cell] = {}
    for cell in cells:
        if cell.pid in last:
            cell.between = cell.started - last[cell.pid].ended
        last[cell.pid] = cell
    later = [c for c in cells if not math.isnan(c.between)]
    firsts = [c.inside for c in cells if math.isnan(c.between)]
    stamp = lambda name: (sweep_dir / name).stat().st_mtime  # noqa: E731
    return {
        "wall": wall,
        "cells": cells,
        "later": later,
        "workers": "the parent" if process.pid in last else f"{len(last)} workers",
        "overhead": statistics.fmean(c.between + c.inside for c in later),
        "between": statistics.fmean(c.between for c in later),
        "inside": statistics.fmean(c.inside for c in later),
        "share": sum(c.between + c.inside for c in later) / sum(c.train for c in later),
        "train": sum(c.train for c in cells),
        "compose": stamp("multirun.yaml") - launched,
        "launch": cells[0].started - stamp("multirun.yaml"),
        "first": statistics.median(firsts) - statistics.median(c.inside for c in later),
        "collect": stamp("summary.csv") - max(c.ended for c in cells),
        "png": stamp("phase_map.png") - stamp("summary.csv"),
        "exit": exited - stamp("phase_map.png"),
    }


def compose_seconds(repeats: int = 15) -> list[float]:
    """One Hydra composition of a cell's config, as the sweeper and each job do it."""
    overrides = ["sweep=bs_lr", "optimizer.lr=0.1", "trainer.batch_size=16"]
    with initialize_config_dir(config_dir=str(diagnosis.CONF), version_base="1.3"):
        compose(config_name="config", overrides=overrides)  # warm-up
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            compose(config_name="config", overrides=overrides, return_hydra_config=True)
            seconds.append(time.perf_counter() - start)
    return seconds


def bench_sweeps(args: argparse.Namespace, work: Path) -> dict[str, list[dict]]:
    def run(name: str, r: int) -> dict:
        result = run_sweep(SWEEPS[name] + args.grid, work / f"{slug(name)}-{r}")
        print(f"{name:21} round {r + 1}/{args.repeats}: {result['wall']:5.1f} s, overhead "
              f"{result['overhead']:.3f} s/cell, load {report.load()}", flush=True)  # fmt: skip
        return result

    return interleave({name: partial(run, name) for name in SWEEPS}, args.repeats)


def bench_diagnosis(repeats: int, work: Path) -> dict[str, Any]:
    """benchmarks/diagnosis.py's A/B (diagnosis=on vs off), in this process and as commands."""
    with initialize_config_dir(config_dir=str(diagnosis.CONF), version_base="1.3"):
        cfgs = {d: compose(config_name="config", overrides=[diagnosis.SWITCH[d]])
                for d in diagnosis.SWITCH}  # fmt: skip
    diagnosis.timed(cfgs[True]), diagnosis.timed(cfgs[False])  # imports, data cache
    inproc = {"with": lambda r: diagnosis.timed(cfgs[True]),
              "without": lambda r: diagnosis.timed(cfgs[False])}  # fmt: skip
    cli = lambda on, r: diagnosis.cli_seconds(on, [], work / f"{on}{r}")  # noqa: E731
    return {
        "inproc": interleave(inproc, repeats),
        "cli": interleave({"with": partial(cli, True), "without": partial(cli, False)}, repeats),
    }


if __name__ == "__main__":
    main()
