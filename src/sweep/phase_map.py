"""The phase map as Markdown: outcome per (rows value, cols value), one table per panel.

The PNG version lives in `src.sweep.plot`, apart, so that importing this module (as Hydra's
callback does for every run) does not pay matplotlib's import time.
"""

from __future__ import annotations

from collections import Counter

import yaml

from src.results import OVERRIDES
from src.sweep.collect import Sweep
from src.sweep.layout import SEED, Layout, Panel, Spot, assignment, format_value, tick_labels

# Okabe & Ito's colour-blind-safe bluish green, yellow and vermillion, with a grey-blue: every
# pair stays apart for readers with protanopia, deuteranopia or tritanopia (the usual green and
# red of "trains" and "blows up" look alike to about one man in twelve; see
# tests/sweep/test_palette.py).
COLORS = {
    "converged": "#009e73",
    "learning": "#f0e442",
    "stalled": "#8da0b8",
    "diverged": "#d55e00",
    "error": "#000000",
    "pending": "#ffffff",
}
NO_CELL = "—"  # no folder yet (joblib creates a cell's folder when the cell starts)
DISAGREE = "*"  # after the share of a cell whose seeds reached different outcomes


def fixed_text(sweep: Sweep) -> str:
    """What every cell shares: the group options, then the other fixed overrides."""
    groups = {g: c for g, c in sweep.choices.items() if g not in sweep.swept and c != "default"}
    others = {k: v for k, v in sweep.fixed.items() if k not in groups}
    parts = [" · ".join(groups.values()), assignment(others, others.values())]
    return ", ".join(p for p in parts if p) or "nothing beyond the defaults"


def title(sweep: Sweep, grid: Layout) -> str:
    """What the map shows: the named sweep (if any), its axes, seeds, and what is fixed."""
    axes = " × ".join(key for key in (grid.rows, grid.cols) if key) or "one cell"
    name = sweep_name(sweep)
    seeds = f", {grid.seeds} seeds per cell" if grid.seeds > 1 else ""
    head = f"sweep={name}: {axes}" if name else axes
    return f"{head}{seeds} — fixed: {fixed_text(sweep)}"


def sweep_name(sweep: Sweep) -> str | None:
    """The named sweep (`sweep=bs_lr` on the command line), from the first cell's overrides."""
    try:
        lines = yaml.safe_load((sweep.cells[0].folder / OVERRIDES).read_text()) or []
    except (OSError, yaml.YAMLError):
        return None
    pairs = [str(line).lstrip("+").partition("=") for line in lines]
    return next((value for key, _, value in pairs if key == "sweep"), None)


def cell_label(spot: Spot | None) -> str:
    """'converged 0.97', 'NaN@57', 'error', 'pending', plus ' (cause)' once a cause is known.

    With several seeds: the majority outcome, its share and the mean accuracy, e.g.
    'converged 2/3* 0.95' (`*`: the seeds disagree).
    """
    if spot is None:
        return NO_CELL
    head, value = outcome_text(spot)
    text = " ".join(part for part in (head, seed_share(spot), value) if part)
    cause = spot.majority("cause")
    return f"{text} ({cause})" if cause else text


def outcome_text(spot: Spot) -> tuple[str, str]:
    """(outcome or 'NaN@step', accuracy text or ''): the two parts every label shows."""
    step, accuracy = spot.first("first_nonfinite_step"), spot.mean("test_accuracy")
    if spot.outcome == "diverged" and step is not None:
        return f"NaN@{step}", ""
    if accuracy is None or spot.outcome in ("error", "pending"):
        return spot.outcome, ""
    return spot.outcome, f"{accuracy:.2f}"


def seed_share(spot: Spot) -> str:
    """'2/3*' (majority share, marked when seeds disagree); '' for a single run."""
    if len(spot.runs) == 1:
        return ""
    return f"{spot.agree}/{len(spot.runs)}" + (DISAGREE if spot.disagree else "")


def markdown(sweep: Sweep, grid: Layout) -> str:
    """A header naming the fixed overrides and the tally, then one table per panel."""
    tally = Counter(cell.outcome for cell in sweep.cells)
    counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(tally.items(), key=_by_outcome))
    noun = "run" if grid.seeds > 1 else "cell"
    cells = f"{len(sweep.cells)} {noun}{'s' * (len(sweep.cells) != 1)}"
    lines = [f"## Phase map — fixed: {fixed_text(sweep)}", f"{cells}: {counts}"]
    if grid.seeds > 1:
        lines[-1] += (
            f"; each map cell: {grid.seeds} seeds ({SEED}), majority outcome with its share, "
            f"mean accuracy, {DISAGREE} where the seeds disagree"
        )
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
