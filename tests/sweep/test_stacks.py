"""Grouping a sweep's cells into stacks, and the job overrides that carry a stack."""

from __future__ import annotations

import itertools
import re

import pytest
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.plugins import Plugins
from hydra.errors import HydraException
from hydra.utils import get_class
from omegaconf import OmegaConf

from hydra_plugins.trainmap_stack_sweeper._stacks import (
    STACK_KEY,
    form_stacks,
    split_evenly,
    stack_job,
    task_stackable_keys,
    worker_count,
)
from hydra_plugins.trainmap_stack_sweeper.config import StackSweeperConf

STACKABLE = {"optimizer.lr", "trainer.seed"}
KEYS = ["trainer.batch_size", "optimizer.lr", "trainer.seed"]


def grid(batch_sizes, lrs, seeds) -> list[list[str]]:
    """Cells in BasicSweeper's order: the Cartesian product, last key fastest."""
    return [
        [f"trainer.batch_size={b}", f"optimizer.lr={lr}", f"trainer.seed={s}"]
        for b, lr, s in itertools.product(batch_sizes, lrs, seeds)
    ]


def test_cells_differing_only_in_stackable_keys_share_a_stack():
    cells = grid([1, 16], ["0.1", "1e-4"], [0, 1])
    stacks = form_stacks(cells, KEYS, STACKABLE, max_stack=64, workers=1)
    assert stacks == [cells[:4], cells[4:]]  # one per batch size, grid order kept


def test_big_groups_split_evenly_under_the_cap():
    cells = grid([1], [f"{i}" for i in range(10)], [0, 1, 2])  # 30 cells, one group
    stacks = form_stacks(cells, KEYS, STACKABLE, max_stack=8, workers=1)
    assert [len(s) for s in stacks] == [8, 8, 7, 7]
    assert [c for s in stacks for c in s] == cells  # every cell once, in order


def test_too_few_stacks_for_the_workers_split_the_largest():
    cells = grid([1, 16], ["0.1", "1"], [0, 1, 2])  # two groups of 6
    assert [len(s) for s in form_stacks(cells, KEYS, STACKABLE, 64, workers=1)] == [6, 6]
    # Batch size 1 holds 16/17 of the steps: it splits until no stack exceeds a worker's share.
    two = form_stacks(cells, KEYS, STACKABLE, 64, workers=2)
    assert [len(s) for s in two] == [3, 3, 6]
    assert {c[0] for c in two[0] + two[1]} == {"trainer.batch_size=1"}  # costliest first
    assert [len(s) for s in form_stacks(cells, KEYS, STACKABLE, 64, workers=3)] == [2, 2, 1, 1, 6]
    single = grid([1], ["0.1"], [0])
    assert form_stacks(single, KEYS, STACKABLE, 64, workers=4) == [single]


def test_a_value_that_cannot_be_quoted_runs_alone():
    cells = [["optimizer.lr=0.1"], ["optimizer.lr='0.2'"], ["optimizer.lr=0.3"]]
    stacks = form_stacks(cells, ["optimizer.lr"], STACKABLE, 64, workers=1)
    assert stacks == [[cells[0], cells[2]], [cells[1]]]


@pytest.mark.parametrize(
    ("n", "most", "sizes"), [(7, 7, [7]), (7, 3, [3, 2, 2]), (64, 32, [32, 32])]
)
def test_split_evenly(n, most, sizes):
    assert [len(p) for p in split_evenly([[str(i)] for i in range(n)], most)] == sizes


def test_stack_job_is_the_first_cell_plus_every_cells_stackable_overrides():
    stack = grid([4], ["0.1", "1e-4"], [0, 1])
    job = stack_job(stack, KEYS, STACKABLE)
    assert job[:3] == stack[0]
    (parsed,) = OverridesParser.create().parse_overrides(job[3:])
    assert parsed.key_or_group == STACK_KEY
    assert parsed.value() == [cell[1:] for cell in stack]  # what the job reads back
    assert stack_job(stack[:1], KEYS, STACKABLE) == stack[0]  # a single cell is a plain job


@pytest.mark.parametrize(("n_jobs", "expected"), [(None, 1), (1, 1), (3, 3), ("x", 1)])
def test_worker_count(n_jobs, expected):
    assert worker_count(n_jobs) == expected


def test_worker_count_negative_counts_from_the_cores(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert worker_count(-1) == 8 and worker_count(-2) == 7


def test_the_sweeper_launches_stack_jobs_in_batches():
    Plugins.instance()  # Hydra's plugin scan re-executes plugin modules: use the class it leaves
    sweeper = get_class(StackSweeperConf._target_)(max_batch_size=None, max_stack=2)
    sweeper.config = OmegaConf.create({"hydra": {"launcher": {"n_jobs": 1}}})
    sweeper.stackable = frozenset(STACKABLE)  # what setup() takes from a trainmap task
    sweep = ["trainer.batch_size=1,16", "optimizer.lr=0.1,1,10", "trainer.epochs=2"]
    overrides = OverridesParser.create().parse_overrides(sweep)
    batches = sweeper.split_arguments(overrides, 3)  # 2 groups of 3 cells -> 4 stacks
    assert [len(batch) for batch in batches] == [3, 1]
    assert batches[0][0] == [
        "trainer.batch_size=1", "optimizer.lr=0.1", "trainer.epochs=2",
        "hydra.sweeper.stack=[['optimizer.lr=0.1'],['optimizer.lr=1']]",
    ]  # fmt: skip
    assert batches[0][1] == ["trainer.batch_size=1", "optimizer.lr=10", "trainer.epochs=2"]
    sweeper.stackable = frozenset()  # any other task: BasicSweeper's cells
    cells = sweeper.split_arguments(overrides, 4)
    assert cells == BasicSweeper.split_arguments(overrides, 4) and len(cells[0]) == 4


@pytest.mark.parametrize(
    ("subdir", "stacks"),
    [
        ("${hydra.job.override_dirname}", True),
        ("${hydra.job.num}", False),
        ("run_${hydra.job.id}", False),
    ],
)
def test_stacks_only_where_cells_get_folders_of_their_own(subdir, stacks):
    def task() -> None: ...

    task.stackable_keys = STACKABLE
    # cells of a stack share their job's num and id
    assert bool(task_stackable_keys(task, subdir)) is stacks
    assert task_stackable_keys(lambda: None, subdir) == frozenset()  # a task without stacks


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_stack": 0}, "hydra.sweeper.max_stack=0: must be an integer >= 1"),
        ({"stack": [["optimizer.lr=1"]]}, "hydra.sweeper.stack: set by the sweeper for each job"),
    ],
)
def test_bad_sweeper_options_are_one_clear_error(options, message):
    Plugins.instance()
    with pytest.raises(HydraException, match=re.escape(message)):
        get_class(StackSweeperConf._target_)(max_batch_size=None, **options)
