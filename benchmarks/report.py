"""Statistics, the machine description and the Markdown table for benchmarks/trainer.py."""

from __future__ import annotations

import os
import platform
import shlex
import statistics
import sys
import time

import numpy as np
from threadpoolctl import threadpool_info

NAMES = {"trainer": "A trainer", "numpy": "B NumPy loop", "torch": "C PyTorch"}


def load() -> str:
    """The 1/5/15-minute load averages: other processes on the machine skew every timing."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def publish(text: str, out) -> None:
    """Print a results table and write it to `out` (a Path), creating its folder."""
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"written to {out}")


def heading(title: str, facts: dict) -> list[str]:
    """A result file's first lines: what was measured, on what, and how loaded the machine was
    (`facts` from `machine()`, with `load_after` filled in once the measurement is done)."""
    return [
        f"# {title}", "",
        f"Measured {facts['date']} on {facts['cpu']} ({facts['software']}); tree {facts['tree']};",
        f"load average {facts['load_before']} before, {facts['load_after']} after.", "",
    ]  # fmt: skip


def machine(torch) -> dict:
    """What the numbers were measured on."""
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    kernel = ", ".join(f"{b['internal_api']} {b['version']} ({b['architecture']})" for b in blas)
    coretype = {
        k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ
    }
    return {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "software": f"Python {platform.python_version()}, NumPy {np.__version__}, "
        f"torch {torch.__version__ if torch else 'not installed'}",
        "blas": f"{kernel or '?'}; OPENBLAS_CORETYPE etc.: {coretype or 'unset'}",
        "load_before": load(),
    }


def summarize(times: dict, losses: dict, samples: int, flops: int) -> dict:
    """Medians, spreads, paired ratios against the trainer, GFLOP/s and the loss check."""
    row: dict = {"impls": list(times)}
    for name, ts in times.items():
        rates = [samples / t for t in ts]
        med = statistics.median(rates)
        row[name] = med
        row[f"{name}_spread"] = (max(rates) - min(rates)) / 2 / med
        row[f"{name}_gflops"] = med * flops / 1e9
    for peer in ("numpy", "torch"):
        if peer in times:
            paired = [tp / ta for ta, tp in zip(times["trainer"], times[peer])]
            row[f"vs_{peer}"] = (statistics.median(paired), min(paired), max(paired))
    ref = losses["trainer"]
    row["loss"] = ref
    row["loss_delta"] = max(abs(v - ref) for v in losses.values()) / max(abs(ref), 1e-12)
    return row


def target(row: dict) -> str:
    """The issue's targets for this row: 'met', 'MISSED ...' or '-' (none at this size)."""
    checks = []
    if row["net"] == "cnn":
        if row["batch"] >= 32:
            checks.append(("torch", 0.7))
    elif row["batch"] >= 32:
        checks += [("numpy", 0.9), ("torch", 1.2)]
    else:
        checks.append(("torch", 1.0))
    checks = [(peer, bar) for peer, bar in checks if f"vs_{peer}" in row]
    if not checks:
        return "-"
    missed = [f"{'A/B' if p == 'numpy' else 'A/C'} < {bar}" for p, bar in checks
              if row[f"vs_{p}"][0] < bar]  # fmt: skip
    return "MISSED " + ", ".join(missed) if missed else "met"


def _ratio(row: dict, peer: str) -> str:
    if f"vs_{peer}" not in row:
        return "n/a"
    med, lo, hi = row[f"vs_{peer}"]
    return f"{med:.2f} ({lo:.2f}-{hi:.2f})"


def _rate(row: dict, name: str) -> str:
    if name not in row:
        return "n/a"
    return f"{row[name]:,.0f} ±{100 * row[f'{name}_spread']:.0f}%"


def progress(row: dict) -> str:
    """One line per finished cell, printed while the run goes on."""
    rates = "  ".join(f"{n}={row[n]:,.0f}/s" for n in row["impls"])
    ratios = "  ".join(f"A/{'B' if p == 'numpy' else 'C'}={row[f'vs_{p}'][0]:.2f}"
                       for p in ("numpy", "torch") if f"vs_{p}" in row)  # fmt: skip
    return f"{row['net']:6} t={row['threads']} b={row['batch']:<4} {rates}  {ratios}"


def markdown(rows: list[dict], machine: dict, args) -> str:
    """The results file: how it was measured, one table row per cell, the targets' tally."""
    peaks = ", ".join(
        f"{machine[k]:.0f} GFLOP/s on {k[4:]} thread(s)" for k in machine if k.startswith("peak")
    )
    command = "python -m benchmarks.trainer " + shlex.join(sys.argv[1:])
    lines = [
        "# Trainer speed: samples/s, float32, one training epoch",
        "",
        f"- Command: `{command.strip()}` ({args.repeats} interleaved repeats per cell, "
        f"{args.clock} clock)",
        f"- Measured {machine['date']} on {machine['cpu']}; {machine['software']}",
        f"- BLAS: {machine['blas']}; sgemm peak (2048^3 float32 matmul): {peaks}",
        f"- Load average before / after: {machine['load_before']} / {machine.get('load_after')}",
        "- Samples/s: median over repeats, ± half the min-max range. Ratios A/B, A/C: median of",
        "  the per-repeat ratios (min-max). GFLOP/s: forward + weight-gradient + input-gradient",
        "  matmul FLOPs (none for the first layer's input) per sample times samples/s.",
        "- Δloss: largest relative difference of the mean training loss against A; all three start",
        "  from the same weights and see the same samples in the same order. At batch 1 (lr 0.1)",
        "  training is chaotic: the losses agree to 1e-6 for ~100 steps, then rounding differences",
        "  grow, so a few % there is expected (it is as large between B and C).",
        "",
        "| net | threads | batch | samples | A trainer | B NumPy loop | C PyTorch | A/B | A/C "
        "| A GFLOP/s (% peak) | B % peak | Δloss | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(_cells(r, machine[f"peak{r['threads']}"])) + " |" for r in rows]
    return "\n".join([*lines, "", tally(rows)]) + "\n"


def _cells(r: dict, peak: float) -> list[str]:
    return [
        r["title"],
        str(r["threads"]),
        str(r["batch"]),
        f"{r['samples']:,}",
        _rate(r, "trainer"),
        _rate(r, "numpy"),
        _rate(r, "torch"),
        _ratio(r, "numpy"),
        _ratio(r, "torch"),
        f"{r['trainer_gflops']:.1f} ({100 * r['trainer_gflops'] / peak:.0f}%)",
        f"{100 * r['numpy_gflops'] / peak:.0f}%",
        f"{r['loss_delta']:.0e}",
        target(r),
    ]


def tally(rows: list[dict]) -> str:
    """One line: how many cells with a target met it, and which missed."""
    verdicts = [target(r) for r in rows]
    missed = [
        f"{r['net']} threads={r['threads']} batch={r['batch']} ({v.removeprefix('MISSED ')})"
        for r, v in zip(rows, verdicts)
        if v.startswith("MISSED")
    ]
    judged = len(rows) - verdicts.count("-")
    text = f"Targets met in {verdicts.count('met')} of {judged} cells that have one"
    return text + (": missed " + "; ".join(missed) if missed else ".")
