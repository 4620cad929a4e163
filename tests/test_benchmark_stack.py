"""The stack benchmark runs both paths and refuses to report when they disagree."""

from __future__ import annotations

import pytest

from benchmarks import stack


@pytest.mark.slow
def test_benchmark_compares_identical_runs_and_writes_its_table(tmp_path) -> None:
    out = tmp_path / "stack.md"
    stack.main(["--runs", "3", "--epochs", "1", "--out", str(out), "trainer.batch_size=64"])
    text = out.read_text()
    assert "| A one stack (train_stack) |" in text and "| B one by one (train) |" in text
    assert "Outcomes (identical on both paths)" in text and "Peak RSS" in text
