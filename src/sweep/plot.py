"""The phase map as a PNG: one subplot per panel, a coloured square per cell (Agg, no display).

A cell shows its accuracy (or `NaN@step`), its seeds' share when seeds are swept, and a short
code for its diagnosed cause, spelled out in the legend; a full cause name is never wrapped, so
it cannot be read as an outcome. Maps too wide for text are colour only, with the same legend.
"""

from __future__ import annotations

import io
import textwrap
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon

from src.results import write_bytes_atomic
from src.sweep.collect import Sweep, Value
from src.sweep.layout import Layout, Panel, Spot, tick_labels
from src.sweep.phase_map import COLORS, NO_CELL, outcome_text, seed_share, title
from src.theory.overlay import draw_theory

DARK = {"error"}  # white text on these, black on the rest (the higher contrast)
PANELS_PER_ROW, MAX_WIDTH = 3, 18.0  # inches: wider maps get smaller squares
CELL_INCHES = (0.35, 0.7)  # smallest and largest square; text needs at least TEXT_INCHES
TEXT_INCHES = 0.45


def write_png(path: Path, sweep: Sweep, grid: Layout, what: str = "Phase map") -> None:
    """One subplot per panel, coloured by outcome, annotated when the squares are big enough;
    `what` heads the title (e.g. 'Phase map after repair')."""
    across = min(len(grid.panels), PANELS_PER_ROW)
    down = -(-len(grid.panels) // across)
    cell = square_inches(grid)
    codes = cause_codes(grid)
    legend_width = 6.0 if grid.seeds == 1 else 7.6  # the outcome legend in one row
    width = max(across * (1.0 + cell * len(grid.col_values)), legend_width)
    heading = textwrap.fill(f"{what} of {title(sweep, grid)}", width=int(width * 11))
    panel_height = 1.2 + 0.3 * _rotate_ticks(grid) + cell * len(grid.row_values)
    maps_height = down * panel_height + 0.2 * heading.count("\n") + 0.5
    legend_height = 0.4 + (0.3 + 0.2 * -(-len(codes) // _cause_columns(width)) if codes else 0)
    fig = Figure(figsize=(width, maps_height + legend_height), layout="constrained")
    FigureCanvasAgg(fig)  # render with Agg, whatever backend pyplot would pick
    maps, legend = fig.subfigures(2, 1, height_ratios=[maps_height, legend_height])
    axes = maps.subplots(down, across, squeeze=False).ravel()
    font = 10 * cell if cell >= TEXT_INCHES else None  # None: colour only, too small for text
    for ax, panel in zip(axes, grid.panels):
        _draw_panel(ax, grid, panel, codes, font)
        ax.set_title(textwrap.fill(panel.title, width=int(width / across * 12)), fontsize=9)
    for ax in axes[len(grid.panels) :]:
        ax.set_visible(False)
    maps.suptitle(heading, fontsize=10)
    _legend(legend, grid, codes, text=font is not None)
    # A legend beside a panel (the theory overlay's) would take its width from the squares.
    fig.set_size_inches(width + across * _beside_inches(fig, axes), fig.get_figheight())
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100 if cell >= CELL_INCHES[1] else 150)
    write_bytes_atomic(path, buffer.getvalue())


def _beside_inches(fig: Figure, axes: Sequence[Axes]) -> float:
    """Width of the widest legend drawn on a panel (placed beside it), in inches."""
    renderer = fig.canvas.get_renderer()
    widths = [legend.get_window_extent(renderer).width / fig.dpi
              for ax in axes if (legend := ax.get_legend()) is not None]  # fmt: skip
    return max(widths, default=0.0)


def square_inches(grid: Layout) -> float:
    """Side of a cell's square: 0.7 in, smaller for wide maps; below TEXT_INCHES colour only."""
    across = min(len(grid.panels), PANELS_PER_ROW)
    return float(np.clip(MAX_WIDTH / (across * len(grid.col_values)), *CELL_INCHES))


def cause_code(cause: str) -> str:
    """'learning_rate_too_low' -> 'LRTL': the initials, upper case."""
    return "".join(word[0] for word in cause.split("_") if word).upper()


def cause_codes(grid: Layout) -> dict[str, tuple[str, int]]:
    """{cause: (code, map cells)} for the causes on the map, most frequent first; a code that
    clashes with an earlier one gets a digit."""
    counts = Counter(
        spot.majority("cause") for panel in grid.panels for spot in panel.cells.values()
    )
    codes: dict[str, tuple[str, int]] = {}
    for cause, n in counts.most_common():
        if cause:
            taken = {code for code, _ in codes.values()}
            base = cause_code(str(cause))
            code = next(
                f"{base}{i or ''}" for i in range(len(codes) + 1) if f"{base}{i or ''}" not in taken
            )
            codes[str(cause)] = (code, n)
    return codes


def _cause_columns(width: float) -> int:
    return max(1, int(width / 2.6))  # a spelled-out cause takes up to ~2.6 inches


def _legend(fig: SubFigure, grid: Layout, codes: dict[str, tuple[str, int]], text: bool) -> None:
    """Outcome colours and the seeds-disagree mark; below them each cause (and its code, when
    the cells show codes) with its number of map cells."""
    handles = [Patch(facecolor=c, edgecolor="grey", label=o) for o, c in COLORS.items()]
    if grid.seeds > 1:
        handles.append(Line2D([], [], color="black", marker=(3, 0, 45), linestyle="",
                              label=f"seeds disagree (of {grid.seeds})"))  # fmt: skip
    fig.legend(handles=handles, loc="upper center", ncols=len(handles), fontsize=8)
    if codes:
        blank = {"color": "none", "marker": "", "linestyle": ""}
        causes = [
            Line2D([], [], **blank, label=f"{code} = {c} ({n})" if text else f"{c} ({n})")
            for c, (code, n) in codes.items()
        ]
        across = min(len(causes), _cause_columns(fig.figure.get_figwidth()))
        fig.legend(handles=causes, loc="lower center", ncols=across, fontsize=8, title="causes",
                   title_fontsize=8, handlelength=0, frameon=False)  # fmt: skip


def _draw_panel(
    ax: Axes, grid: Layout, panel: Panel, codes: dict[str, tuple[str, int]], font: float | None
) -> None:
    """Equal squares per (row, col) value; tick labels carry the values, so log grids read right."""
    colors = np.ma.masked_all((len(grid.row_values), len(grid.col_values)))  # (rows, cols)
    for i, row in enumerate(grid.row_values):
        for j, col in enumerate(grid.col_values):
            spot = panel.cells.get((row, col))
            if spot is not None and spot.outcome in COLORS:
                colors[i, j] = list(COLORS).index(spot.outcome)
            if spot is not None and spot.disagree:
                corner = [(j + 0.72, i + 1), (j + 1, i + 1), (j + 1, i + 0.72)]
                ax.add_patch(Polygon(corner, closed=True, color=ink(spot), zorder=3))
            if font is not None:  # inside its square: the layout need not measure it
                ax.text(j + 0.5, i + 0.5, cell_text(spot, codes), ha="center", va="center",
                        fontsize=font, color=ink(spot), linespacing=1.1,
                        in_layout=False)  # fmt: skip
    cmap = ListedColormap(list(COLORS.values()))
    ax.pcolormesh(colors, cmap=cmap, vmin=-0.5, vmax=len(COLORS) - 0.5, edgecolors="lightgrey")
    ax.set_facecolor("#f2f2f2")  # cells with no folder or an unknown outcome
    ax.set_aspect("equal")
    ax.set_xticks(np.arange(len(grid.col_values)) + 0.5, tick_labels(grid.col_values, grid.cols))
    ax.set_yticks(np.arange(len(grid.row_values)) + 0.5, tick_labels(grid.row_values, grid.rows))
    ax.set_xlabel(_axis_label(grid.cols, grid.col_values), fontsize=9)
    ax.set_ylabel(_axis_label(grid.rows, grid.row_values), fontsize=9)
    ax.tick_params(labelsize=8, length=0)
    if _rotate_ticks(grid):
        ax.tick_params(axis="x", labelrotation=90 if len(grid.col_values) > 16 else 45)
    draw_theory(ax, grid, panel)


def cell_text(spot: Spot | None, codes: dict[str, tuple[str, int]]) -> str:
    """'0.97' or 'NaN@57' (or 'error'), then the seeds' share and the cause code."""
    if spot is None:
        return NO_CELL
    head, value = outcome_text(spot)
    first = value or head  # an accuracy says enough: the colour gives the outcome
    code = codes.get(str(spot.majority("cause")), ("", 0))[0]
    second = " ".join(p for p in (seed_share(spot), code) if p)
    return f"{first}\n{second}" if second else first


def ink(spot: Spot | None) -> str:
    """The colour of a cell's text and seeds-disagree mark."""
    return "white" if spot is not None and spot.outcome in DARK else "black"


def _rotate_ticks(grid: Layout) -> bool:
    """Slant the column labels when they would not fit under their squares side by side."""
    longest = max(len(label) for label in tick_labels(grid.col_values, grid.cols))
    return longest > 5 and len(grid.col_values) > 2


def _axis_label(key: str | None, values: list[Value]) -> str:
    """The key, marked as log scale when its values are positive numbers spanning > 10x."""
    if key is None:
        return ""
    numbers = [v for v in values if isinstance(v, (int, float))]
    spans = len(numbers) == len(values) and min(numbers) > 0 and max(numbers) > 10 * min(numbers)
    return f"{key} (log scale)" if spans else key
