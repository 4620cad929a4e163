"""A progress bar for a running sweep, fed by the cells' metrics.json files.

The joblib launcher blocks the parent process until every cell is done and returns nothing
per cell, so the parent watches the sweep folder from a thread instead.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig
from tqdm import tqdm

from src.results import METRICS, read_metrics

POLL_SECONDS = 0.5


def count_cells(config: DictConfig) -> int:
    """Number of cells: the product of the sweep lengths of every override (CLI wins)."""
    params = config.hydra.sweeper.get("params") or {}
    texts = [f"{key}={value}" for key, value in params.items()]
    texts += list(config.hydra.overrides.task)
    lengths = {}
    for override in OverridesParser.create().parse_overrides(texts):
        sweep = override.is_sweep_override()
        lengths[override.key_or_group] = len(list(override.sweep_iterator())) if sweep else 1
    return math.prod(lengths.values())


class SweepProgress:
    """tqdm bar over the cells of `sweep_dir`, with the tally of outcomes so far."""

    def __init__(self, sweep_dir: Path, total: int, announce: str = "") -> None:
        self.sweep_dir, self.total, self.announce = sweep_dir, total, announce
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join()

    def _watch(self) -> None:
        # Not before the folder exists: a sweep that refuses its input prints only the error.
        while not self.sweep_dir.is_dir():
            if self.stop_event.wait(POLL_SECONDS):
                return
        if self.announce:
            print(self.announce)
        with tqdm(total=self.total, desc="cells", unit="cell", dynamic_ncols=True) as bar:
            while True:
                finished = self.stop_event.wait(POLL_SECONDS)
                tally = self._tally()
                bar.n = min(sum(tally.values()), self.total)
                bar.set_postfix(dict(sorted(tally.items())), refresh=True)
                if finished:
                    return

    def _tally(self) -> Counter:
        metrics = (read_metrics(path.parent) for path in self.sweep_dir.glob(f"*/{METRICS}"))
        return Counter(m["outcome"] for m in metrics if m is not None)
