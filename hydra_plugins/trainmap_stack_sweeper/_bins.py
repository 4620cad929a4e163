"""One job per worker: the stacks each of a joblib launcher's workers would take, as one job.

Each Hydra job costs its worker ~0.2 s before it trains (the joblib launcher composes its
config there) and more after. When the launcher's parallelism is known, the stacks a pool of
its workers would take one by one (costliest first, as `makespan` models it) are handed to each
worker as one job, whose later stacks are derived from its one composition. That holds only
where they differ from its first cell in plain values (e.g. `trainer.batch_size`), which the
job sets as Hydra would; a group choice that differs keeps one job per stack. Each stack keeps
the job number its own job would have had, so every cell's files are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from ._stacks import (
    UNQUOTABLE,
    Cell,
    assign,
    form_stacks,
    is_choice,
    stack_job,
    stack_override,
)

JOBLIB = "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"


def binned_jobs(
    cells: Sequence[Cell], stackable: Collection[str], max_stack: int, workers: int,
    is_group: Callable[[str], bool],
) -> list[Cell]:  # fmt: skip
    """One job per worker's share of the stacks, or one per stack where they cannot merge."""
    keys = [item.split("=", 1)[0] for item in cells[0]]
    stacks = form_stacks(cells, keys, stackable, max_stack, workers)
    if len(stacks) <= workers or not mergeable(cells, keys, stackable, is_group):
        return [stack_job(stack, keys, stackable) for stack in stacks]
    jobs = []
    for taken in assign(stacks, keys, workers):
        head = stacks[taken[0]][0]
        spec = [[num, *_runs(stacks[num], head, keys, stackable)] for num in taken]
        jobs.append([*head, stack_override(spec)])
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
