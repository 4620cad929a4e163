"""Runs/s of K runs trained as one stack vs the same runs trained one by one, same process.

    python -m benchmarks.stack                          # 32 batch-size-1 default-net runs
    python -m benchmarks.stack --runs 8 --epochs 2      # a quick look
    python -m benchmarks.stack -- logger=tensorboard    # any config override after `--`

A: `src.train.train_stack` on all K configs (learning rates spread over a log grid, seeds
0..K-1). B: `src.train.train` on each config in turn. Both write metrics.json into a temp
folder and train exactly the same runs (the stack is bit-identical per run, checked here on
outcome and steps). Timed interleaved (A B, B A, ...); the ratio is the median of per-repeat
ratios. Each timed path measures its own theory at init (sharpness, noise scale): the process
keeps those measurements, so without forgetting them only the first path timed would pay.
Peak RSS is the process's maximum resident set size after the first stack, before any run
trained alone.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from hydra import compose, initialize_config_dir

from benchmarks import report
from src.theory import cache
from src.train import train, train_stack

CONF = Path(__file__).resolve().parents[1] / "conf"
RESULTS = Path(__file__).resolve().parent / "results" / "stack.md"


def configs(runs: int, epochs: int, overrides: list[str]) -> list:
    lrs = np.geomspace(1e-3, 0.3, runs)
    base = ["trainer.batch_size=1", f"trainer.epochs={epochs}", "logger=none", *overrides]
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return [compose(config_name="config",
                        overrides=[*base, f"optimizer.lr={lr:.6g}", f"trainer.seed={seed}"])
                for seed, lr in enumerate(lrs)]  # fmt: skip


def stacked(cfgs: list, tmp: Path) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    metrics = train_stack(cfgs, [tmp / f"stack{i}" for i in range(len(cfgs))])
    return time.perf_counter() - start, metrics


def alone(cfgs: list, tmp: Path) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    metrics = [train(cfg, tmp / f"alone{i}") for i, cfg in enumerate(cfgs)]
    return time.perf_counter() - start, metrics


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=32, help="K, runs in the stack")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=1, help="timed pairs")
    parser.add_argument("--out", type=Path, default=RESULTS, help="Markdown results file")
    parser.add_argument("overrides", nargs="*", help="config overrides, as for src.train")
    args = parser.parse_args(argv)
    load_before = report.load()
    times, outcomes, rss_mb = measure(configs(args.runs, args.epochs, args.overrides), args.repeats)
    report.publish(table(args, argv, times, outcomes, rss_mb, load_before), args.out)


def measure(cfgs: list, repeats: int) -> tuple[dict[str, list[float]], str, float]:
    """Seconds per path, the outcomes (checked equal on both paths) and the peak RSS in MB
    after the first stack."""
    times: dict[str, list[float]] = {"stack": [], "alone": []}
    seen: dict[str, list[tuple]] = {}
    rss_mb = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeats):
            order = [("stack", stacked), ("alone", alone)]
            for name, run in order if i % 2 == 0 else order[::-1]:
                cache.forget()
                seconds, metrics = run(cfgs, Path(tmp))
                times[name].append(seconds)
                seen[name] = [(m["outcome"], m["steps"], m["test_accuracy"]) for m in metrics]
                if name == "stack" and not rss_mb:
                    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if seen["stack"] != seen["alone"]:
        raise SystemExit("the stack and the runs alone disagree: " + str(seen))
    outcomes = ", ".join(f"{k} {v}" for k, v in Counter(o for o, *_ in seen["stack"]).items())
    return times, outcomes, rss_mb


def table(args, argv, times: dict, outcomes: str, rss_mb: float, load_before: str) -> str:
    ratios = [a / s for s, a in zip(times["stack"], times["alone"])]
    seconds = {name: statistics.median(t) for name, t in times.items()}
    command = " ".join(sys.argv[1:] if argv is None else argv)
    return "\n".join([
        "# Stacked runs: runs/s of one stack vs the same runs one by one",
        "",
        f"- Command: `python -m benchmarks.stack {command}`",
        f"- {args.runs} runs of the default net (digits, MLP 64-100-10), batch size 1, "
        f"{args.epochs} epochs, lr 1e-3 ... 0.3 (log grid), seeds 0..{args.runs - 1}; "
        f"overrides: {' '.join(args.overrides) or '(none)'}",
        f"- Measured {time.strftime('%Y-%m-%d %H:%M')} on {report.machine(None)['cpu']}; "
        f"load average before / after: {load_before} / {report.load()}",
        "",
        "| path | seconds (median) | runs/s |",
        "|---|---|---|",
        f"| A one stack (train_stack) | {seconds['stack']:.2f} | "
        f"{args.runs / seconds['stack']:.2f} |",
        f"| B one by one (train) | {seconds['alone']:.2f} | {args.runs / seconds['alone']:.2f} |",
        "",
        f"Speed-up A/B (runs/s): median {statistics.median(ratios):.1f}x "
        f"(min {min(ratios):.1f}, max {max(ratios):.1f}, {len(ratios)} pair(s)).",
        f"Outcomes (identical on both paths): {outcomes}. Peak RSS after the stack: "
        f"{rss_mb:.0f} MB.",
        "",
    ])  # fmt: skip


if __name__ == "__main__":
    main()
