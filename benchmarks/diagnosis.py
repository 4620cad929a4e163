"""Cost of the diagnosis: the default run with `diagnosis=on` and `diagnosis=off`, interleaved.

    python -m benchmarks.diagnosis                  # 7 pairs of the default run, in-process
    python -m benchmarks.diagnosis --cli            # the same as `python -m src.train` commands
    python -m benchmarks.diagnosis --repeats 3 logger=none trainer.batch_size=1

A: `src.train.train` as `python -m src.train` runs it (composed config, metrics.json written
into a temp folder). B: the same config with `diagnosis=off`, so nothing is probed for the
diagnosis (a TensorBoard logger still probes once per epoch: compare with `logger=none` to see
the probes' whole cost). The two alternate (A B, B A, ...); the report gives the median of the
per-pair ratios A/B and the absolute extra seconds. A command-line run adds interpreter and
Hydra start-up; `--cli` times whole `python -m src.train` commands instead.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hydra import compose, initialize_config_dir

from benchmarks import report
from src.train import train

CONF = Path(__file__).resolve().parents[1] / "conf"
SWITCH = {True: "diagnosis=on", False: "diagnosis=off"}


def timed(cfg) -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        train(cfg, Path(out))
        return time.perf_counter() - start


def cli_seconds(diagnosis: bool, overrides: list[str], out: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "src.train", *overrides, SWITCH[diagnosis],
                    f"hydra.run.dir={out}"], check=True, capture_output=True)  # fmt: skip
    return time.perf_counter() - start


def interleaved(repeats: int, run) -> tuple[list[float], list[float]]:
    """(seconds with, seconds without), alternating which goes first."""
    with_diag, without = [], []
    for i in range(repeats):
        order = [(True, with_diag), (False, without)]
        for diagnosis, times in order if i % 2 == 0 else order[::-1]:
            times.append(run(diagnosis, i))
    return with_diag, without


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed pairs")
    parser.add_argument("--cli", action="store_true", help="time whole commands")
    parser.add_argument("overrides", nargs="*", help="config overrides, as for src.train")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.cli:
            cli_seconds(True, args.overrides, Path(tmp) / "warm")
            run = lambda d, i: cli_seconds(d, args.overrides, Path(tmp) / f"{i}{d}")  # noqa: E731
        else:
            with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
                cfgs = {d: compose(config_name="config", overrides=[*args.overrides, SWITCH[d]])
                        for d in SWITCH}  # fmt: skip
            timed(cfgs[True]), timed(cfgs[False])  # warm-up: imports, caches, data loading
            run = lambda d, i: timed(cfgs[d])  # noqa: E731
        with_diag, without = interleaved(args.repeats, run)
    ratios = [a / b for a, b in zip(with_diag, without)]
    what = "python -m src.train" if args.cli else "train()"
    print(f"overrides: {' '.join(args.overrides) or '(defaults)'}; load {report.load()}")
    print(f"{what} with diagnosis    median {statistics.median(with_diag):.3f} s")
    print(f"{what} without diagnosis median {statistics.median(without):.3f} s")
    extra = statistics.median(with_diag) - statistics.median(without)
    print(f"ratio median {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max "
          f"{max(ratios):.3f}); extra {extra * 1000:.0f} ms per run")  # fmt: skip


if __name__ == "__main__":
    main()
