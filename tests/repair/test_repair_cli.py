"""`python -m src.repair` as a user runs it: bad input, healthy runs, real repairs (slow)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest

from src.results import read_metrics
from src.sweep.collect import collect
from tests.repair.fake import make_run, result
from tests.sweep.test_sweep_run import ROOT, sweep


def repair(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "src.repair", *map(str, args)],
        cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "error"},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def train(*overrides: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "src.train", *overrides, "logger=none"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["{tmp}/missing"], "missing: not a run or sweep folder"),
        (["{tmp}"], "empty: not a run or sweep folder"),
        (["{run}", "--tries", "0"], "--tries=0: must be an integer >= 1"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    run = make_run(tmp_path / "runs", ["optimizer.lr=1e-4"], result("stalled", 0.1))
    (tmp_path / "empty").mkdir()
    proc = repair(*(a.format(tmp=tmp_path / "empty", run=run) for a in args))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [run.name]  # nothing written


def test_a_run_whose_overrides_are_not_yaml_is_one_line(tmp_path):
    run = make_run(tmp_path, ["optimizer.lr=1e-4"], result("stalled", 0.1))
    (run / ".hydra" / "overrides.yaml").write_text("- [unclosed\n")
    proc = repair(run)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "overrides.yaml: not valid YAML" in proc.stderr


def test_a_converged_run_is_left_alone(tmp_path):
    run = make_run(tmp_path, ["optimizer.lr=0.1"], result("converged", 0.97))
    before = (run / "metrics.json").read_text()
    proc = repair(run)
    assert proc.returncode == 0, proc.stderr
    assert "converged; nothing to repair" in proc.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == [run.name]
    assert (run / "metrics.json").read_text() == before


@pytest.mark.slow
def test_a_dead_relu_run_is_repaired_into_a_normal_run_folder(tmp_path):
    run = tmp_path / "run"
    train("optimizer.lr=10", "trainer.batch_size=16", "trainer.epochs=5", f"hydra.run.dir={run}")
    assert read_metrics(run)["cause"] == "dead_relu"
    proc = repair(run)
    assert proc.returncode == 0, proc.stderr
    assert "converged after repair: 1 of 1 failed runs (1 at the first attempt)" in proc.stdout
    attempt = tmp_path / "repairs" / "run.repair1"
    metrics = read_metrics(attempt)
    assert metrics["outcome"] == "converged"
    suggestion = read_metrics(run)["diagnosis"][0]["suggestion"]
    assert metrics["optimizer.lr"] == float(suggestion.split("=")[1]) < 10
    assert metrics["trainer.epochs"] == 5  # the run's own overrides are kept
    assert (attempt / ".hydra" / "config.yaml").is_file() and (attempt / "train.log").is_file()
    assert "outcome=converged" in (attempt / "train.log").read_text()
    diagnose = subprocess.run([sys.executable, "-m", "src.diagnose", str(attempt)], cwd=ROOT,
                              capture_output=True, text=True)  # fmt: skip
    assert diagnose.returncode == 0 and "converged: no cause" in diagnose.stdout
    with open(tmp_path / "repairs" / "repair.csv", newline="") as f:
        (row,) = csv.DictReader(f)
    assert (row["cell"], row["attempts"], row["final_outcome"]) == ("run", "1", "converged")


@pytest.mark.slow
def test_a_sweep_gets_repair_csv_and_repaired_map_and_its_summary_is_unchanged(tmp_path):
    grid = ["trainer.batch_size=16", "optimizer.lr=1e-4,0.1,10", "trainer.epochs=5"]
    assert sweep(tmp_path, *grid, "logger=none").returncode == 0
    summary = (tmp_path / "summary.csv").read_text()
    proc = repair(tmp_path, "--tries", "2")
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "repair.csv", newline="") as f:
        rows = {row["cell"]: row for row in csv.DictReader(f)}
    failed = {cell.folder.name for cell in collect(tmp_path).cells if cell.outcome != "converged"}
    assert {name.split(",")[1] for name in failed} == {"optimizer.lr=0.0001", "optimizer.lr=10"}
    assert set(rows) == failed
    for row in rows.values():
        assert 1 <= int(row["attempts"]) <= 2 and row["final_outcome"] == "converged", row
        assert (tmp_path / row["final_run"] / "metrics.json").is_file()
    assert (tmp_path / "repaired_map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The attempts live in repairs/, which the sweep's own summary does not read.
    resummarized = subprocess.run([sys.executable, "-m", "src.summarize", str(tmp_path)],
                                  cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    assert resummarized.returncode == 0, resummarized.stderr
    assert (tmp_path / "summary.csv").read_text() == summary


@pytest.mark.slow
def test_a_sweep_run_with_submitit_is_repaired_with_submitit(tmp_path):
    train("--multirun", "hydra/launcher=submitit_local", "trainer.batch_size=16",
          "optimizer.lr=10", "trainer.seed=0,1", "trainer.epochs=5",
          f"hydra.sweep.dir={tmp_path}")  # fmt: skip
    proc = repair(tmp_path, "--tries", "1")
    assert proc.returncode == 0, proc.stderr
    # Both attempts lower the rate only, each with its seed: one stack, one submitit job (a
    # folder named by its id).
    jobs = [p for p in (tmp_path / "repairs" / ".submitit").iterdir() if p.name.isdigit()]
    assert len(jobs) == 1 and "as 1 job:" in proc.stdout
    attempts = sorted((tmp_path / "repairs").glob("*.repair1"))
    assert len(attempts) == 2
    assert all(read_metrics(attempt)["outcome"] == "converged" for attempt in attempts)
