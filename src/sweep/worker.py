"""The worker side of a sweep: run one cell so that nothing it does can lose the other cells.

A cell that already holds a complete result is skipped (that is how a re-run resumes); a cell
that raises is recorded with outcome `error` and its traceback, instead of failing the sweep.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omegaconf import DictConfig
from threadpoolctl import threadpool_limits

from src.errors import one_line
from src.results import METRICS, flatten_config, read_metrics, write_json_atomic

log = logging.getLogger(__name__)
TRACEBACK = "traceback.txt"

Train = Callable[[DictConfig, Path], dict[str, Any]]


def run_cell(cfg: DictConfig, out_dir: Path, train: Train) -> dict[str, Any]:
    """Train the cell unless it is already done; never raise (except on Ctrl-C)."""
    done = read_metrics(out_dir)
    if done is not None and done.get("outcome") != "error":
        log.info(f"already done ({done['outcome']}): {out_dir}")
        return done
    quiet_console()
    started = time.perf_counter()
    # Parallel cells share the cores: one BLAS thread each, or two cells fight over two cores.
    with threadpool_limits(limits=1):
        try:
            return train(cfg, out_dir)
        except Exception as err:  # a failed cell is a result, not a failed sweep
            return _record_error(cfg, out_dir, err, time.perf_counter() - started)


def _record_error(cfg: DictConfig, out_dir: Path, err: Exception, seconds: float) -> dict:
    (out_dir / TRACEBACK).write_text(traceback.format_exc())
    message = one_line(err)
    log.error(f"cell failed: {message} (traceback in {out_dir / TRACEBACK})")
    metrics = {
        "outcome": "error",
        "error": message,
        "test_accuracy": None,
        "first_nonfinite_step": None,
        "wall_seconds": seconds,
        **flatten_config(cfg),
    }
    write_json_atomic(out_dir / METRICS, metrics)
    return metrics


def quiet_console() -> None:
    """Keep per-epoch lines in the cell's log file, off the shared terminal."""
    for handler in logging.getLogger().handlers:
        if not isinstance(handler, logging.FileHandler):
            handler.setLevel(logging.WARNING)
