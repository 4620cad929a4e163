"""`hydra/sweeper=edge`: a coarse lr grid, then rounds of runs only where the outcome changes.

Hydra imports every module under `hydra_plugins` when it looks for plugins, for any app in this
environment, with `exec_module` and without `sys.modules` (so no `from __future__ import
annotations` here: dataclasses then fail). It registers its config; heavy imports wait.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.core.utils import JobReturn
from hydra.errors import HydraException
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)


@dataclass
class EdgeSweeperConf:
    _target_: str = "hydra_plugins.trainmap_edge_sweeper.edge_sweeper.EdgeSweeper"
    lr_key: str = "optimizer.lr"  # the axis refined, in log space
    batch_key: str = "trainer.batch_size"  # the rows of the map and of lr_max(bs)
    seed_key: str = "trainer.seed"  # when swept, the seeds vote on each lr's outcome
    lr_range: list[float] = field(default_factory=lambda: [1e-4, 100.0])
    lr_points: int = 8  # the coarse grid, log-spaced over lr_range (unless lr_key is swept)
    resolution: float = 1.1  # stop when every edge is bracketed to hi/lo <= resolution
    budget: int = 500  # ... or when this many runs are spent (those on disk included)
    # Outcomes are not monotone near the edge: above the highest lr that trains, up to this
    # factor, runs are spaced <= resolution apart to find lrs that train again (1: off).
    probe_above: float = 3.0
    max_batch_size: int | None = None  # split a round into launches of at most this many
    params: dict[str, str] | None = None  # swept keys, as in the basic sweeper
    max_stack: int = 64  # runs trained together as one stack at most (see hydra/sweeper=stacked)
    # Set by the sweeper on each stack job: every run's stackable overrides. Leave unset.
    stack: Any = None


ConfigStore.instance().store(
    group="hydra/sweeper", name="edge", node=EdgeSweeperConf, provider="trainmap"
)


class EdgeSweeper(Sweeper):
    """Brackets every change of outcome along the lr, per batch size, to `resolution`."""

    def __init__(self, max_batch_size: int | None = None, params: dict | None = None,
                 **settings: Any) -> None:  # fmt: skip
        from src.edge.grid import Settings

        self.max_stack = settings.pop("max_stack", 64)
        if settings.pop("stack", None) is not None:
            raise HydraException("hydra.sweeper.stack: set by the sweeper per job; leave it unset")
        self.stackable: frozenset[str] = frozenset()
        settings["lr_range"] = tuple(settings.get("lr_range", Settings.lr_range))
        self.settings = Settings(**settings)
        self.max_batch_size, self.params = max_batch_size, dict(params or {})
        self.config: DictConfig | None = None
        self.launcher: Launcher | None = None
        self.hydra_context: HydraContext | None = None
        self.job_idx, self.rounds = 0, 0
        self.returns: list[Sequence[JobReturn]] = []

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:  # fmt: skip
        from hydra.core.plugins import Plugins

        self.hydra_context, self.config = hydra_context, config
        from hydra_plugins.trainmap_stack_sweeper._stacks import task_stackable_keys

        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )
        subdir = OmegaConf.to_container(config.hydra.sweep, resolve=False).get("subdir")
        self.stackable = task_stackable_keys(task_function, str(subdir))

    def sweep(self, arguments: list[str]) -> list[Sequence[JobReturn]]:
        """Run the coarse grid, refine in rounds, write the edge report; return the batches."""
        from hydra_plugins.trainmap_stack_sweeper._stacks import group_test, jobs_to_compose
        from src.edge.grid import build_grid
        from src.edge.report import write_report
        from src.edge.search import run_search
        from src.errors import ConfigError

        assert self.config is not None
        overrides = [f"{k}={v}" for k, v in self.params.items()] + list(arguments)
        try:
            grid = build_grid(overrides, self.settings)
        except ConfigError as err:  # before any folder exists: one line, exit 2
            raise HydraException(str(err)) from None
        # Compose the jobs that could fail differently (a typo fails here, before any folder).
        jobs = grid.jobs(grid.samples(), done=set())
        self.validate_batch_is_legal(jobs_to_compose(jobs, group_test(self)))
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        done: set = set()

        def read() -> dict:
            state, found = grid.read(sweep_dir)
            done.clear()
            done.update(found)
            return state

        def launch(points: list) -> None:
            self.launch_round(grid.jobs(points, done))

        run_search(read, launch, grid.coarse(), grid.refine(), self.settings.budget,
                   len(grid.seeds))  # fmt: skip
        log.info(write_report(sweep_dir, grid, self.rounds).splitlines()[-1])  # runs and rounds
        return self.returns

    def launch_round(self, batch: list[list[str]]) -> None:
        """Hand one round to the launcher as one batch (or chunks of `max_batch_size`), its
        runs grouped into stacks that train together when the task trains stacks."""
        from hydra_plugins.trainmap_stack_sweeper._stacks import stacked_jobs, worker_count

        assert self.launcher is not None and self.config is not None
        self.rounds += 1
        log.info(f"edge search round {self.rounds}: {len(batch)} runs")
        workers = worker_count(OmegaConf.select(self.config, "hydra.launcher.n_jobs"))
        batch = stacked_jobs(batch, self.stackable, self.max_stack, workers)
        size = self.max_batch_size or len(batch)
        for start in range(0, len(batch), size):
            chunk = batch[start : start + size]
            results = self.launcher.launch(chunk, initial_job_idx=self.job_idx)
            for result in results:
                _ = result.return_value  # re-raises a job's exception, as the basic sweeper does
            self.job_idx += len(chunk)
            self.returns.append(results)
