"""The stacked-sweep benchmark's measuring parts: process-tree memory, the per-cell estimate,
the results file."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks import stacked_sweep


def sweep(wall: float, steps: list[int], per_step: float) -> dict:
    metrics = [{"steps": s, "wall_seconds": s * per_step} for s in steps]
    return {"wall": wall, "rss": 100.0, "metrics": metrics, "dir": Path(".")}


def test_tree_rss_counts_the_children() -> None:
    alone = stacked_sweep.tree_rss_mb(os.getpid())
    holds = "b = b'x' * (200 * 2**20); print(1, flush=True); import time; time.sleep(30)"
    with subprocess.Popen([sys.executable, "-c", holds], stdout=subprocess.PIPE) as child:
        try:
            child.stdout.readline()  # its 200 MB are resident now
            time.sleep(0.1)
            assert stacked_sweep.tree_rss_mb(os.getpid()) - alone > 190
        finally:
            child.kill()


def test_estimate_scales_per_cell_cost_and_steps() -> None:
    # 4 cells, 1 ms a step, on 2 workers: (4 a + 0.001 * 4000) / 2 = 3 s  ->  a = 0.5 s a cell
    default = sweep(3.0, [100, 400, 1500, 2000], 1e-3)
    fine = sweep(99.0, [1000] * 10, 0.0)  # only its steps count
    assert stacked_sweep.estimate(default, fine) == pytest.approx((10 * 0.5 + 10.0) / 2)


def test_results_file_has_the_pair_per_round_and_the_growth_table() -> None:
    pair = {"stacked": [sweep(10, [1] * 35, 0), sweep(12, [1] * 35, 0)],
            "per-cell": [sweep(30, [*range(35)], 1e-3), sweep(30, [*range(35)], 1e-3)]}  # fmt: skip
    growth = {n: sweep(n / 10, [1] * n, 0) for n in stacked_sweep.GROWTH}
    facts = {"date": "d", "cpu": "c", "nproc": "2", "software": "s", "tree": "t",
             "load_before": "1", "load_after": "2"}  # fmt: skip
    text = stacked_sweep.markdown(pair, growth, facts, [])
    assert "| 1 | 10.0 | 30.0 | 3.00x |" in text and "| 2 | 12.0 | 30.0 | 2.50x |" in text
    assert "Median ratio 2.75x" in text
    assert "| 1,056 | `sweep=bs_lr_fine` | 105.6 | 10.0 | 0.100 | 100 |" in text
    assert "| 35 | `sweep=bs_lr (median of the rounds)` | 11.0 |" in text
    assert "estimated" in text and "default 11.0 s, fine 105.6 s" in text
