"""Hydra callback: a progress bar while a sweep runs, its summary and phase map at the end."""

from __future__ import annotations

import atexit
import importlib
import logging
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hydra.experimental.callback import Callback
from hydra.utils import get_class
from omegaconf import DictConfig

from src.results import OVERRIDES

if TYPE_CHECKING:
    from src.sweep.progress import SweepProgress

# Libraries whose INFO records Hydra's console handler would print in the sweep's parent, e.g.
# matplotlib's "generated new fontManager" on its first import on a machine.
CHATTY = ("matplotlib", "PIL")
# What the summary imports, loaded while the cells run: the parent only waits for them then,
# and matplotlib alone takes ~1 s to import, which a short sweep would otherwise add at its end.
# Not before the first cell has started: until then the parent composes configs (the GIL).
# Hydra also sends this callback to every worker: what only the parent needs is imported there.
SUMMARY_MODULES = ("src.sweep.plot", "src.sweep.summary", "src.edge.report")
POLL_SECONDS = 0.2


class SweepSummary(Callback):
    """Writes summary.csv, summary_cells.csv, phase_map.md and phase_map.png into the sweep."""

    def __init__(self, rows: str | None = None, cols: str | None = None) -> None:
        self.rows, self.cols = rows, cols
        self.progress: SweepProgress | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Hydra ships the callbacks to every worker; the progress thread stays in the parent.
        return {**self.__dict__, "progress": None}

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from src.sweep.fork_server import start_fork_server
        from src.sweep.progress import SweepProgress, count_cells

        start_fork_server(config)  # first: its imports overlap the rest of the start-up
        for name in CHATTY:
            logging.getLogger(name).setLevel(logging.WARNING)
        sweep_dir = Path(config.hydra.sweep.dir)
        budget = config.hydra.sweeper.get("budget")  # an adaptive sweep knows only its budget
        total = budget or count_cells(config)
        what = f"edge search of at most {total} runs" if budget else f"sweep of {total} cells"
        self.progress = SweepProgress(sweep_dir, total, f"{what} into {sweep_dir}")
        self.progress.start()
        modules = [*SUMMARY_MODULES, *_logger_module(config)]
        threading.Thread(target=_import_summary_modules, daemon=True,
                         args=(sweep_dir, self.progress.stop_event, modules)).start()  # fmt: skip
        # Hydra skips on_multirun_end when the sweep is interrupted (Ctrl-C): summarize on exit.
        atexit.register(self.on_multirun_end, config)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from src.edge.report import EDGE_FILES, edge_section
        from src.sweep.summary import OUTPUT_FILES, PHASE_MAP_PNG, write_summary
        from src.theory.edges import SHARPNESS_CSV

        atexit.unregister(self.on_multirun_end)
        _release_workers()
        if self.progress is not None:
            self.progress.stop()
        sweep_dir = Path(config.hydra.sweep.dir)
        if not any(sweep_dir.glob(f"*/{OVERRIDES}")):
            return  # stopped before its first cell (a bad override): Hydra said why, no summary
        text = write_summary(sweep_dir, self.rows, self.cols)
        print(edge_section(sweep_dir) or text)  # an edge search's map is too wide to print
        log_phase_map(config, sweep_dir / PHASE_MAP_PNG)
        for name in OUTPUT_FILES:
            print(f"wrote {sweep_dir / name}")
        for name in (SHARPNESS_CSV, *EDGE_FILES):  # written when the cells had data for them
            if (sweep_dir / name).exists():
                print(f"wrote {sweep_dir / name}")


def _import_summary_modules(sweep_dir: Path, done: threading.Event, modules: list[str]) -> None:
    """Import what the summary needs once a job has made its cell folder (not when the sweep
    is over or never started: `done`)."""
    while not any(path.is_dir() for path in sweep_dir.glob("*")):
        if done.wait(POLL_SECONDS):
            return
    try:
        for name in modules:
            importlib.import_module(name)
    except Exception:  # noqa: BLE001 -- the summary imports it again and reports the error
        return


def _logger_module(config: DictConfig) -> list[str]:
    """The module of the logger class that `log_phase_map` hands the map to."""
    node = config.get("logger")
    if isinstance(node, DictConfig) and isinstance(node.get("_target_"), str):
        return [node._target_.rsplit(".", 1)[0]]
    return []


def _release_workers() -> None:
    """Let the joblib launcher's idle workers exit while the summary is written, instead of
    after it: each takes ~0.2 s to shut down, which the parent waits for at exit. A later
    launch in this process starts new ones."""
    loky = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(loky, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=False)


def log_phase_map(config: DictConfig, png: Path) -> None:
    """Hand the phase map to the configured logger class (TensorBoard shows it; none skips)."""
    node = config.get("logger")
    if isinstance(node, DictConfig) and "_target_" in node:
        get_class(node._target_).log_phase_map(png)
