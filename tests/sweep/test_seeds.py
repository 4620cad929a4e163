"""Swept seeds: a map cell aggregates its runs (majority outcome and share, mean accuracy, a
mark where they disagree); summary.csv keeps one row per run, summary_cells.csv one per cell."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

import src.train  # noqa: F401  (registers the resolvers the config uses)
from src.sweep.collect import collect
from src.sweep.layout import layout
from src.sweep.phase_map import markdown
from src.sweep.progress import count_cells
from src.sweep.summary import write_summary
from tests.conftest import CONF_DIR
from tests.sweep.fake import make_cell

ROOT = Path(__file__).resolve().parents[2]

# (batch size, lr) -> the three seeds' results
SEEDED = {
    ("4", "0.1"): [("converged", 0.96), ("converged", 0.94), ("stalled", 0.11)],
    ("4", "10"): [("diverged", 40), ("diverged", 12), ("diverged", 30)],
    ("16", "0.1"): [("converged", 0.97), ("converged", 0.95), ("converged", 0.93)],
    ("16", "10"): [("stalled", 0.10), ("diverged", 9), ("learning", 0.5)],  # a three-way tie
}


def seeded_grid(sweep_dir):
    for (batch, lr), runs in SEEDED.items():
        for seed, (outcome, value) in enumerate(runs):
            metrics = {"outcome": outcome, "test_accuracy": value}
            if outcome == "diverged":
                step, cause = value, "learning_rate_too_high"
                metrics.update(test_accuracy=None, first_nonfinite_step=step, cause=cause)
            overrides = [
                f"trainer.batch_size={batch}",
                f"optimizer.lr={lr}",
                f"trainer.seed={seed}",
            ]
            make_cell(sweep_dir, [*overrides, "sweep=bs_lr"], metrics)
    return sweep_dir


def read_csv(path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


def test_a_map_cell_shows_the_majority_its_share_and_the_mean_accuracy(tmp_path):
    sweep = collect(seeded_grid(tmp_path))
    text = markdown(sweep, layout(sweep))
    lines = text.splitlines()
    assert lines[1].startswith("12 runs: 5 converged, 1 learning, 2 stalled, 4 diverged; each map")
    assert "3 seeds (trainer.seed)" in lines[1] and "* where the seeds disagree" in lines[1]
    assert lines[-2:] == [
        "| 4 | converged 2/3* 0.67 | NaN@12 3/3 (learning_rate_too_high) |",
        "| 16 | converged 3/3 0.95 | stalled 1/3* 0.30 |",
    ]  # a tie goes to the lowest seed; NaN@ the earliest step; the mean over runs with accuracy
    assert "trainer.seed" not in lines[3]  # the seed is folded into the cells, not a panel


def test_the_seed_as_an_axis_is_not_aggregated(tmp_path):
    sweep = collect(seeded_grid(tmp_path))
    grid = layout(sweep, rows="trainer.seed", cols="optimizer.lr")
    assert grid.seeds == 1 and [p.title for p in grid.panels] == [
        "trainer.batch_size=4", "trainer.batch_size=16",
    ]  # fmt: skip
    assert "| 2 | stalled 0.11 | NaN@30 (learning_rate_too_high) |" in markdown(sweep, grid)


def test_summary_keeps_one_row_per_run_and_cells_one_per_map_cell(tmp_path):
    write_summary(seeded_grid(tmp_path))
    runs = read_csv(tmp_path / "summary.csv")
    assert len(runs) == 12 and {r["trainer.seed"] for r in runs} == {"0", "1", "2"}
    cells = read_csv(tmp_path / "summary_cells.csv")
    assert list(cells[0]) == [
        "trainer.batch_size", "optimizer.lr", "runs", "outcome", "agree", "seeds_disagree",
        "mean_test_accuracy", "min_test_accuracy", "max_test_accuracy", "first_nonfinite_step",
        "cause",
    ]  # fmt: skip
    by_place = {(c["trainer.batch_size"], c["optimizer.lr"]): c for c in cells}
    assert list(by_place) == [("4", "0.1"), ("4", "10"), ("16", "0.1"), ("16", "10")]
    mixed = by_place[("4", "0.1")]
    assert (mixed["runs"], mixed["outcome"], mixed["agree"], mixed["seeds_disagree"]) == (
        "3", "converged", "2", "True",
    )  # fmt: skip
    assert np.isclose(float(mixed["mean_test_accuracy"]), (0.96 + 0.94 + 0.11) / 3)
    assert (mixed["min_test_accuracy"], mixed["max_test_accuracy"]) == ("0.11", "0.96")
    diverged = by_place[("4", "10")]
    assert diverged["first_nonfinite_step"] == "12" and diverged["seeds_disagree"] == "False"
    assert diverged["cause"] == "learning_rate_too_high" and diverged["mean_test_accuracy"] == ""


def test_the_fine_sweep_is_32_log_spaced_rates_by_11_batch_sizes_by_3_seeds():
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=["sweep=bs_lr_fine"], return_hydra_config=True)
    params = cfg.hydra.sweeper.params
    assert count_cells(cfg) == 1056
    rates = np.array([float(v) for v in params["optimizer.lr"].split(",")])
    assert np.allclose(rates, np.logspace(-4, 2, 32), rtol=5e-3)  # 3 significant digits
    assert params["trainer.batch_size"] == ",".join(str(2**i) for i in range(11))
    assert params["trainer.seed"] == "0,1,2"


@pytest.mark.slow
def test_a_real_seeded_sweep_folds_its_seeds(tmp_path):
    args = ["--multirun", "optimizer.lr=0.1,100", "trainer.seed=0,1", "trainer.epochs=1",
            "logger=none", f"hydra.sweep.dir={tmp_path}", "hydra.launcher.n_jobs=2"]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "src.train", *args],
        cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "error"},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert len(read_csv(tmp_path / "summary.csv")) == 4  # one row per run
    cells = read_csv(tmp_path / "summary_cells.csv")
    assert [(c["optimizer.lr"], c["runs"]) for c in cells] == [("0.1", "2"), ("100", "2")]
    assert cells[1]["outcome"] == "stalled" and cells[1]["cause"] == "dead_relu"
    table = (tmp_path / "phase_map.md").read_text().splitlines()
    assert table[-1].startswith("|  | ") and " 2/2 " in table[-1]
    assert "4 runs: " in table[1] and "2 seeds (trainer.seed)" in table[1]
