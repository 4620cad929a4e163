"""Group a sweep's cells into stacks: cells that differ only in stackable keys train together.

A cell is its list of override strings, one per swept or set key, in the same key order for
every cell (the Cartesian product BasicSweeper expands). Pure functions, no Hydra state.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Collection, Sequence
from typing import Any

Cell = list[str]
STACK_KEY = "hydra.sweeper.stack"
PER_JOB_FOLDERS = ("hydra.job.num", "hydra.job.id")  # a subdir naming jobs, not cells
BATCH_KEY = "trainer.batch_size"  # a run's updates per epoch go as 1 / its value
UNQUOTABLE = ("'", "\\")  # values the job could not get back from its quoted spec: never stacked


# Relative costs, in one run's updates at batch size 1 (measured on the default net, idle cores:
# a stack of K runs takes ~(8 + K) single-run step shares per step, and a stack's start and
# finish about as long as 2 runs at batch size 1). Only their ratios steer the splitting.
STEP_RUNS = 8.0
STACK_RUNS = 2.0


def form_stacks(
    cells: Sequence[Cell], keys: Sequence[str], stackable: Collection[str], max_stack: int,
    workers: int,
) -> list[list[Cell]]:  # fmt: skip
    """Stacks of cells with the same non-stackable overrides, at most `max_stack` each, the
    costliest first (so that a pool of `workers` starts on them).

    Groups larger than `max_stack` split into even stacks. Then the costliest stack splits in
    two while that shortens the sweep on `workers` workers: batch size 1 has most of a sweep's
    steps, and one core on it alone can leave the other idle; but a step's cost hardly grows
    with K, so two half stacks cost more in all than one.
    """
    positions = [i for i, key in enumerate(keys) if key in stackable]
    groups: dict[tuple, list[Cell]] = {}
    for n, cell in enumerate(cells):
        alone = any(mark in cell[i] for i in positions for mark in UNQUOTABLE)
        shared = tuple(v for i, v in enumerate(cell) if i not in positions)
        groups.setdefault((n,) if alone else shared, []).append(list(cell))  # (n,): its own
    stacks = [part for group in groups.values() for part in split_evenly(group, max_stack)]
    while stacks:
        costliest = max(range(len(stacks)), key=lambda i: cost(stacks[i], keys))
        big = stacks[costliest]
        split = [*stacks[:costliest], *split_evenly(big, -(-len(big) // 2)),
                 *stacks[costliest + 1 :]]  # fmt: skip
        if len(big) < 2 or makespan(split, keys, workers) >= makespan(stacks, keys, workers):
            break
        stacks = split
    return sorted(stacks, key=lambda stack: -cost(stack, keys))


def makespan(stacks: Sequence[Sequence[Cell]], keys: Sequence[str], workers: int) -> float:
    """When the last of `workers` workers would finish, each taking the costliest stack left
    (as a pool handed the stacks costliest first does)."""
    return max(sum(cost(stacks[i], keys) for i in taken) for taken in assign(stacks, keys, workers))


def assign(stacks: Sequence[Sequence[Cell]], keys: Sequence[str], workers: int) -> list[list[int]]:
    """The stacks (indices, costliest first) each of `workers` workers takes from a pool handed
    them costliest first; the first `workers` stacks go to workers 0, 1, ... in turn."""
    loads = [0.0] * max(workers, 1)
    taken: list[list[int]] = [[] for _ in loads]
    for i in sorted(range(len(stacks)), key=lambda i: -cost(stacks[i], keys)):
        worker = loads.index(min(loads))
        loads[worker] += cost(stacks[i], keys)
        taken[worker].append(i)
    return taken


def cost(stack: Sequence[Cell], keys: Sequence[str]) -> float:
    """A stack's training time, relatively: its runs' updates (1 / batch size each; 1 when the
    batch size is not swept), plus what its steps cost whatever their K, plus its start."""
    where = keys.index(BATCH_KEY) if BATCH_KEY in keys else None
    if where is None:
        return STEP_RUNS + len(stack) + STACK_RUNS
    batches = [max(_number(cell[where].split("=", 1)[1]), 1.0) for cell in stack]
    return sum(1.0 / b for b in batches) + STEP_RUNS / min(batches) + STACK_RUNS


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 1.0


def split_evenly(cells: list[Cell], most: int) -> list[list[Cell]]:
    """Consecutive parts of at most `most` cells, as equal in size as possible."""
    parts = math.ceil(len(cells) / most)
    size, extra = divmod(len(cells), parts)
    bounds = [i * size + min(i, extra) for i in range(parts + 1)]
    return [cells[a:b] for a, b in zip(bounds, bounds[1:])]


def stack_job(stack: list[Cell], keys: Sequence[str], stackable: Collection[str]) -> Cell:
    """The job overrides of a stack: its first cell's, plus every cell's stackable overrides."""
    if len(stack) == 1:
        return stack[0]
    positions = [i for i, key in enumerate(keys) if key in stackable]
    return [*stack[0], stack_override([[cell[i] for i in positions] for cell in stack])]


def stack_override(spec: list | dict) -> str:
    """`hydra.sweeper.stack='<spec as JSON>'`: a job's runs' overrides as one quoted string.

    As a list of quoted overrides, Hydra would parse every item and build a config node for
    each, in the parent and again in the worker: ~0.35 s more per composition for a job of 528
    runs (measured), where one string is one token and one node. Cells with a value that holds
    a single quote or a backslash are never stacked (UNQUOTABLE); JSON's own escapes (`\\"`)
    come back unchanged from a single-quoted string.
    """
    return f"{STACK_KEY}='{json.dumps(spec, ensure_ascii=False, separators=(',', ':'))}'"


def worker_count(n_jobs: object) -> int:
    """Parallel workers of a launcher with joblib's `n_jobs` (-1: all cores); 1 when unknown."""
    if not isinstance(n_jobs, int) or n_jobs == 0:
        return 1
    return max(1, n_jobs if n_jobs > 0 else (os.cpu_count() or 1) + 1 + n_jobs)


def jobs_to_compose(jobs: Sequence[Cell], is_group: Callable[[str], bool]) -> list[Cell]:
    """The jobs whose composition can fail where every job before them composed: the first, and
    any with a new set of keys, a new group option or a new deletion (`~key=value`).

    Hydra's sweepers compose every job before launching to fail early, ~0.2 s each, in one
    process. A plain value cannot make composition fail where its key composed with another
    value (it is not checked against anything until the job validates it), so jobs that differ
    from composed ones only in plain values need not be composed again.
    """
    seen_keys: set[tuple[str, ...]] = set()
    seen_choices: set[str] = set()
    chosen = []
    for job in jobs:
        keys = tuple(item.split("=", 1)[0] for item in job)
        choices = {item for item, key in zip(job, keys) if is_choice(key, is_group)}
        if keys not in seen_keys or not choices <= seen_choices:
            chosen.append(list(job))
            seen_keys.add(keys)
            seen_choices |= choices
    return chosen


def is_choice(key: str, is_group: Callable[[str], bool]) -> bool:
    """Whether an override of `key` is a deletion or picks a group option (`+group@pkg=...`
    included): unlike a plain value, it can make composition fail or change the keys."""
    return key.startswith("~") or is_group(key.lstrip("+").split("@", 1)[0])


def group_test(sweeper: Any) -> Callable[[str], bool]:
    """`group_exists` of the repository a sweeper composes with (found where Hydra's
    `validate_batch_is_legal` finds its config loader); without one, every key counts as a
    group, so every distinct job is composed."""
    context = getattr(sweeper, "hydra_context", None)
    loader = getattr(context or sweeper, "config_loader", None)
    repository = getattr(loader, "repository", None)
    return repository.group_exists if repository is not None else lambda key: True


def task_stackable_keys(task_function: Any, subdir: str) -> frozenset[str]:
    """The keys the task trains together (`runs_stacks`), or none: a task that does not declare
    them, or a sweep whose cell folders (`subdir`) are named by job, which cells of one stack
    share."""
    keys = getattr(task_function, "stackable_keys", None)
    if not keys or any(key in subdir for key in PER_JOB_FOLDERS):
        return frozenset()
    return frozenset(keys)


def stacked_jobs(
    cells: Sequence[Cell], stackable: Collection[str], max_stack: int, workers: int
) -> list[Cell]:
    """One job per stack for a batch of cells that name the same keys in the same order."""
    if not stackable or not cells:
        return [list(cell) for cell in cells]
    keys = [item.split("=", 1)[0] for item in cells[0]]
    stacks = form_stacks(cells, keys, stackable, max_stack, workers)
    return [stack_job(stack, keys, stackable) for stack in stacks]
