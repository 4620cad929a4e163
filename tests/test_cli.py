"""`python -m src.train` as a user runs it: exit codes, the summary line, metrics.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import assert_one_error_line, run_train

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = {
    "outcome", "test_accuracy", "chance", "predicted_class_share", "first_nonfinite_step",
    "steps", "epochs_completed", "final_train_loss", "wall_seconds", "optimizer.lr",
    "trainer.batch_size",
}  # fmt: skip


def train(tmp_path: Path, *overrides: str, run_dir: str = "run") -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run(
        [sys.executable, "-m", "src.train", *overrides, f"hydra.run.dir={tmp_path / run_dir}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def metrics(tmp_path: Path, run_dir: str = "run") -> dict:
    return json.loads((tmp_path / run_dir / "metrics.json").read_text())


@pytest.mark.slow
def test_default_run_converges_on_digits(tmp_path):
    proc = train(tmp_path)
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("outcome=converged test_accuracy=0.9")
    assert "first_nonfinite_step=None run_dir=" in last
    assert proc.stdout.count("epoch ") == 20  # a progress line per epoch
    m = metrics(tmp_path)
    assert m.keys() >= REQUIRED
    assert m["outcome"] == "converged" and m["test_accuracy"] >= 0.90
    assert m["epochs_completed"] == 20 and m["steps"] == 20 * 45  # 1438 samples / 32, rounded up
    assert (tmp_path / "run" / ".hydra" / "config.yaml").exists()
    assert (tmp_path / "run" / "train.log").exists()


@pytest.mark.slow
def test_mse_with_huge_lr_at_batch_1_diverges_and_is_recorded(tmp_path):
    proc = train(tmp_path, "loss=mse", "optimizer.lr=50", "trainer.batch_size=1")
    assert proc.returncode == 0, proc.stderr
    m = metrics(tmp_path)
    assert m["outcome"] == "diverged"
    assert isinstance(m["first_nonfinite_step"], int) and m["first_nonfinite_step"] < 100
    assert m["steps"] == m["first_nonfinite_step"]  # stopped at once, did not finish its epochs
    assert m["test_accuracy"] is None


@pytest.mark.slow
def test_cross_entropy_with_huge_lr_stalls_at_one_class(tmp_path):
    # Log-sum-exp keeps the loss finite: the net dies (dead ReLUs) instead of overflowing.
    proc = train(tmp_path, "optimizer.lr=50", "trainer.batch_size=1", "trainer.epochs=2")
    m = metrics(tmp_path)
    assert proc.returncode == 0 and m["outcome"] == "stalled"
    assert m["first_nonfinite_step"] is None and m["predicted_class_share"] == 1.0


@pytest.mark.slow
def test_same_seed_twice_gives_identical_metrics(tmp_path):
    for name in ("a", "b"):
        assert train(tmp_path, "trainer.epochs=3", run_dir=name).returncode == 0
    a, b = metrics(tmp_path, "a"), metrics(tmp_path, "b")
    a.pop("wall_seconds"), b.pop("wall_seconds")
    assert a == b


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["activation=relu2"], "activation/relu2 not found; valid options: leaky_relu, relu"),
        (["optimizer.lrr=3"], "Could not override 'optimizer.lrr'"),
        (["optimizer.lr=abc"], "optimizer.lr='abc': expected a number"),
        (["trainer.batch_size=-1"], "trainer.batch_size=-1: expected an integer >= 1"),
        (["trainer.epochs=0"], "trainer.epochs=0: expected an integer >= 1"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_leaves_no_run_dir(tmp_path, overrides, expected):
    result = run_train(tmp_path, *overrides, f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode == 2
    assert_one_error_line(result, expected)
    assert not (tmp_path / "run").exists()


def test_bad_input_through_the_real_command(tmp_path):
    # The exit status a shell sees, with every warning an error: once as a real process.
    proc = train(tmp_path, "optimizer.lr=0")
    assert proc.returncode == 2
    assert_one_error_line(proc, "optimizer.lr=0: expected a number > 0")
    assert not (tmp_path / "run").exists()


def test_batch_larger_than_the_training_set_is_full_batch_with_a_warning(tmp_path):
    proc = train(tmp_path, "trainer.batch_size=100000", "trainer.epochs=2", "logger=none")
    assert proc.returncode == 0, proc.stderr
    warning = "trainer.batch_size=100000 exceeds the 1438 training samples; training full-batch"
    assert warning in proc.stdout + proc.stderr
    assert metrics(tmp_path)["steps"] == 2  # one update per epoch
