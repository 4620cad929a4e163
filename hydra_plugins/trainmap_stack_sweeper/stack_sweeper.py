"""StackSweeper: BasicSweeper's grid, launched as stacks of cells that train together.

A task function that declares `stackable_keys` (see `src.sweep.stack_job.runs_stacks`) gets one
job per stack: the overrides of the stack's first cell plus `hydra.sweeper.stack='[[...], ...]'`
(every cell's stackable overrides, as JSON). The job derives the other cells' configs from its
own. With the joblib launcher, whose workers are known, each worker gets one job, and the
jobs share the stacks out as they free up (`_bins`). Any other task function gets one job per
cell, exactly as with BasicSweeper.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.types import Override
from hydra.errors import HydraException
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

from ._bins import JOBLIB, binned_jobs
from ._handover import compose_and_hand_over
from ._stacks import group_test, jobs_to_compose, stacked_jobs, task_stackable_keys, worker_count


class StackSweeper(BasicSweeper):
    """Expands the grid like BasicSweeper; launches stacks (not cells) when the task allows."""

    def __init__(
        self,
        max_batch_size: int | None,
        params: dict[str, str] | None = None,
        max_stack: int = 64,
        stack: Any | None = None,  # a stack job's cells: read by the job, never by a sweeper
    ) -> None:
        super().__init__(max_batch_size=max_batch_size, params=params)
        if not isinstance(max_stack, int) or max_stack < 1:
            raise HydraException(f"hydra.sweeper.max_stack={max_stack}: must be an integer >= 1")
        if stack is not None:  # only jobs carry one; the sweeper itself never sees its own
            raise HydraException(
                "hydra.sweeper.stack: set by the sweeper for each job; leave it unset"
            )
        self.max_stack = max_stack
        self.stackable: frozenset[str] = frozenset()

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        super().setup(hydra_context=hydra_context, task_function=task_function, config=config)
        subdir = OmegaConf.to_container(config.hydra.sweep, resolve=False).get("subdir")
        self.stackable = task_stackable_keys(task_function, str(subdir))

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        """Compose only the jobs whose composition could fail where the others' did not; the
        first job runs on its composition from here (`_handover`)."""
        if not batch:
            return
        first, *others = jobs_to_compose(batch, group_test(self))  # the first is always one
        assert self.hydra_context is not None and self.config is not None
        compose_and_hand_over(self.launcher, self.hydra_context, self.config, first)
        super().validate_batch_is_legal(others)

    def split_arguments(  # type: ignore[override]  # BasicSweeper.sweep calls it on self
        self, overrides: list[Override], max_batch_size: int | None
    ) -> list[list[list[str]]]:
        """Batches of job overrides: cells (BasicSweeper) or stacks of cells."""
        if not self.stackable:
            return BasicSweeper.split_arguments(overrides, max_batch_size)
        (cells,) = BasicSweeper.split_arguments(overrides, None)
        assert self.config is not None
        workers = worker_count(OmegaConf.select(self.config, "hydra.launcher.n_jobs"))
        launcher = OmegaConf.select(self.config, "hydra.launcher._target_")
        if max_batch_size is None and launcher == JOBLIB:  # one job per worker
            jobs = binned_jobs(cells, self.stackable, self.max_stack, workers, group_test(self),
                               claims=_claims_folder())  # fmt: skip
        else:  # workers unknown (e.g. an array job per stack) or launches of a set size
            jobs = stacked_jobs(cells, self.stackable, self.max_stack, workers)
        return list(BasicSweeper.split_overrides_to_chunks(jobs, max_batch_size))


CLAIMS_PREFIX = "trainmap-stacks-"  # + the launching process' pid + "-" + a random part


def _claims_folder() -> str:
    """A new folder for one launch's jobs to claim stacks in, named by this process' pid and
    removed when it exits (the launch's jobs have ended by then). A launch that was killed
    leaves its folder: those whose process is gone are removed here."""
    temp = Path(tempfile.gettempdir())
    for path in temp.glob(f"{CLAIMS_PREFIX}*-*"):
        pid = path.name.removeprefix(CLAIMS_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
    folder = tempfile.mkdtemp(prefix=f"{CLAIMS_PREFIX}{os.getpid()}-", dir=temp)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
