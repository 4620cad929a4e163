"""The Markdown phase map: layout, cell labels, one table per combination of the other keys."""

from __future__ import annotations

from src.sweep.collect import collect
from src.sweep.layout import layout
from src.sweep.phase_map import markdown
from tests.sweep.fake import make_cell, make_grid

GRID_MARKDOWN = """\
## Phase map — fixed: activation=sigmoid
6 cells: 1 converged, 1 learning, 1 stalled, 1 diverged, 1 error, 1 pending

| trainer.batch_size \\ optimizer.lr | 0.001 | 0.01 | 1 |
| --- | --- | --- | --- |
| 4 | stalled 0.12 | error | pending |
| 16 | learning 0.63 | converged 0.97 | NaN@57 |
"""


def phase_map(sweep_dir, rows=None, cols=None) -> str:
    sweep = collect(sweep_dir)
    return markdown(sweep, layout(sweep, rows, cols))


def test_grid_rows_are_batch_sizes_and_columns_lrs_in_numeric_order(tmp_path):
    assert phase_map(make_grid(tmp_path)) == GRID_MARKDOWN


def test_axes_can_be_swapped(tmp_path):
    text = phase_map(make_grid(tmp_path), rows="optimizer.lr", cols="trainer.batch_size")
    assert "| optimizer.lr \\ trainer.batch_size | 4 | 16 |" in text
    assert "| 1 | pending | NaN@57 |" in text.splitlines()


def test_a_known_cause_follows_the_label(tmp_path):
    metrics = {"outcome": "stalled", "test_accuracy": 0.1, "cause": "dead ReLUs"}
    make_cell(tmp_path, ["optimizer.lr=10"], metrics)
    make_cell(tmp_path, ["optimizer.lr=0.1"], {"outcome": "converged", "test_accuracy": 0.95})
    lines = phase_map(tmp_path).splitlines()
    assert lines[0] == "## Phase map — fixed: nothing beyond the defaults"
    assert lines[-3:] == [
        "| optimizer.lr | 0.1 | 10 |",
        "| --- | --- | --- |",
        "|  | converged 0.95 | stalled 0.10 (dead ReLUs) |",
    ]  # one swept key: a single row


def test_a_third_swept_key_gives_one_table_per_value(tmp_path):
    for loss in ("mse", "cross_entropy"):
        make_grid(tmp_path, f"loss={loss}")
    text = phase_map(tmp_path)
    assert text.startswith("## Phase map — fixed: activation=sigmoid\n12 cells: 2 converged")
    headings = [line for line in text.splitlines() if line.startswith("###")]
    assert headings == ["### loss=cross_entropy", "### loss=mse"]
    assert text.count("| trainer.batch_size \\ optimizer.lr | 0.001 | 0.01 | 1 |") == 2
    assert text.count("| 16 | learning 0.63 | converged 0.97 | NaN@57 |") == 2


def test_a_cell_not_started_yet_shows_a_dash(tmp_path):
    make_cell(tmp_path, ["trainer.batch_size=4", "optimizer.lr=0.1"], None)
    make_cell(tmp_path, ["trainer.batch_size=8", "optimizer.lr=1"], None)
    assert "| 4 | pending | — |" in phase_map(tmp_path).splitlines()
