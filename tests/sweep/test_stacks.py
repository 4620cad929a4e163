"""Grouping a sweep's cells into stacks, and the job overrides that carry a stack."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.plugins import Plugins
from hydra.errors import HydraException
from hydra.utils import get_class
from omegaconf import OmegaConf

from hydra_plugins.trainmap_stack_sweeper._stacks import (
    STACK_KEY,
    cost,
    form_stacks,
    jobs_to_compose,
    makespan,
    split_evenly,
    stack_job,
    stack_override,
    task_stackable_keys,
    worker_count,
)
from hydra_plugins.trainmap_stack_sweeper.config import StackSweeperConf
from src.sweep.stack_job import claims_of, stacks_of

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


def test_the_costliest_stack_splits_while_that_shortens_the_sweep():
    cells = grid([1, 16], ["0.1", "1"], [0, 1, 2])  # two groups of 6
    assert [len(s) for s in form_stacks(cells, KEYS, STACKABLE, 64, workers=1)] == [6, 6]
    # Batch size 1 holds most of the steps: with 2 workers it splits, one half each.
    two = form_stacks(cells, KEYS, STACKABLE, 64, workers=2)
    assert [len(s) for s in two] == [3, 3, 6]
    assert {c[0] for c in two[0] + two[1]} == {"trainer.batch_size=1"}  # costliest first
    # A step costs ~(8 + K) runs' shares: stacks of 2 and 1 would end later than stacks of 3.
    assert [len(s) for s in form_stacks(cells, KEYS, STACKABLE, 64, workers=3)] == [3, 3, 6]
    single = grid([1], ["0.1"], [0])
    assert form_stacks(single, KEYS, STACKABLE, 64, workers=4) == [single]


def test_the_default_sweep_keeps_one_stack_per_batch_size_on_two_workers():
    # Halving batch size 1's stack of 7 would save a worker ~3/8 of it and cost the other
    # worker the rest: the sweep would end later.
    cells = grid([1, 4, 16, 64, 256], [f"{i}" for i in range(7)], [0])
    stacks = form_stacks(cells, KEYS, STACKABLE, 64, workers=2)
    assert [len(s) for s in stacks] == [7] * 5
    assert [s[0][0] for s in stacks][:2] == ["trainer.batch_size=1", "trainer.batch_size=4"]


def test_makespan_hands_each_stack_to_the_least_loaded_worker():
    one, four = grid([1], ["0"], [0]), grid([4], ["0"], [0])  # costs 11 and 4.25
    assert makespan([one, four, four], KEYS, workers=2) == pytest.approx(11)
    assert makespan([one, four, four], KEYS, workers=1) == pytest.approx(19.5)
    assert cost(one + one, KEYS) - cost(one, KEYS) == pytest.approx(1.0)  # one more run


def test_a_value_that_cannot_be_quoted_runs_alone():
    cells = [["optimizer.lr=0.1"], ["optimizer.lr='0.2'"], ["optimizer.lr=0.3"]]
    stacks = form_stacks(cells, ["optimizer.lr"], STACKABLE, 64, workers=1)
    assert stacks == [[cells[0], cells[2]], [cells[1]]]


def test_an_interpolated_value_runs_alone():
    """The basic sweeper escapes `${...}` in a swept value with backslashes, which the quoted
    spec cannot carry: such a cell trains on its own (as in the per-cell path, same metrics)."""
    parsed = OverridesParser.create().parse_overrides(["optimizer.lr=0.1,${trainer.seed},0.3"])
    (cells,) = BasicSweeper.split_arguments(parsed, None)
    assert cells[1] == ["optimizer.lr=$\\{trainer.seed\\}"]
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
    assert stacks_of(parsed.value()) == [(None, [cell[1:] for cell in stack])]  # as the job reads
    assert stack_job(stack[:1], KEYS, STACKABLE) == stack[0]  # a single cell is a plain job


@pytest.mark.parametrize(
    "value", ['"a,b=1.repair1"', "[1,2]", "{a: 1}", "a b", "tab\there", "é", "null", "1e-4", "x=y"]
)
def test_the_stack_override_carries_any_stackable_value_back(value):
    stacks = [[3, [f"k={value}", "j=1"], ["j=2"]], [5, [f"k={value}"]]]
    spec = {"claims": f"/tmp/{value}", "stacks": stacks}
    (parsed,) = OverridesParser.create().parse_overrides([stack_override(spec)])
    assert parsed.key_or_group == STACK_KEY and isinstance(parsed.value(), str)  # one node
    assert stacks_of(parsed.value()) == [(3, [[f"k={value}", "j=1"], ["j=2"]]),
                                         (5, [[f"k={value}"]])]  # fmt: skip
    assert claims_of(parsed.value()) == Path(f"/tmp/{value}")


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
        """hydra.sweeper.stack='[["optimizer.lr=0.1"],["optimizer.lr=1"]]'""",
    ]  # fmt: skip
    assert batches[0][1] == ["trainer.batch_size=1", "optimizer.lr=10", "trainer.epochs=2"]
    sweeper.stackable = frozenset()  # any other task: BasicSweeper's cells
    cells = sweeper.split_arguments(overrides, 4)
    assert cells == BasicSweeper.split_arguments(overrides, 4) and len(cells[0]) == 4


def test_only_jobs_that_could_fail_differently_are_composed_up_front():
    groups = {"activation", "hydra/launcher"}
    jobs = [
        ["activation=relu", "trainer.batch_size=1"],
        ["activation=relu", "trainer.batch_size=4"],  # a new plain value: composes like job 0
        ["activation=tanh", "trainer.batch_size=1"],  # a new group option
        ["activation=tanh", "trainer.batch_size=4"],
        ["activation=relu", "trainer.batch_size=4", "+trainer.extra=1"],  # new keys
        ["activation=relu", "trainer.batch_size=4", "~trainer.seed=1"],  # a deletion
        ["activation=relu", "trainer.batch_size=4", "~trainer.seed=2"],  # another one
        ["activation=relu", "trainer.batch_size=16", "+trainer.extra=2"],
    ]
    chosen = jobs_to_compose(jobs, lambda key: key in groups)
    assert chosen == [jobs[0], jobs[2], jobs[4], jobs[5], jobs[6]]


def test_a_bad_group_option_in_a_later_job_still_stops_the_sweep_before_it_starts(tmp_path):
    sweep = tmp_path / "sweep"
    result = subprocess.run(
        [sys.executable, "-m", "src.train", "-m", "activation=relu,nosuch",
         "trainer.batch_size=16,64", f"hydra.sweep.dir={sweep}"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: activation/nosuch not found; valid options: leaky_relu, relu, sigmoid, tanh"
    ]
    assert not list(sweep.glob("*/metrics.json"))  # no cell trained


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
