"""summary.csv (one row per run), summary_cells.csv (one row per map cell, its seeds aggregated)
and `write_summary`, which writes them with the phase map."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from src.edge.report import edge_section
from src.results import write_text_atomic
from src.sweep import phase_map
from src.sweep.collect import Sweep, collect
from src.sweep.layout import Layout, layout, sort_key
from src.theory.edges import write_sharpness_csv

SUMMARY, SUMMARY_CELLS = "summary.csv", "summary_cells.csv"
PHASE_MAP_MD, PHASE_MAP_PNG = "phase_map.md", "phase_map.png"
OUTPUT_FILES = (SUMMARY, SUMMARY_CELLS, PHASE_MAP_MD, PHASE_MAP_PNG)
METRIC_COLUMNS = (
    "outcome", "test_accuracy", "first_nonfinite_step", "chance", "predicted_class_share",
    "wall_seconds", "cause", "error",
)  # fmt: skip


def write_summary(sweep_dir: Path, rows: str | None = None, cols: str | None = None) -> str:
    """Write the summaries, phase_map.md and phase_map.png into `sweep_dir`; return the Markdown.

    Usable while the sweep runs or after it was interrupted: unfinished cells are `pending`.

    Raises:
        DataError: `sweep_dir` does not exist or holds no cell folders.
        ConfigError: `rows` or `cols` is not a swept key.
    """
    sweep_dir = Path(sweep_dir)
    sweep = collect(sweep_dir)
    grid = layout(sweep, rows, cols)  # before writing anything: a bad key leaves no files
    text = phase_map.markdown(sweep, grid) + edge_section(sweep_dir)
    write_text_atomic(sweep_dir / SUMMARY, summary_csv(sweep))
    write_text_atomic(sweep_dir / SUMMARY_CELLS, cells_csv(grid))
    write_text_atomic(sweep_dir / PHASE_MAP_MD, text)
    write_sharpness_csv(sweep)
    # Imported here: matplotlib takes ~1 s to import, and Hydra imports this module for every run.
    from src.sweep import plot

    plot.write_png(sweep_dir / PHASE_MAP_PNG, sweep, grid)
    return text


def summary_csv(sweep: Sweep) -> str:
    """CSV text: override columns (swept first), then outcome and metrics; sorted numerically."""
    keys = sweep.swept + list(sweep.fixed)
    cells = sorted(
        sweep.cells,
        key=lambda cell: ([sort_key(cell.overrides.get(k)) for k in sweep.swept], cell.folder),
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*keys, *METRIC_COLUMNS])
    for cell in cells:
        metrics = {column: cell.metric(column) for column in METRIC_COLUMNS}
        metrics["outcome"] = cell.outcome
        row = [cell.overrides.get(key) for key in keys] + [metrics[c] for c in METRIC_COLUMNS]
        writer.writerow(row)  # None becomes an empty field, floats keep full precision
    return buffer.getvalue()


CELL_COLUMNS = (
    "runs", "outcome", "agree", "seeds_disagree", "mean_test_accuracy", "min_test_accuracy",
    "max_test_accuracy", "first_nonfinite_step", "cause",
)  # fmt: skip


def cells_csv(grid: Layout) -> str:
    """CSV text, one row per map cell: its panel's keys, row and column values, then its runs
    aggregated (majority outcome, how many runs agree with it, accuracy mean/min/max over the
    runs that have one, earliest non-finite step and most common cause of the majority)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    axes = [key for key in (grid.rows, grid.cols) if key]
    writer.writerow([*grid.panel_keys, *axes, *CELL_COLUMNS])
    for panel in grid.panels:
        for (row, col), spot in sorted(
            panel.cells.items(), key=lambda item: [sort_key(v) for v in item[0]]
        ):
            place = [v for key, v in ((grid.rows, row), (grid.cols, col)) if key]
            accuracies = [r.metric("test_accuracy") for r in spot.runs]
            accuracies = [a for a in accuracies if a is not None]
            writer.writerow([
                *panel.values, *place, len(spot.runs), spot.outcome, spot.agree, spot.disagree,
                spot.mean("test_accuracy"), min(accuracies, default=None),
                max(accuracies, default=None), spot.first("first_nonfinite_step"),
                spot.majority("cause"),
            ])  # fmt: skip
    return buffer.getvalue()
