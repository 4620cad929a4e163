"""sharpness.csv: per batch size (and seed, and any other swept key but the learning rate) the
predicted edge 2/λ beside the largest trainable learning rate the grid measured.

λ comes from the cells' `sharpness_init` metric (measured once per network, seed and batch size
by `src.theory.run`), so writing the table recomputes nothing.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from pathlib import Path

from src.results import write_text_atomic
from src.sweep.collect import Cell, Sweep
from src.sweep.layout import sort_key

SHARPNESS_CSV = "sharpness.csv"
LR = "optimizer.lr"
TRAINABLE, FAILED = {"converged", "learning"}, {"stalled", "diverged"}
COLUMNS = ("sharpness", "two_over_sharpness", "measured_max_lr", "measured_over_predicted",
           "noise_scale_init")  # fmt: skip


def measured_max_lr(cells: list[Cell]) -> float | None:
    """Largest lr that trains (converged/learning) while the next larger lr in the grid stalls
    or diverges; None when the grid shows no such transition."""
    ordered = sorted(cells, key=lambda c: sort_key(c.overrides.get(LR)))
    edges = [
        low.overrides[LR]
        for low, high in zip(ordered, ordered[1:])
        if low.outcome in TRAINABLE and high.outcome in FAILED
    ]
    return float(edges[-1]) if edges else None


def rows(sweep: Sweep) -> tuple[list[str], list[list]]:
    """(group keys, one row per group of cells that differ only in lr) for the table."""
    keys = [k for k in sweep.swept if k != LR]
    groups: dict[tuple, list[Cell]] = {}
    for cell in sweep.cells:
        groups.setdefault(tuple(cell.overrides.get(k) for k in keys), []).append(cell)
    table = []
    for values in sorted(groups, key=lambda combo: [sort_key(v) for v in combo]):
        cells = groups[values]
        lam = median_metric(cells, "sharpness_init")
        predicted = 2.0 / lam if lam and lam > 0 else None
        measured = measured_max_lr(cells)
        ratio = measured / predicted if measured and predicted else None
        table.append(
            [*values, lam, predicted, measured, ratio, median_metric(cells, "noise_scale_init")]
        )
    return keys, table


def write_sharpness_csv(sweep: Sweep) -> Path | None:
    """Write sharpness.csv into the sweep folder; None (nothing written) when no cell has λ."""
    if not any(isinstance(c.metric("sharpness_init"), (int, float)) for c in sweep.cells):
        return None
    keys, table = rows(sweep)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*keys, *COLUMNS])
    writer.writerows(table)
    path = sweep.folder / SHARPNESS_CSV
    write_text_atomic(path, buffer.getvalue())
    return path


def median_metric(cells: list[Cell], key: str) -> float | None:
    """Median of a numeric metric over the cells that have a finite value; None if none do."""
    values = [v for c in cells if isinstance(v := c.metric(key), (int, float)) and math.isfinite(v)]
    return statistics.median(values) if values else None
