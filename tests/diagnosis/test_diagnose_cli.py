"""As a user sees it: the cause line a run prints, `python -m src.diagnose`, a sweep's cause."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from src import diagnose
from tests.cli import assert_one_error_line, call

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONWARNINGS": "error"}


def python(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, env=ENV, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def train(run_dir: Path, *overrides: str) -> subprocess.CompletedProcess:
    return python("-m", "src.train", "logger=none", *overrides, f"hydra.run.dir={run_dir}")


@pytest.mark.slow
def test_a_failed_run_prints_its_cause_before_the_unchanged_summary_line(tmp_path):
    proc = train(tmp_path / "run", "optimizer.lr=10", "trainer.batch_size=1", "trainer.epochs=2")
    assert proc.returncode == 0, proc.stderr
    *_, cause, last = proc.stdout.strip().splitlines()
    assert last.startswith("outcome=stalled test_accuracy=") and " run_dir=" in last
    assert cause.startswith("cause=dead_relu: 100% of hidden ReLUs never fire on the probe batch")
    assert cause.endswith("; try optimizer.lr=0.02")
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["cause"] == "dead_relu" and metrics["diagnosis"][0]["cause"] == "dead_relu"

    report = python("-m", "src.diagnose", str(tmp_path / "run"))
    assert report.returncode == 0, report.stderr
    assert report.stdout.startswith("outcome=stalled ")
    assert "1. dead_relu (confidence" in report.stdout
    rerun = "logger=none trainer.batch_size=1 trainer.epochs=2 optimizer.lr=0.02"
    assert f"rerun: python -m src.train {rerun}" in report.stdout
    assert "dead ReLU share" in report.stdout  # the measurements follow the causes


@pytest.mark.slow
def test_a_converged_run_prints_no_cause(tmp_path):
    proc = train(tmp_path / "run", "dataset=synthetic")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1].startswith("outcome=converged ")
    assert "cause=" not in proc.stdout
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["cause"] is None and metrics["diagnosis"] == []
    report = python("-m", "src.diagnose", str(tmp_path / "run"))
    assert "converged: no cause" in report.stdout


@pytest.mark.parametrize("make", ["empty", "missing", "sweep", "garbage"])
def test_diagnose_without_a_run_is_one_line_and_a_nonzero_exit(tmp_path, make):
    folder = tmp_path / "x"
    if make != "missing":
        folder.mkdir()
    if make == "sweep":
        (folder / "cell").mkdir()
        (folder / "cell" / "metrics.json").write_text("{}")
    if make == "garbage":
        (folder / "metrics.json").write_text("{not json")
    result = call(lambda: diagnose.main([str(folder)]), tmp_path, {}, ["src/diagnose.py"])
    assert result.returncode == 3 and result.stdout == ""
    line = assert_one_error_line(result, str(folder))
    if make == "sweep":
        assert "pass one cell's folder" in line


@pytest.mark.slow
def test_a_sweep_shows_each_failed_cells_cause(tmp_path):
    sweep = tmp_path / "sweep"
    proc = python("-m", "src.train", "--multirun", "optimizer.lr=0.1,100", "trainer.epochs=5",
                  "logger=none", "hydra.launcher.n_jobs=1", f"hydra.sweep.dir={sweep}")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    with (sweep / "summary.csv").open() as f:
        rows = {r["optimizer.lr"]: r for r in csv.DictReader(f)}
    assert rows["100"]["outcome"] == "stalled" and rows["100"]["cause"] == "dead_relu"
    assert rows["0.1"]["outcome"] == "converged" and rows["0.1"]["cause"] == ""
    assert "(dead_relu)" in (sweep / "phase_map.md").read_text()
