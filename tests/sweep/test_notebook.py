"""The README's notebook lines: summary.csv and every metrics.json load into pandas as shown."""

from __future__ import annotations

import json

import pytest

from src.sweep.summary import write_summary
from tests.sweep.fake import make_grid

pd = pytest.importorskip("pandas", reason="pandas is the optional `notebook` extra")


def test_summary_and_metrics_load_in_two_lines(tmp_path):
    sweep = make_grid(tmp_path)
    write_summary(sweep)
    runs = pd.read_csv(sweep / "summary.csv")  # one row per run
    metrics = pd.json_normalize([json.loads(p.read_text()) for p in sweep.glob("*/metrics.json")])
    assert len(runs) == 6 and len(metrics) == 5  # the pending cell has no metrics.json yet
    assert runs["optimizer.lr"].dtype == float and runs["trainer.batch_size"].dtype == int
    table = runs.pivot_table(
        index="optimizer.lr", columns="trainer.batch_size", values="test_accuracy"
    )
    assert table.loc[0.01, 16] == pytest.approx(0.971)
    assert table.loc[0.001, 4] == pytest.approx(0.118)
    assert 1.0 not in table.index  # diverged and pending: no accuracy, a gap in the plot
    assert set(metrics["outcome"]) == {"converged", "learning", "stalled", "diverged", "error"}
