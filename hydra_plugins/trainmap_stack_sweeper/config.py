"""`hydra/sweeper=stacked`: BasicSweeper's options, plus the stack size cap."""

from dataclasses import dataclass
from typing import Any

from hydra.core.config_store import ConfigStore


@dataclass
class StackSweeperConf:
    _target_: str = "hydra_plugins.trainmap_stack_sweeper.stack_sweeper.StackSweeper"
    max_batch_size: int | None = None  # jobs (stacks) per launch; None: all in one batch
    params: dict[str, str] | None = None  # the grid, as for hydra/sweeper=basic
    max_stack: int = 64  # runs per stack at most; larger groups split into even stacks
    # Set by the sweeper on each stack job: every run's stackable overrides (or, for a job of
    # several stacks, [job number, run overrides, ...] per stack). Leave unset.
    stack: Any = None


ConfigStore.instance().store(
    group="hydra/sweeper", name="stacked", node=StackSweeperConf, provider="trainmap"
)
