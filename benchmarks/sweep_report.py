"""The Markdown results file of benchmarks/sweep.py: targets, sweep and single-run tables."""

from __future__ import annotations

import argparse
import shlex
import statistics
from functools import partial

PEER = "n_jobs=2"  # the sweep every other sweep is compared with, in the same round
OVERHEAD_TARGET, SWEEP_TARGET, EXTRA_TARGET = 0.3, 30.0, 0.10  # s per cell, s, share


def spread(values: list[float], fmt: str = ".2f") -> str:
    """Median (min–max)."""
    med = statistics.median(values)
    if len(values) == 1:
        return format(med, fmt)
    return f"{med:{fmt}} ({min(values):{fmt}}–{max(values):{fmt}})"


def ratios(a: list[float], b: list[float]) -> list[float]:
    return [x / y for x, y in zip(a, b)]


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def markdown(results: dict, facts: dict, args: argparse.Namespace) -> str:
    """The results file: how it was measured, the targets, one table per question."""
    cells = len(results["sweeps"][PEER][0]["cells"])
    command = "python -m benchmarks.sweep " + shlex.join(args.argv)
    grid = " ".join(args.grid) or "sweep=bs_lr, the default grid"
    lines = [
        "# Sweep cost: per-cell overhead, n_jobs, logging, diagnosis, divergence",
        "",
        f"- Command: `{command.strip()}`: {args.repeats} interleaved round(s) of the four "
        f"sweeps, {args.singles} interleaved repeats of each single run",
        f"- Measured {facts['date']} on {facts['cpu']} (nproc {facts['nproc']}); "
        f"{facts['software']}; source tree {facts['tree']}",
        f"- Load average (1/5/15 min) before / after: {facts['load_before']} / "
        f"{facts['load_after']}. The machine is shared: trust ratios (same round) over seconds.",
        f"- Sweep grid: {cells} cells ({grid}). Values: median (min–max) over rounds or repeats.",
        "",
        *targets(results, cells),
        *sweep_table(results["sweeps"], results["composition"]),
        *by_batch(results["sweeps"][PEER]),
        *single_tables(results),
    ]
    return "\n".join(lines) + "\n"


def targets(results: dict, cells: int) -> list[str]:
    sweeps, single, diag = results["sweeps"], results["singles"], results["diagnosis"]
    peer = sweeps[PEER]
    overhead = statistics.median(r["overhead"] for r in peer)
    wall = statistics.median(r["wall"] for r in peer)
    pair = lambda a, b, key: ratios([r[key] for r in a], [r[key] for r in b])  # noqa: E731
    logged, bare = single["tensorboard (default)"], single["logger=none"]
    diverged, healthy = (
        results["diverge"]["optimizer.lr=50"],
        results["diverge"]["optimizer.lr=0.01"],
    )
    stopped = all(m["steps"] == m["first_nonfinite_step"] for m in diverged)
    full = f"{diverged[0]['steps']} of {healthy[0]['steps']} steps"
    extra = lambda xs: verdict(statistics.median(xs) <= 1 + EXTRA_TARGET)  # noqa: E731
    rows = [
        (f"per-cell overhead ≤ {OVERHEAD_TARGET} s ({PEER})", f"{overhead:.3f} s",
         verdict(overhead <= OVERHEAD_TARGET)),
        (f"default sweep ≤ {SWEEP_TARGET:.0f} s on 2 cores ({PEER})", f"{wall:.1f} s",
         verdict(wall <= SWEEP_TARGET) if cells == 35 else "n/a: not the 35-cell grid"),
        *[(f"{what} ≤ +10%: {where}", spread(r, ".3f"), extra(r)) for what, where, r in [
            ("logging", "default run, whole command", pair(logged, bare, "seconds")),
            ("logging", "default run, train()", pair(logged, bare, "wall_seconds")),
            ("logging", f"the sweep ({PEER})", pair(peer, sweeps["logger=none"], "wall")),
            ("diagnosis", "default run, whole command", ratios(*diag["cli"].values())),
            ("diagnosis", "default run, train()", ratios(*diag["inproc"].values())),
        ]],
        ("a diverged run stops at its first non-finite step", full, verdict(stopped)),
    ]  # fmt: skip
    return ["## Targets", "", "| target | measured (ratios: with / without) | verdict |",
            "|---|---|---|", *(f"| {a} | {b} | {c} |" for a, b, c in rows), ""]  # fmt: skip


SWEEP_NOTES = """\
## Sweeps

Overhead per cell: mean over a sweep's cells except each worker's first, then median over rounds.
`between`: the worker's previous cell returned → Hydra wrote this cell's `.hydra/config.yaml`
(result back to the parent, dispatch, Hydra re-composing the cell's config). `in cell`: the cell's
job outside train()'s `wall_seconds` (saving `.hydra/`, logging set-up, validation; diagnosis
report, HParams, closing the event writer, metrics.json). Start-up: launch → `multirun.yaml`
(interpreter, imports, Hydra compose) + → first cell's start (Hydra's sweeper first composes
every cell's config in the parent to validate the batch, then the launcher starts loky workers);
`first`: how much more a worker's first cell costs than later ones. End: last cell returned →
`summary.csv` + → `phase_map.png` + → process exit (TensorBoard image, shutdown).
One Hydra composition of a cell's config, timed in this process: {compose} s.

| sweep | cells run in | wall s | ratio vs n_jobs=2 | Σ train() s | overhead s/cell | between \
| in cell | overhead / train() | start-up s | first | end s |
|---|---|---|---|---|---|---|---|---|---|---|---|"""


def sweep_table(sweeps: dict[str, list[dict]], composition: list[float]) -> list[str]:
    notes = SWEEP_NOTES.replace("{compose}", spread(composition, ".3f"))
    lines = notes.replace("\\\n", "").splitlines()
    peer = [r["wall"] for r in sweeps[PEER]]
    for name, runs in sweeps.items():
        get = partial(lambda rs, key: [r[key] for r in rs], runs)
        parts = lambda keys: " + ".join(f"{statistics.median(get(k)):.2f}" for k in keys)  # noqa: E731, B023
        start = [r["compose"] + r["launch"] for r in runs]
        end = [r["collect"] + r["png"] + r["exit"] for r in runs]
        lines.append(
            f"| {name} | {runs[0]['workers']} | {spread(get('wall'), '.1f')} "
            f"| {spread(ratios(get('wall'), peer))} | {spread(get('train'), '.1f')} "
            f"| {spread(get('overhead'), '.3f')} | {spread(get('between'), '.3f')} "
            f"| {spread(get('inside'), '.3f')} | {spread(get('share'), '.0%')} "
            f"| {spread(start)} ({parts(['compose', 'launch'])}) | {spread(get('first'))} "
            f"| {spread(end)} ({parts(['collect', 'png', 'exit'])}) |"
        )
    return [*lines, ""]


def by_batch(runs: list[dict]) -> list[str]:
    """Overhead against training time per batch size, all rounds' cells pooled."""
    lines = [f"Per batch size, {PEER}, cells of all rounds pooled (each worker's first left out),",
             "medians per cell:", "",
             "| batch | cells | train() s | overhead s | between | in cell | overhead / train() |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for batch in sorted({c.batch for r in runs for c in r["later"]}):
        group = [c for r in runs for c in r["later"] if c.batch == batch]
        train = statistics.median(c.train for c in group)
        overhead = statistics.median(c.between + c.inside for c in group)
        lines.append(
            f"| {batch} | {len(group)} | {train:.3f} | {overhead:.3f} "
            f"| {statistics.median(c.between for c in group):.3f} "
            f"| {statistics.median(c.inside for c in group):.3f} | {overhead / train:.0%} |"
        )
    return [*lines, ""]


def single_tables(results: dict) -> list[str]:
    single, diag, diverge = results["singles"], results["diagnosis"], results["diverge"]
    bare = single["logger=none"]
    lines = [
        "## The default run (`python -m src.train`): logging and diagnosis", "",
        "Whole command (interpreter and Hydra included) and train()'s `wall_seconds`, from the",
        "same runs; ratios per repeat against `logger=none` in the same repeat.", "",
        "| `python -m src.train` | command s | train() s | command / none | train() / none |",
        "|---|---|---|---|---|",
    ]  # fmt: skip
    for name, runs in single.items():
        cmd, train = [r["seconds"] for r in runs], [r["wall_seconds"] for r in runs]
        lines.append(
            f"| {name} | {spread(cmd, '.3f')} | {spread(train, '.3f')} "
            f"| {spread(ratios(cmd, [r['seconds'] for r in bare]), '.3f')} "
            f"| {spread(ratios(train, [r['wall_seconds'] for r in bare]), '.3f')} |"
        )
    lines += [
        "", "Diagnosis: `diagnosis=on` vs `diagnosis=off` (benchmarks/diagnosis.py, reused;",
        "train() in this process, and whole commands).", "",
        "| default run | with diagnosis s | without s | with / without |",
        "|---|---|---|---|",
    ]  # fmt: skip
    for kind, label in (("inproc", "train() in-process"), ("cli", "whole command")):
        a, b = diag[kind]["with"], diag[kind]["without"]
        lines.append(f"| {label} | {spread(a, '.3f')} | {spread(b, '.3f')} "
                     f"| {spread(ratios(a, b), '.3f')} |")  # fmt: skip
    lines += ["", "## Divergence: `python -m src.train loss=mse trainer.batch_size=1 <lr>`", "",
              "| lr | outcome | steps | first non-finite step | epochs | train() s | command s |",
              "|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, runs in diverge.items():
        m = runs[0]
        lines.append(
            f"| {name} | {m['outcome']} | {m['steps']} | {m['first_nonfinite_step']} "
            f"| {m['epochs_completed']} | {spread([r['wall_seconds'] for r in runs], '.3f')} "
            f"| {spread([r['seconds'] for r in runs], '.3f')} |"
        )
    return lines
