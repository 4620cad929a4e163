"""Where each cell goes in the phase map: rows key, columns key, one panel per other combination."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from src.errors import ConfigError
from src.sweep.collect import Cell, Sweep, Value

DEFAULT_ROWS = "trainer.batch_size"
DEFAULT_COLS = "optimizer.lr"


@dataclass(frozen=True)
class Panel:
    """One table/subplot: the other swept keys' values and the cell at each (row, col) value."""

    title: str  # 'activation=relu, loss=mse', or '' when only two keys are swept
    cells: dict[tuple[Value, Value], Cell]


@dataclass(frozen=True)
class Layout:
    """Rows and columns keys (None: a single row/column), their sorted values, and the panels."""

    rows: str | None
    cols: str | None
    row_values: list[Value]
    col_values: list[Value]
    panels: list[Panel]


def sort_key(value: Value) -> tuple[int, float, str]:
    """Numbers by size, then strings alphabetically, then 'not set'."""
    if isinstance(value, (int, float)):
        return (0, float(value), "")
    return (1, 0.0, value) if isinstance(value, str) else (2, 0.0, "")


def sorted_values(values: Iterable[Value]) -> list[Value]:
    return sorted(set(values), key=sort_key)


def format_value(value: Value) -> str:
    """0.0001 -> '0.0001', 1e-05 -> '1e-05', 16 -> '16', None -> '(unset)'."""
    if value is None:
        return "(unset)"
    return f"{value:g}" if isinstance(value, float) else str(value)


def tick_labels(values: list[Value], key: str | None) -> list[str]:
    """Axis labels for `values`; a missing axis (key None) is one unlabelled row or column."""
    return [format_value(value) for value in values] if key else [""]


def assignment(keys: Iterable[str], values: Iterable[Value]) -> str:
    return ", ".join(f"{key}={format_value(value)}" for key, value in zip(keys, values))


def choose_axes(swept: list[str], rows: str | None, cols: str | None) -> tuple[str | None, ...]:
    """(rows, cols): the caller's choice, else batch size × lr, else the first two swept keys.

    Raises:
        ConfigError: `rows` or `cols` is not a swept key, or both name the same key.
    """
    for name, key in (("rows", rows), ("cols", cols)):
        if key is not None and key not in swept:
            listed = ", ".join(swept) or "none (every cell has the same overrides)"
            raise ConfigError(f"{name}={key}: not a swept key; swept keys: {listed}")
    if rows is not None and rows == cols:
        raise ConfigError(f"rows and cols are both {rows}; choose two different swept keys")
    if rows is None and cols is None:
        if {DEFAULT_ROWS, DEFAULT_COLS} <= set(swept):
            return DEFAULT_ROWS, DEFAULT_COLS
        if len(swept) == 1:
            return None, swept[0]  # one swept key reads best as a single row
        return (swept[0], swept[1]) if swept else (None, None)
    if cols is None:
        cols = _pick(swept, DEFAULT_COLS, taken=rows)
    elif rows is None:
        rows = _pick(swept, DEFAULT_ROWS, taken=cols)
    return rows, cols


def _pick(swept: list[str], preferred: str, taken: str | None) -> str | None:
    free = [key for key in swept if key != taken]
    return preferred if preferred in free else next(iter(free), None)


def layout(sweep: Sweep, rows: str | None = None, cols: str | None = None) -> Layout:
    """Place every cell. Raises ConfigError as `choose_axes` does."""
    rows, cols = choose_axes(sweep.swept, rows, cols)
    others = [key for key in sweep.swept if key not in (rows, cols)]

    def at(cell: Cell, key: str | None) -> Value:
        return None if key is None else cell.overrides.get(key)

    combos = sorted(
        {tuple(at(cell, key) for key in others) for cell in sweep.cells},
        key=lambda combo: [sort_key(value) for value in combo],
    )
    panels = []
    for combo in combos:
        placed: dict[tuple[Value, Value], Cell] = {}
        for cell in sweep.cells:
            if tuple(at(cell, key) for key in others) != combo:
                continue
            spot = (at(cell, rows), at(cell, cols))
            if spot not in placed or placed[spot].outcome == "pending":
                placed[spot] = cell  # a rerun's finished cell beats a pending duplicate
        panels.append(Panel(assignment(others, combo), placed))
    row_values = sorted_values(at(cell, rows) for cell in sweep.cells)
    col_values = sorted_values(at(cell, cols) for cell in sweep.cells)
    return Layout(rows, cols, row_values, col_values, panels)
