"""The theory drawn over a phase-map panel: lr = 2/λ per row, and the critical batch B_simple
on the batch-size axis. Both are measurements read from the cells' metrics, never fitted."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from src.sweep.collect import Value
from src.sweep.layout import Layout, Panel
from src.theory.edges import LR, median_metric

BATCH = "trainer.batch_size"
LINE, MARK = "#1f3fbf", "#8a2be2"


def draw_theory(ax: Axes, grid: Layout, panel: Panel) -> None:
    """Overlay on `ax` (cells at [j, j+1] x [i, i+1]) when the columns are learning rates and
    the cells carry `sharpness_init`; a legend beside the panel names what is drawn."""
    if grid.cols != LR:
        return
    handles = []
    xs, ys = [], []
    for i, row in enumerate(grid.row_values):
        row_runs = [run for (r, _), spot in panel.cells.items() if r == row for run in spot.runs]
        lam = median_metric(row_runs, "sharpness_init")
        if lam and lam > 0:
            x = _position(2.0 / lam, grid.col_values)
            xs += [x, x]
            ys += [i, i + 1]
    if xs:
        ax.plot(xs, ys, color=LINE, lw=2, ls="--")
        handles.append(Line2D([], [], color=LINE, lw=2, ls="--", label="lr = 2/λ (init)"))
    runs = [run for spot in panel.cells.values() for run in spot.runs]
    noise = median_metric(runs, "noise_scale_init")
    if grid.rows == BATCH and noise and noise > 0:
        y = _position(noise, grid.row_values)
        ax.axhline(y, color=MARK, lw=1, ls=":")
        ax.plot([0], [y], marker=">", color=MARK, ms=9, clip_on=False)
        handles.append(Line2D([], [], color=MARK, ls=":", marker=">",
                              label=f"critical batch B_simple ≈ {noise:.3g}"))  # fmt: skip
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7,
                  frameon=False)  # fmt: skip


def _position(value: float, ticks: list[Value]) -> float:
    """Where `value` falls on an axis whose cell k holds ticks[k], interpolating in log space
    between cell centres (k + 0.5) and clamped to the axis ends."""
    numbers = [float(t) for t in ticks if isinstance(t, (int, float)) and t > 0]
    if len(numbers) != len(ticks):
        return float("nan")
    if len(numbers) == 1:
        return 0.5
    centres = np.arange(len(numbers)) + 0.5
    return float(np.interp(np.log(value), np.log(numbers), centres, left=0.0, right=len(numbers)))
