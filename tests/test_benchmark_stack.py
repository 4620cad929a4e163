"""The stack benchmark runs both paths and refuses to report when they disagree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_benchmark_compares_identical_runs_and_writes_its_table(tmp_path) -> None:
    # As a user runs it: a fresh process composes without the test suite's set-up.
    out = tmp_path / "stack.md"
    args = ["--runs", "3", "--epochs", "1", "--repeats", "1", "--out", str(out),
            "trainer.batch_size=64"]  # fmt: skip
    proc = subprocess.run([sys.executable, "-m", "benchmarks.stack", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "| A one stack (train_stack) |" in text and "| B one by one (train) |" in text
    assert "Outcomes (identical on both paths)" in text and "Peak RSS" in text
