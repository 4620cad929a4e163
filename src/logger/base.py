"""The logger contract: hooks the training run calls, all no-ops here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from omegaconf import DictConfig

from src.arrays import Array
from src.probe import Probe
from src.trainer import History


@dataclass(frozen=True)
class RunFacts:
    """What a logger records about its run beyond what it is handed per call."""

    # The composed config, for the HParams session; a stack hands its plain data (read once).
    config: DictConfig | Mapping[str, Any]


class Logger:
    """Hooks called for one run of a stack; the writer (if any) is released by `close` or `with`.

    The stack measures, the logger only writes: `state` is this run's share of the one probe
    per epoch (`src.probe`), taken only when `measures` is set.
    """

    measures = False  # wants the probe state in on_epoch and finish
    log_every = 0  # the loss of every this many updates goes to on_steps; 0: none

    def __init__(self, log_dir: Path, run: RunFacts) -> None:
        self.log_dir, self.run = Path(log_dir), run

    def on_steps(self, steps: list[int], losses: Array) -> None:
        """The batch loss of every `log_every`-th update: `losses[i]` after `steps[i]` updates.
        Calls come in bursts (the stack buffers them), in step order."""

    def on_epoch(self, epoch: int, history: History, state: Probe | None) -> None:
        """After each completed epoch (never after the one that diverged)."""

    def finish(self, metrics: dict[str, Any], state: Probe | None) -> None:
        """Once, with the run's final metrics (`metrics.json`), before `close`; `state` is the
        probe of the state the run diverged in, when it diverged after its last epoch."""

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
