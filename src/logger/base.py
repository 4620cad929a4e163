"""The logger contract: hooks the training run calls, all no-ops here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from omegaconf import DictConfig

from src.arrays import Array
from src.model.sequential import Sequential
from src.trainer import History, Loss


@dataclass(frozen=True)
class RunFacts:
    """What a logger watches, known only once the run is built."""

    model: Sequential
    loss: Loss
    lr: float  # the optimizer's learning rate, for the update ratios
    data: tuple[Array, Array, Array, Array]  # x_train, y_train, x_test, y_test as trained on
    config: DictConfig  # the composed config, for the HParams session


class Logger:
    """Hooks called by `train`; the writer (if any) is released by `close` or `with`."""

    def __init__(self, log_dir: Path, run: RunFacts) -> None:
        self.log_dir, self.run = Path(log_dir), run

    def on_step(self, step: int, loss: float) -> None:
        """After each completed update; `loss` is that batch's loss. Called in the hot loop."""

    def on_epoch(self, epoch: int, history: History) -> None:
        """After each completed epoch (never after the one that diverged)."""

    def finish(self, metrics: dict[str, Any]) -> None:
        """Once, with the run's final metrics (`metrics.json`), before `close`."""

    def close(self) -> None:
        """Release the writer; safe to call twice."""

    @classmethod
    def log_phase_map(cls, png: Path) -> None:
        """Show a finished sweep's phase map (a PNG in the sweep folder) beside its runs."""

    def __enter__(self) -> Logger:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        err: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
