"""The phase map as Markdown: outcome per (rows value, cols value), one table per panel.

The PNG version lives in `src.sweep.plot`, apart, so that importing this module (as Hydra's
callback does for every run) does not pay matplotlib's import time.
"""

from __future__ import annotations

from collections import Counter

from src.sweep.collect import Cell, Sweep
from src.sweep.layout import Layout, Panel, assignment, format_value, tick_labels

COLORS = {
    "converged": "#2ca02c",
    "learning": "#bcbd22",
    "stalled": "#8da0b8",
    "diverged": "#d62728",
    "error": "#000000",
    "pending": "#ffffff",
}
NO_CELL = "—"  # no folder yet (joblib creates a cell's folder when the cell starts)


def fixed_text(sweep: Sweep) -> str:
    """What every cell shares: the group options, then the other fixed overrides."""
    groups = {g: c for g, c in sweep.choices.items() if g not in sweep.swept and c != "default"}
    others = {k: v for k, v in sweep.fixed.items() if k not in groups}
    parts = [" · ".join(groups.values()), assignment(others, others.values())]
    return ", ".join(p for p in parts if p) or "nothing beyond the defaults"


def cell_label(cell: Cell | None, on_colour: bool = False) -> str:
    """'converged 0.97', 'NaN@57', 'error', 'pending', plus ' (cause)' once a cause is known.

    `on_colour` (the PNG's squares, whose colour already says the outcome): '0.97', and the
    cause on lines of its own, broken at its first underscore.
    """
    if cell is None:
        return NO_CELL
    accuracy, step = cell.metric("test_accuracy"), cell.metric("first_nonfinite_step")
    if cell.outcome == "diverged" and step is not None:
        text = f"NaN@{step}"
    elif accuracy is None or cell.outcome in ("error", "pending"):
        text = cell.outcome
    else:
        text = f"{accuracy:.2f}" if on_colour else f"{cell.outcome} {accuracy:.2f}"
    cause = cell.metric("cause")
    if cause and on_colour:
        return text + "\n" + str(cause).replace("_", "\n", 1)
    return f"{text} ({cause})" if cause else text


def markdown(sweep: Sweep, grid: Layout) -> str:
    """A header naming the fixed overrides and the tally, then one table per panel."""
    tally = Counter(cell.outcome for cell in sweep.cells)
    counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(tally.items(), key=_by_outcome))
    cells = f"{len(sweep.cells)} cell{'s' * (len(sweep.cells) != 1)}"
    lines = [f"## Phase map — fixed: {fixed_text(sweep)}", f"{cells}: {counts}"]
    for panel in grid.panels:
        lines += [""] + ([f"### {panel.title}", ""] if panel.title else [])
        lines += _table(grid, panel)
    return "\n".join(lines) + "\n"


def _by_outcome(item: tuple[str, int]) -> int:
    order = list(COLORS)
    return order.index(item[0]) if item[0] in order else len(order)


def _table(grid: Layout, panel: Panel) -> list[str]:
    corner = " \\ ".join(key for key in (grid.rows, grid.cols) if key)
    header = [corner, *tick_labels(grid.col_values, grid.cols)]
    lines = [_md_row(header), _md_row(["---"] * len(header))]
    for row in grid.row_values:
        labels = [cell_label(panel.cells.get((row, col))) for col in grid.col_values]
        lines.append(_md_row([format_value(row) if grid.rows else "", *labels]))
    return lines


def _md_row(items: list[str]) -> str:
    return "| " + " | ".join(item.replace("|", "\\|") for item in items) + " |"
