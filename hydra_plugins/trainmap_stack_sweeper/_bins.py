"""One job per worker: the stacks a joblib launcher's workers take, in one job each.

Each Hydra job costs its worker ~0.2 s before it trains (the joblib launcher composes its
config there) and more after. When the launcher's parallelism is known, each worker gets one
job, whose stacks are derived from its one composition: first a stack of its own (the
costliest ones, one per worker), then every other stack, costliest first, each taken by the
first job to claim it (creating the stack's file in a folder the jobs share). A worker thus
takes the next stack when it is free, as a pool of workers would: a model of the stacks' costs
decides only which stacks open the jobs, and a slow stack does not leave the other workers
idle at the end. That holds only where the stacks differ from the job's first cell in plain
values (e.g. `trainer.batch_size`), which the job sets as Hydra would; a group choice that
differs keeps one job per stack. Each stack keeps the job number its own job would have had,
so every cell's files are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from ._stacks import (
    UNQUOTABLE,
    Cell,
    form_stacks,
    is_choice,
    stack_job,
    stack_override,
)

JOBLIB = "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"


def binned_jobs(
    cells: Sequence[Cell], stackable: Collection[str], max_stack: int, workers: int,
    is_group: Callable[[str], bool], claims: str,
) -> list[Cell]:  # fmt: skip
    """One job per worker, each with a stack of its own and then all stacks that open no job
    (claimed in `claims`, a folder the jobs share); one job per stack where they cannot merge."""
    keys = [item.split("=", 1)[0] for item in cells[0]]
    stacks = form_stacks(cells, keys, stackable, max_stack, workers)  # costliest first
    if len(stacks) <= workers or not mergeable(cells, keys, stackable, is_group):
        return [stack_job(stack, keys, stackable) for stack in stacks]
    jobs = []
    for own in range(workers):
        head = stacks[own][0]
        spec = [[num, *_runs(stacks[num], head, keys, stackable)]
                for num in (own, *range(workers, len(stacks)))]  # fmt: skip
        jobs.append([*head, stack_override({"claims": claims, "stacks": spec})])
    return jobs


def mergeable(
    cells: Sequence[Cell], keys: Sequence[str], stackable: Collection[str],
    is_group: Callable[[str], bool],
) -> bool:  # fmt: skip
    """Whether every key outside `stackable` whose value varies is a plain value (no group, no
    deletion), and no value holds what the quoted spec could not carry back."""
    if any(mark in item for cell in cells for item in cell for mark in UNQUOTABLE):
        return False
    varying = {i for i in range(len(keys)) if len({cell[i] for cell in cells}) > 1}
    plain_values = varying - {i for i, key in enumerate(keys) if key in stackable}
    return not any(is_choice(keys[i], is_group) for i in plain_values)


def _runs(
    stack: list[Cell], head: Cell, keys: Sequence[str], stackable: Collection[str]
) -> list[Cell]:
    """Each run's overrides that the job sets on its own composition: its stackable ones and
    those that differ from the job's first cell."""
    return [
        [item for i, item in enumerate(cell) if keys[i] in stackable or item != head[i]]
        for cell in stack
    ]
