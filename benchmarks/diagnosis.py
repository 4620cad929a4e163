"""Cost of the diagnosis: the default run with and without it, timed interleaved.

    python -m benchmarks.diagnosis                  # 7 pairs of the default run, in-process
    python -m benchmarks.diagnosis --cli            # the same as `python -m src.train` commands
    python -m benchmarks.diagnosis --repeats 3 logger=none trainer.batch_size=1

A: `src.train.train` as `python -m src.train` runs it (composed config, metrics.json written
into a temp folder). B: the same with `Watch` replaced by a no-op, so nothing is probed. The
two alternate (A B, B A, ...); the report gives the median of the per-pair ratios A/B and the
absolute extra seconds. On a busy machine whole-run ratios are noisy, so A also clocks the
time spent inside the watch's own calls (probing at init, after each epoch, the diagnosis)
and reports it as a share of the same run: the overhead, measured within one run. A
command-line run adds interpreter and Hydra start-up; `--cli` times whole `python -m src.train`
commands instead (B: the same command with `Watch` patched out before Hydra starts).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from unittest import mock

from hydra import compose, initialize_config_dir

import src.train
from benchmarks import report

CONF = Path(__file__).resolve().parents[1] / "conf"


class NoWatch:
    """Watch's interface, measuring nothing."""

    @classmethod
    def start(cls, *args: Any) -> NoWatch:
        return cls()

    def chain(self, on_epoch):
        return on_epoch

    def finish(self, history, metrics) -> dict[str, Any]:
        return {"diagnosis": [], "cause": None}


class ClockedWatch(src.train.Watch):
    """The real Watch, adding the seconds spent in its own calls to `ClockedWatch.spent`."""

    spent = 0.0

    @classmethod
    def start(cls, *args: Any) -> ClockedWatch:
        began = time.perf_counter()
        try:
            return super().start(*args)
        finally:
            ClockedWatch.spent += time.perf_counter() - began

    def on_epoch(self, epoch, history) -> None:
        began = time.perf_counter()
        super().on_epoch(epoch, history)
        ClockedWatch.spent += time.perf_counter() - began

    def finish(self, history, metrics) -> dict[str, Any]:
        began = time.perf_counter()
        try:
            return super().finish(history, metrics)
        finally:
            ClockedWatch.spent += time.perf_counter() - began


def timed(cfg, watch) -> float:
    with tempfile.TemporaryDirectory() as out, mock.patch.object(src.train, "Watch", watch):
        start = time.perf_counter()
        src.train.train(cfg, Path(out))
        return time.perf_counter() - start


# `python -m src.train` with the watch replaced, as a `python -c` program that imports nothing
# the command itself does not (importing this module would add Hydra's compose API).
WITHOUT = """
import runpy, src.diagnosis.watch as w
class NoWatch:
    @classmethod
    def start(cls, *args): return cls()
    def chain(self, on_epoch): return on_epoch
    def finish(self, history, metrics): return {"diagnosis": [], "cause": None}
w.Watch = NoWatch
runpy.run_module("src.train", run_name="__main__", alter_sys=True)
"""


def cli_seconds(watch: bool, overrides: list[str], out: Path) -> float:
    program = ["-m", "src.train"] if watch else ["-c", WITHOUT]
    start = time.perf_counter()
    subprocess.run([sys.executable, *program, *overrides, f"hydra.run.dir={out}"],
                   check=True, capture_output=True)  # fmt: skip
    return time.perf_counter() - start


def cli(repeats: int, overrides: list[str]) -> None:
    """Whole commands, interleaved: the overhead as a user's wall clock sees it."""
    with_diag, without = [], []
    with tempfile.TemporaryDirectory() as tmp:
        cli_seconds(True, overrides, Path(tmp) / "warm")
        for i in range(repeats):
            order = [(True, with_diag), (False, without)]
            for watch, times in order if i % 2 == 0 else order[::-1]:
                times.append(cli_seconds(watch, overrides, Path(tmp) / f"{i}{watch}"))
    ratios = [a / b for a, b in zip(with_diag, without)]
    print(f"python -m src.train {' '.join(overrides)}; load {report.load()}")
    print(f"with diagnosis    median {statistics.median(with_diag):.3f} s")
    print(f"without diagnosis median {statistics.median(without):.3f} s")
    print(f"ratio median {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max "
          f"{max(ratios):.3f})")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed pairs")
    parser.add_argument("--cli", action="store_true", help="time whole commands")
    parser.add_argument("overrides", nargs="*", help="config overrides, as for src.train")
    args = parser.parse_args(argv)
    if args.cli:
        return cli(args.repeats, args.overrides)
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="config", overrides=args.overrides)
    timed(cfg, ClockedWatch), timed(cfg, NoWatch)  # warm-up: imports, caches, data loading
    with_diag, without, shares = [], [], []
    for i in range(args.repeats):
        order = [(ClockedWatch, with_diag), (NoWatch, without)]
        for watch, times in order if i % 2 == 0 else order[::-1]:
            ClockedWatch.spent = 0.0
            times.append(timed(cfg, watch))
            if watch is ClockedWatch:
                shares.append(ClockedWatch.spent / times[-1])
    ratios = [a / b for a, b in zip(with_diag, without)]
    print(f"overrides: {' '.join(args.overrides) or '(defaults)'}; load {report.load()}")
    print(f"train() with diagnosis    median {statistics.median(with_diag):.3f} s")
    print(f"train() without diagnosis median {statistics.median(without):.3f} s")
    extra = statistics.median(with_diag) - statistics.median(without)
    print(f"ratio median {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max "
          f"{max(ratios):.3f}); extra {extra * 1000:.0f} ms per run")  # fmt: skip
    print(f"time inside the watch: median {statistics.median(shares):.1%} of the run "
          f"(min {min(shares):.1%}, max {max(shares):.1%})")  # fmt: skip


if __name__ == "__main__":
    main()
