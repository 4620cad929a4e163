"""Group a sweep's cells into stacks: cells that differ only in stackable keys train together.

A cell is its list of override strings, one per swept or set key, in the same key order for
every cell (the Cartesian product BasicSweeper expands). Pure functions, no Hydra state.
"""

from __future__ import annotations

import math
import os
from collections.abc import Collection, Sequence
from typing import Any

Cell = list[str]
STACK_KEY = "hydra.sweeper.stack"
PER_JOB_FOLDERS = ("hydra.job.num", "hydra.job.id")  # a subdir naming jobs, not cells
BATCH_KEY = "trainer.batch_size"  # a run's updates per epoch go as 1 / its value
UNQUOTABLE = ("'", "\\")  # values the job could not get back from a quoted list: never stacked


def form_stacks(
    cells: Sequence[Cell], keys: Sequence[str], stackable: Collection[str], max_stack: int,
    workers: int,
) -> list[list[Cell]]:  # fmt: skip
    """Stacks of cells with the same non-stackable overrides, at most `max_stack` each, the
    costliest first (so that a pool of `workers` starts on them).

    Groups larger than `max_stack` split into even stacks. Then, while a stack would keep one
    worker busy longer than an even share of the whole sweep (or a worker would sit idle), the
    costliest splits in two: batch size 1 has most of a sweep's steps, and one core on it alone
    would leave the other idle.
    """
    positions = [i for i, key in enumerate(keys) if key in stackable]
    groups: dict[tuple, list[Cell]] = {}
    for n, cell in enumerate(cells):
        alone = any(mark in cell[i] for i in positions for mark in UNQUOTABLE)
        shared = tuple(v for i, v in enumerate(cell) if i not in positions)
        groups.setdefault((n,) if alone else shared, []).append(list(cell))  # (n,): its own
    stacks = [part for group in groups.values() for part in split_evenly(group, max_stack)]
    share = sum(cost(stack, keys) for stack in stacks) / max(workers, 1)
    while stacks:
        costliest = max(range(len(stacks)), key=lambda i: cost(stacks[i], keys))
        big = stacks[costliest]
        if len(big) < 2 or (len(stacks) >= workers and cost(big, keys) <= share):
            break
        stacks[costliest : costliest + 1] = split_evenly(big, -(-len(big) // 2))
    return sorted(stacks, key=lambda stack: -cost(stack, keys))


def cost(stack: Sequence[Cell], keys: Sequence[str]) -> float:
    """A stack's training time, relatively: its runs' updates, 1 / batch size each (the rest
    of a sweep's cells share data and epochs); 1 per run when the batch size is not swept."""
    where = keys.index(BATCH_KEY) if BATCH_KEY in keys else None
    if where is None:
        return float(len(stack))
    return sum(1.0 / max(_number(cell[where].split("=", 1)[1]), 1.0) for cell in stack)


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
    runs = ",".join("[" + ",".join(f"'{cell[i]}'" for i in positions) + "]" for cell in stack)
    return [*stack[0], f"{STACK_KEY}=[{runs}]"]


def worker_count(n_jobs: object) -> int:
    """Parallel workers of a launcher with joblib's `n_jobs` (-1: all cores); 1 when unknown."""
    if not isinstance(n_jobs, int) or n_jobs == 0:
        return 1
    return max(1, n_jobs if n_jobs > 0 else (os.cpu_count() or 1) + 1 + n_jobs)


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
