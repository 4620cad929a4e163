"""summary.csv (one row per cell) and `write_summary`, which writes it with the phase map."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from src.results import write_text_atomic
from src.sweep import phase_map
from src.sweep.cells import Sweep, collect
from src.sweep.layout import layout, sort_key
from src.theory.edges import write_sharpness_csv

SUMMARY, PHASE_MAP_MD, PHASE_MAP_PNG = "summary.csv", "phase_map.md", "phase_map.png"
OUTPUT_FILES = (SUMMARY, PHASE_MAP_MD, PHASE_MAP_PNG)
METRIC_COLUMNS = (
    "outcome", "test_accuracy", "first_nonfinite_step", "chance", "predicted_class_share",
    "wall_seconds", "cause", "error",
)  # fmt: skip


def write_summary(sweep_dir: Path, rows: str | None = None, cols: str | None = None) -> str:
    """Write summary.csv, phase_map.md and phase_map.png into `sweep_dir`; return the Markdown.

    Usable while the sweep runs or after it was interrupted: unfinished cells are `pending`.

    Raises:
        DataError: `sweep_dir` does not exist or holds no cell folders.
        ConfigError: `rows` or `cols` is not a swept key.
    """
    sweep_dir = Path(sweep_dir)
    sweep = collect(sweep_dir)
    grid = layout(sweep, rows, cols)  # before writing anything: a bad key leaves no files
    text = phase_map.markdown(sweep, grid)
    write_text_atomic(sweep_dir / SUMMARY, summary_csv(sweep))
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
