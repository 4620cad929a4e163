"""Where each cell goes in the phase map: rows key, columns key, one panel per other combination."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from src.errors import ConfigError
from src.sweep.collect import Cell, Sweep, Value

DEFAULT_ROWS = "trainer.batch_size"
DEFAULT_COLS = "optimizer.lr"
SEED = "trainer.seed"  # when swept (and not an axis), one map cell holds one run per seed


@dataclass(frozen=True)
class Spot:
    """The runs at one place of the map: one, or one per seed when `trainer.seed` is swept."""

    runs: tuple[Cell, ...]  # sorted by seed

    @cached_property  # asked for ~50 times per spot by the tables and the PNG
    def outcome(self) -> str:
        """The majority outcome; a tie goes to the lowest seed's outcome."""
        return Counter(run.outcome for run in self.runs).most_common(1)[0][0]

    @property
    def agree(self) -> int:
        """How many runs have the majority outcome."""
        return sum(run.outcome == self.outcome for run in self.runs)

    @property
    def disagree(self) -> bool:
        return self.agree < len(self.runs)

    def mean(self, key: str) -> float | None:
        """Mean of a numeric metric over the runs that have it (None when none has it)."""
        values = [v for v in (run.metric(key) for run in self.runs) if _is_number(v)]
        return statistics.fmean(values) if values else None

    def majority(self, key: str) -> Any:
        """The most common value of `key` among the runs with the majority outcome."""
        values = [run.metric(key) for run in self.runs if run.outcome == self.outcome]
        present = [v for v in values if v is not None]
        return Counter(present).most_common(1)[0][0] if present else None

    def first(self, key: str) -> Any:
        """The smallest value of `key` among the majority runs, e.g. the earliest NaN step."""
        values = [run.metric(key) for run in self.runs if run.outcome == self.outcome]
        return min((v for v in values if _is_number(v)), default=None)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class Panel:
    """One table/subplot: the other swept keys' values and the cell at each (row, col) value."""

    title: str  # 'activation=relu, loss=mse', or '' when only two keys are swept
    cells: dict[tuple[Value, Value], Spot]
    values: tuple[Value, ...] = ()  # the other swept keys' values, in `Layout.panel_keys` order


@dataclass(frozen=True)
class Layout:
    """Rows and columns keys (None: a single row/column), their sorted values, and the panels."""

    rows: str | None
    cols: str | None
    row_values: list[Value]
    col_values: list[Value]
    panels: list[Panel]
    seeds: int = 1  # runs per map cell: the number of swept seeds, 1 when seeds are not swept
    panel_keys: tuple[str, ...] = ()  # the swept keys that are neither axes nor the seed


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
    """(rows, cols): the caller's choice, else batch size × lr, else the first two swept keys;
    `trainer.seed` only when the caller asks or nothing else is swept (else it folds into cells).

    Raises:
        ConfigError: `rows` or `cols` is not a swept key, or both name the same key.
    """
    for name, key in (("rows", rows), ("cols", cols)):
        if key is not None and key not in swept:
            listed = ", ".join(swept) or "none (every cell has the same overrides)"
            raise ConfigError(f"{name}={key}: not a swept key; swept keys: {listed}")
    if rows is not None and rows == cols:
        raise ConfigError(f"rows and cols are both {rows}; choose two different swept keys")
    axes = [key for key in swept if key != SEED] or swept
    if rows is None and cols is None:
        if {DEFAULT_ROWS, DEFAULT_COLS} <= set(axes):
            return DEFAULT_ROWS, DEFAULT_COLS
        if len(axes) == 1:
            return None, axes[0]  # one swept key reads best as a single row
        return (axes[0], axes[1]) if axes else (None, None)
    if cols is None:
        cols = _pick(axes, DEFAULT_COLS, taken=rows)
    elif rows is None:
        rows = _pick(axes, DEFAULT_ROWS, taken=cols)
    return rows, cols


def _pick(swept: list[str], preferred: str, taken: str | None) -> str | None:
    free = [key for key in swept if key != taken]
    return preferred if preferred in free else next(iter(free), None)


def layout(sweep: Sweep, rows: str | None = None, cols: str | None = None) -> Layout:
    """Place every cell. Raises ConfigError as `choose_axes` does."""
    rows, cols = choose_axes(sweep.swept, rows, cols)
    stacked = SEED if SEED in sweep.swept and SEED not in (rows, cols) else None
    others = [key for key in sweep.swept if key not in (rows, cols, stacked)]

    def at(cell: Cell, keys: Iterable[str | None]) -> tuple[Value, ...]:
        return tuple(None if key is None else cell.overrides.get(key) for key in keys)

    combos = sorted(
        {at(cell, others) for cell in sweep.cells},
        key=lambda combo: [sort_key(value) for value in combo],
    )
    panels = []
    for combo in combos:
        runs: dict[tuple[Value, ...], Cell] = {}
        for cell in sweep.cells:
            place = at(cell, (rows, cols, stacked))
            if at(cell, others) != combo:
                continue
            if place not in runs or runs[place].outcome == "pending":
                runs[place] = cell  # a rerun's finished cell beats a pending duplicate
        panels.append(Panel(assignment(others, combo), _spots(runs), combo))
    row_values = sorted_values(at(cell, [rows])[0] for cell in sweep.cells)
    col_values = sorted_values(at(cell, [cols])[0] for cell in sweep.cells)
    seeds = len({at(cell, [stacked]) for cell in sweep.cells})
    return Layout(rows, cols, row_values, col_values, panels, seeds, tuple(others))


def _spots(runs: dict[tuple[Value, ...], Cell]) -> dict[tuple[Value, Value], Spot]:
    """Group the runs by (row, col) value, each group sorted by seed."""
    grouped: dict[tuple[Value, Value], list[tuple[Value, Cell]]] = {}
    for (row, col, seed), cell in runs.items():
        grouped.setdefault((row, col), []).append((seed, cell))
    return {
        spot: Spot(tuple(cell for _, cell in sorted(group, key=lambda sc: sort_key(sc[0]))))
        for spot, group in grouped.items()
    }
