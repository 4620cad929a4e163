"""Print the diagnosis of one finished run: every cause, its evidence and an override to try.

Usage: `python -m src.diagnose <run_dir>`, e.g.
`python -m src.diagnose outputs/runs/2026-11-25/23-42-05-897744` or a sweep cell's folder.
Reads the run's metrics.json (and .hydra/overrides.yaml, to print the full command that
applies each suggestion); trains nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from src.cli import print_error
from src.diagnosis.report import full_report
from src.errors import DataError, TrainmapError
from src.results import METRICS, OVERRIDES


def load(run_dir: Path) -> tuple[dict, list[str] | None]:
    """(metrics, the run's overrides or None). Raises DataError for a folder with no run."""
    path = run_dir / METRICS
    if not path.is_file():
        hint = (
            " (a sweep folder? pass one cell's folder)" if any(run_dir.glob(f"*/{METRICS}")) else ""
        )
        raise DataError(f"{run_dir}: no {METRICS} here; pass a finished run's folder{hint}")
    try:
        metrics = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise DataError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(metrics, dict):
        raise DataError(f"{path}: expected a JSON object")
    overrides = None
    if (run_dir / OVERRIDES).is_file():
        loaded = yaml.safe_load((run_dir / OVERRIDES).read_text())
        overrides = [str(o) for o in loaded] if isinstance(loaded, list) else None
    return metrics, overrides


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m src.diagnose", description=__doc__.split("\n")[0]
    )
    parser.add_argument("run_dir", type=Path, help="a run's folder (holds metrics.json)")
    args = parser.parse_args(argv)
    try:
        metrics, overrides = load(args.run_dir)
    except TrainmapError as err:
        return print_error(err)
    print(full_report(metrics, overrides))
    return 0


if __name__ == "__main__":
    sys.exit(main())
