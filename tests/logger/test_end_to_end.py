"""`python -m src.train` runs and sweeps as a user starts them, read back as TensorBoard would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from src.outcome import OUTCOMES
from tests.logger.events import HParamsDashboard, read_events

ROOT = Path(__file__).resolve().parents[2]
FINAL = ["final/test_accuracy", "final/outcome_code", "final/first_nonfinite_step"]


def train(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "src.train", *args],
        cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "error"},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def sweep(sweep_dir: Path, *overrides: str) -> subprocess.CompletedProcess:
    return train("--multirun", *overrides, f"hydra.sweep.dir={sweep_dir}",
                 "hydra.launcher.n_jobs=2")  # fmt: skip


def cells(sweep_dir: Path) -> list[Path]:
    return sorted(p.parent.parent for p in sweep_dir.glob("*/.hydra/overrides.yaml"))


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[16:24]  # IHDR: width, height as big-endian uint32
    return int.from_bytes(header[:4], "big"), int.from_bytes(header[4:], "big")


@pytest.mark.slow
def test_cli_run_writes_its_event_file_into_the_run_folder(tmp_path):
    proc = train("trainer.epochs=2", f"hydra.run.dir={tmp_path}")
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    events = read_events(tmp_path)
    # the default logger.log_every=10
    assert events.steps("train/loss") == list(range(10, metrics["steps"] + 1, 10))
    assert events.steps("test/accuracy") == [45, 90]
    assert "preactivations/2.ReLU" in events.histograms
    assert [s["outcome"] for s in events.sessions] == [metrics["outcome"]]


@pytest.mark.slow
def test_every_cell_of_a_sweep_is_a_session_with_the_same_columns(tmp_path):
    proc = sweep(tmp_path, "optimizer.lr=0.01,0.1", "trainer.batch_size=16,32", "trainer.epochs=2")
    assert proc.returncode == 0, proc.stderr
    folders = cells(tmp_path)
    assert len(folders) == 4
    keys = set()
    for folder in folders:
        metrics = json.loads((folder / "metrics.json").read_text())
        events = read_events(folder)
        [session] = events.sessions
        keys.add(frozenset(session))
        assert session["outcome"] == metrics["outcome"]
        assert session["optimizer.lr"] == metrics["optimizer.lr"]
        assert all(events.steps(tag) == [metrics["steps"]] for tag in FINAL)
        assert events.last("final/outcome_code") == OUTCOMES.index(metrics["outcome"])
    assert len(keys) == 1  # every cell brings the same hparam names
    hparams, metric_tags = HParamsDashboard(tmp_path).columns()
    assert set(hparams) == set(next(iter(keys)))
    assert set(FINAL) <= set(metric_tags)
    assert len(HParamsDashboard(tmp_path).rows()) == 4
    # The sweep folder itself holds the phase map, beside the runs.
    top = read_events(tmp_path)
    assert top.images == {"sweep/phase_map": [(0, *png_size(tmp_path / "phase_map.png"))]}
    assert top.sessions == []


@pytest.mark.slow
def test_hparams_table_filters_to_the_diverged_cells(tmp_path):
    proc = sweep(tmp_path, "loss=mse", "trainer.batch_size=1", "optimizer.lr=0.01,50",
                 "trainer.epochs=1", "dataset.limit_train=200")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    dashboard = HParamsDashboard(tmp_path)
    assert len(dashboard.rows()) == 2
    [diverged] = dashboard.rows(outcome=["diverged"])
    assert diverged["hparams"]["optimizer.lr"] == 50
    values = {m["name"]["tag"]: m["value"] for m in diverged["metricValues"]}
    assert values["final/outcome_code"] == OUTCOMES.index("diverged")
    assert values["final/first_nonfinite_step"] >= 0 and values["final/test_accuracy"] == -1
