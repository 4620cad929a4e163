"""The phase map as a PNG: one subplot per panel, a coloured square per cell (Agg, no display)."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from src.results import write_bytes_atomic
from src.sweep.cells import Cell, Sweep, Value
from src.sweep.layout import Layout, Panel, tick_labels
from src.sweep.phase_map import COLORS, NO_CELL, fixed_text
from src.theory.overlay import draw_theory

DARK = {"diverged", "error"}  # white text on these
CELL_INCHES, DPI, PANELS_PER_ROW = 0.7, 100, 3


def write_png(path: Path, sweep: Sweep, grid: Layout) -> None:
    """One subplot per panel, coloured by outcome, annotated with accuracy or NaN@step."""
    n_panels = len(grid.panels)
    across = min(n_panels, PANELS_PER_ROW)
    down = -(-n_panels // across)
    width = max(across * (1.0 + CELL_INCHES * len(grid.col_values)), 6.0)  # legend needs 6
    title = f"Phase map of {sweep.folder.name} — fixed: {fixed_text(sweep)}"
    title = textwrap.fill(title, width=int(width * 11))
    # Per panel: squares + tick labels, axis label and panel title; then suptitle and legend.
    rotated = _rotate_ticks(grid)
    panel_height = 1.2 + 0.3 * rotated + CELL_INCHES * len(grid.row_values)
    height = down * panel_height + 0.2 * title.count("\n") + 0.9
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)  # render with Agg, whatever backend pyplot would pick
    axes = fig.subplots(down, across, squeeze=False).ravel()
    for ax, panel in zip(axes, grid.panels):
        _draw_panel(ax, grid, panel)
        ax.set_title(textwrap.fill(panel.title, width=int(width / across * 12)), fontsize=9)
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=10)
    handles = [Patch(facecolor=c, edgecolor="grey", label=o) for o, c in COLORS.items()]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(COLORS), fontsize=8)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    write_bytes_atomic(path, buffer.getvalue())


def _draw_panel(ax: Axes, grid: Layout, panel: Panel) -> None:
    """Equal squares per (row, col) value; tick labels carry the values, so log grids read right."""
    codes = np.ma.masked_all((len(grid.row_values), len(grid.col_values)))  # (rows, cols)
    for i, row in enumerate(grid.row_values):
        for j, col in enumerate(grid.col_values):
            cell = panel.cells.get((row, col))
            if cell is not None and cell.outcome in COLORS:
                codes[i, j] = list(COLORS).index(cell.outcome)
            _annotate(ax, j, i, cell)
    cmap = ListedColormap(list(COLORS.values()))
    ax.pcolormesh(codes, cmap=cmap, vmin=-0.5, vmax=len(COLORS) - 0.5, edgecolors="lightgrey")
    ax.set_facecolor("#f2f2f2")  # cells with no folder or an unknown outcome
    ax.set_aspect("equal")
    ax.set_xticks(np.arange(len(grid.col_values)) + 0.5, tick_labels(grid.col_values, grid.cols))
    ax.set_yticks(np.arange(len(grid.row_values)) + 0.5, tick_labels(grid.row_values, grid.rows))
    ax.set_xlabel(_axis_label(grid.cols, grid.col_values), fontsize=9)
    ax.set_ylabel(_axis_label(grid.rows, grid.row_values), fontsize=9)
    ax.tick_params(labelsize=8, length=0)
    if _rotate_ticks(grid):
        ax.tick_params(axis="x", labelrotation=45)
    draw_theory(ax, grid, panel)


def _rotate_ticks(grid: Layout) -> bool:
    """Slant the column labels when they would not fit under their squares side by side."""
    longest = max(len(label) for label in tick_labels(grid.col_values, grid.cols))
    return longest > 5 and len(grid.col_values) > 2


def _annotate(ax: Axes, x: int, y: int, cell: Cell | None) -> None:
    if cell is None:
        text = NO_CELL
    elif cell.outcome == "diverged" and cell.metric("first_nonfinite_step") is not None:
        text = f"NaN@{cell.metric('first_nonfinite_step')}"
    elif isinstance(cell.metric("test_accuracy"), (int, float)):
        text = f"{cell.metric('test_accuracy'):.2f}"
    else:
        text = cell.outcome
    cause = cell.metric("cause") if cell is not None else None
    if cause:  # the diagnosed cause under the number, wrapped at its underscores
        text += "\n" + str(cause).replace("_", "\n", 1)
    color = "white" if cell is not None and cell.outcome in DARK else "black"
    ax.text(x + 0.5, y + 0.5, text, ha="center", va="center", fontsize=6 if cause else 7,
            color=color)  # fmt: skip


def _axis_label(key: str | None, values: list[Value]) -> str:
    """The key, marked as log scale when its values are positive numbers spanning > 10x."""
    if key is None:
        return ""
    numbers = [v for v in values if isinstance(v, (int, float))]
    spans = len(numbers) == len(values) and min(numbers) > 0 and max(numbers) > 10 * min(numbers)
    return f"{key} (log scale)" if spans else key
