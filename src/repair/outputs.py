"""What a repair writes: repair.csv (one row per failed run) and the map after repair."""

from __future__ import annotations

import csv
import io
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from src.repair.attempts import Repair
from src.results import write_text_atomic
from src.sweep.collect import Cell, Sweep
from src.sweep.layout import layout

REPAIR_CSV, REPAIRED_MAP = "repair.csv", "repaired_map.png"
COLUMNS = (
    "cell", "outcome", "cause", "attempts", "overrides", "outcomes", "final_outcome",
    "final_test_accuracy", "final_run", "stopped",
)  # fmt: skip


def row(repair: Repair, home: Path) -> dict[str, Any]:
    """A repair as one CSV row; `overrides` and `outcomes` list the attempts, ' | ' between;
    `final_run` is the folder of the last attempt (or the original), relative to `home`."""
    first, last = repair.metrics(repair.origin), repair.metrics()
    return {
        "cell": repair.origin.name,
        "outcome": first.get("outcome"),
        "cause": first.get("cause"),
        "attempts": len(repair.folders),
        "overrides": " | ".join(repair.applied),
        "outcomes": " | ".join(repair.outcomes()),
        "final_outcome": last.get("outcome"),
        "final_test_accuracy": last.get("test_accuracy"),
        "final_run": os.path.relpath(repair.latest, home),
        "stopped": repair.stop,
    }


def write_csv(path: Path, repairs: list[Repair]) -> None:
    """Write `path`, keeping the rows of other runs an earlier repair wrote there."""
    rows = {r["cell"]: r for r in _read_rows(path)}
    rows.update((r["cell"], r) for r in (row(repair, path.parent) for repair in repairs))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows[cell] for cell in sorted(rows))
    write_text_atomic(path, buffer.getvalue())


def _read_rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def repaired_sweep(sweep: Sweep, repairs: list[Repair]) -> Sweep:
    """The sweep with each failed cell's outcome after repair; its label says how it ended."""
    by_origin = {repair.origin: repair for repair in repairs}
    cells = []
    for cell in sweep.cells:
        repair = by_origin.get(cell.folder)
        if repair is None:
            cells.append(cell)
            continue
        metrics = dict(repair.metrics())
        if metrics.get("outcome") == "converged":
            metrics["cause"] = f"fixed_in {len(repair.folders)}"
        else:  # marked: the cause that remains, or why nothing was tried
            metrics["cause"] = f"still_{metrics.get('cause') or 'failed'}"
        cells.append(Cell(cell.folder, cell.overrides, metrics))
    return replace(sweep, cells=cells)


def write_map(sweep: Sweep, repairs: list[Repair]) -> Path:
    """repaired_map.png beside phase_map.png: the same layout, outcomes after repair."""
    from src.sweep import plot  # matplotlib: imported only when a map is drawn

    repaired = repaired_sweep(sweep, repairs)
    path = sweep.folder / REPAIRED_MAP
    grid = layout(repaired, *map_axes(sweep.folder))
    plot.write_png(path, repaired, grid, what="Phase map after repair")
    return path


def map_axes(sweep_dir: Path) -> tuple[str | None, str | None]:
    """The rows and cols the sweep's own phase map was drawn with (its callback's settings)."""
    try:
        hydra_cfg = yaml.safe_load((sweep_dir / "multirun.yaml").read_text())["hydra"]
        node = hydra_cfg["callbacks"]["sweep_summary"]
        return node.get("rows"), node.get("cols")
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError):
        return None, None  # a sweep written by hand or by an older version: the default axes
