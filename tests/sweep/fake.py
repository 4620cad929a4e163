"""Fake sweep folders, laid out as Hydra's multirun and our cell runner write them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BASE = {"chance": 0.1, "predicted_class_share": 0.2, "steps": 100, "wall_seconds": 1.5}
# (batch size, lr as written on the command line) -> what the cell recorded; None = pending.
GRID: dict[tuple[str, str], dict[str, Any] | None] = {
    ("16", "1e-3"): {"outcome": "learning", "test_accuracy": 0.634},
    ("16", "0.01"): {"outcome": "converged", "test_accuracy": 0.971},
    ("16", "1"): {"outcome": "diverged", "test_accuracy": None, "first_nonfinite_step": 57},
    ("4", "1e-3"): {"outcome": "stalled", "test_accuracy": 0.118},
    ("4", "0.01"): {"outcome": "error", "test_accuracy": None, "error": "boom: out of memory"},
    ("4", "1"): None,
}


def make_cell(sweep_dir: Path, overrides: list[str], metrics: dict[str, Any] | None) -> Path:
    """A cell folder named like Hydra's override_dirname, with metrics.json once finished."""
    folder = sweep_dir / ",".join(sorted(o.lstrip("+") for o in overrides))
    (folder / ".hydra").mkdir(parents=True)
    (folder / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    if metrics is not None:
        full = {**BASE, "first_nonfinite_step": None, **metrics}
        (folder / "metrics.json").write_text(json.dumps(full))
    return folder


def make_grid(sweep_dir: Path, *extra: str) -> Path:
    """The 2x3 batch size x lr grid above, plus the noise a real sweep folder holds."""
    for (batch, lr), metrics in GRID.items():
        overrides = [f"trainer.batch_size={batch}", f"optimizer.lr={lr}", "activation=sigmoid"]
        make_cell(sweep_dir, [*overrides, "+sweep=bs_lr", *extra], metrics)
    (sweep_dir / "multirun.yaml").write_text("hydra: {}\n")
    (sweep_dir / "logs").mkdir(exist_ok=True)
    return sweep_dir
