"""sharpness.csv from the cells' metrics, and the 2/λ line and critical batch on the map."""

from __future__ import annotations

import csv

import pytest
from matplotlib.figure import Figure

from src.logger.tensorboard import png_header
from src.sweep.collect import collect
from src.sweep.layout import layout
from src.sweep.plot import write_png
from src.sweep.summary import write_summary
from src.theory.edges import SHARPNESS_CSV, measured_max_lr
from src.theory.overlay import draw_theory
from tests.sweep.fake import make_cell

# batch size -> outcomes at lr 1e-3, 0.01, 1; λ 20 at both batch sizes (2/λ = 0.1).
OUTCOMES = {
    "4": ("stalled", "converged", "diverged"),
    "16": ("learning", "converged", "converged"),
}
THEORY = {"sharpness_init": 20.0, "noise_scale_init": 8.0}


def make_theory_grid(sweep_dir):
    for batch, outcomes in OUTCOMES.items():
        for lr, outcome in zip(("1e-3", "0.01", "1"), outcomes):
            overrides = [f"trainer.batch_size={batch}", f"optimizer.lr={lr}"]
            make_cell(sweep_dir, overrides, {"outcome": outcome, "test_accuracy": 0.5, **THEORY})
    return sweep_dir


def test_measured_edge_is_the_last_trainable_lr_before_a_failure(tmp_path):
    sweep = collect(make_theory_grid(tmp_path))
    by_batch = {
        b: [c for c in sweep.cells if c.overrides["trainer.batch_size"] == b] for b in (4, 16)
    }
    assert measured_max_lr(by_batch[4]) == 0.01  # stalled 1e-3 is too low, not an edge
    assert measured_max_lr(by_batch[16]) is None  # trains up to the grid's end


def test_sharpness_csv_rows(tmp_path):
    write_summary(make_theory_grid(tmp_path))
    rows = list(csv.DictReader((tmp_path / SHARPNESS_CSV).read_text().splitlines()))
    assert [r["trainer.batch_size"] for r in rows] == ["4", "16"]
    assert float(rows[0]["two_over_sharpness"]) == pytest.approx(0.1)
    assert float(rows[0]["measured_over_predicted"]) == pytest.approx(0.1)  # 0.01 / 0.1
    assert rows[1]["measured_max_lr"] == ""
    assert float(rows[1]["noise_scale_init"]) == 8.0


def test_no_sharpness_csv_without_measurements(tmp_path):
    make_cell(tmp_path, ["optimizer.lr=0.1"], {"outcome": "converged", "test_accuracy": 0.9})
    make_cell(tmp_path, ["optimizer.lr=1"], {"outcome": "diverged", "test_accuracy": None})
    write_summary(tmp_path)
    assert not (tmp_path / SHARPNESS_CSV).exists()


def test_overlay_places_two_over_lambda_and_the_critical_batch(tmp_path):
    grid = layout(collect(make_theory_grid(tmp_path)))
    ax = Figure().subplots()
    draw_theory(ax, grid, grid.panels[0])
    line, _, marker = ax.get_lines()  # 2/λ staircase, B_simple rule, its axis marker
    # lr 0.1 lies halfway (in log) between the centres of the 0.01 and 1 columns (1.5, 2.5).
    assert list(line.get_xdata()) == pytest.approx([2.0] * 4)
    assert list(line.get_ydata()) == [0, 1, 1, 2]
    # B = 8 lies halfway (in log) between the rows 4 and 16 (centres 0.5, 1.5).
    assert list(marker.get_ydata()) == pytest.approx([1.0])
    assert [t.get_text() for t in ax.get_legend().get_texts()][0] == "lr = 2/λ (init)"


def test_the_overlay_legend_widens_the_png_instead_of_shrinking_its_squares(tmp_path):
    def png_size(sweep_dir, theory):
        for batch, outcomes in OUTCOMES.items():
            for lr, outcome in zip(("1e-3", "0.01", "1"), outcomes):
                metrics = {"outcome": outcome, "test_accuracy": 0.5, **theory}
                make_cell(sweep_dir, [f"trainer.batch_size={batch}", f"optimizer.lr={lr}"],
                          metrics)  # fmt: skip
        sweep = collect(sweep_dir)
        write_png(sweep_dir / "map.png", sweep, layout(sweep))
        return png_header((sweep_dir / "map.png").read_bytes())[:2]

    (plain_width, plain_height), (width, height) = (
        png_size(tmp_path / "plain", {}), png_size(tmp_path / "theory", THEORY)
    )  # fmt: skip
    assert height == plain_height
    assert width - plain_width > 100  # the legend, > 1 inch at 100 dpi, beside the squares
