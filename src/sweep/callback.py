"""Hydra callback: a progress bar while a sweep runs, its summary and phase map at the end."""

from __future__ import annotations

import atexit
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from hydra.utils import get_class
from omegaconf import DictConfig

from src.sweep.progress import SweepProgress, count_cells
from src.sweep.summary import PHASE_MAP_PNG, write_summary


class SweepSummary(Callback):
    """Writes summary.csv, phase_map.md and phase_map.png into the sweep folder."""

    def __init__(self, rows: str | None = None, cols: str | None = None) -> None:
        self.rows, self.cols = rows, cols
        self.progress: SweepProgress | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Hydra ships the callbacks to every worker; the progress thread stays in the parent.
        return {**self.__dict__, "progress": None}

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        total = count_cells(config)
        print(f"sweep of {total} cells into {sweep_dir}")
        self.progress = SweepProgress(sweep_dir, total)
        self.progress.start()
        # Hydra skips on_multirun_end when the sweep is interrupted (Ctrl-C): summarize on exit.
        atexit.register(self.on_multirun_end, config)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        atexit.unregister(self.on_multirun_end)
        if self.progress is not None:
            self.progress.stop()
        sweep_dir = Path(config.hydra.sweep.dir)
        if not any(sweep_dir.glob("*/.hydra/overrides.yaml")):
            return  # stopped before its first cell (a bad override): Hydra said why, no summary
        print(write_summary(sweep_dir, self.rows, self.cols))
        log_phase_map(config, sweep_dir / PHASE_MAP_PNG)
        for name in ("summary.csv", "phase_map.md", "phase_map.png"):
            print(f"wrote {sweep_dir / name}")


def log_phase_map(config: DictConfig, png: Path) -> None:
    """Hand the phase map to the configured logger class (TensorBoard shows it; none skips)."""
    node = config.get("logger")
    if isinstance(node, DictConfig) and "_target_" in node:
        get_class(node._target_).log_phase_map(png)
