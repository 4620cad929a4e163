"""The search grid from Hydra overrides, the jobs of a round, and the outcomes read from disk."""

from __future__ import annotations

import pytest

from src.edge.grid import Settings, build_grid
from src.edge.search import Refine, lattice
from src.errors import ConfigError
from tests.sweep.fake import make_cell

BATCH = "trainer.batch_size=4,64"


def test_coarse_grid_is_8_log_spaced_lrs_per_batch_size():
    grid = build_grid(["sweep=bs_lr_edge", BATCH, "activation=tanh"], Settings())
    coarse = grid.coarse()
    assert len(coarse) == 16 and grid.seeds == [None]
    assert [lr for _, lr in coarse[:8]] == pytest.approx(
        [1e-4, 7.19686e-4, 5.17947e-3, 0.0372759, 0.268270, 1.93070, 13.8950, 100.0]
    )
    assert coarse[0][0] == ("sweep=bs_lr_edge", "trainer.batch_size=4", "activation=tanh")
    # New lrs come from the uniform log grid of the resolution that holds the coarse grid.
    assert grid.refine() == Refine(1.1, 3.0, lattice(1e-4, 100.0, 8, 1.1))
    jobs = grid.jobs(coarse[:2], done=set())
    assert jobs == [
        ["sweep=bs_lr_edge", "trainer.batch_size=4", "activation=tanh", "optimizer.lr=0.0001"],
        ["sweep=bs_lr_edge", "trainer.batch_size=4", "activation=tanh", "optimizer.lr=0.000719686"],
    ]


def test_a_given_lr_list_is_the_coarse_grid_and_seeds_expand_every_point():
    grid = build_grid(["optimizer.lr=1e-3,0.1", "trainer.seed=0,1,2", BATCH], Settings())
    assert grid.seeds == ["0", "1", "2"]
    assert grid.refine().lattice == ()  # listed lrs: each span's own log grid
    assert len(grid.coarse()) == 4  # seeds vote per point: they are not points
    jobs = grid.jobs([(grid.groups()[0], 1e-3)], done=set())
    # As the basic sweeper writes it: Hydra's parser reads 1e-3 and prints 0.001.
    assert jobs == [["optimizer.lr=0.001", f"trainer.seed={s}", "trainer.batch_size=4"]
                    for s in "012"]  # fmt: skip
    assert len(grid.jobs([(grid.groups()[0], 0.0316228)], done=set())) == 3


@pytest.mark.parametrize(
    "overrides, settings, message",
    [
        ([BATCH], Settings(resolution=1.0), "hydra.sweeper.resolution=1.0: must be > 1"),
        ([BATCH], Settings(budget=15), "hydra.sweeper.budget=15: smaller than the coarse grid"),
        (["trainer.batch_size=4,x"], Settings(), "trainer.batch_size=x: not a positive number"),
        (["optimizer.lr=0.1,-1"], Settings(), "optimizer.lr=-1: not a positive number"),
        (["optimizer.lr=0.1"], Settings(), "optimizer.lr=0.1: the edge search varies optimizer.lr"),
        (["optimizer.lr=interval(0.1,1)"], Settings(), "optimizer.lr: the edge search takes lists"),
        ([BATCH], Settings(lr_range=(1.0, 0.1)), "hydra.sweeper.lr_range=[1.0, 0.1]: need 0 < low"),
        ([BATCH], Settings(lr_points=1), "hydra.sweeper.lr_points=1: need at least 2"),
        ([BATCH], Settings(probe_above=0.5), "hydra.sweeper.probe_above=0.5: must be >= 1"),
    ],
)
def test_bad_input_names_the_key_and_what_is_valid(overrides, settings, message):
    with pytest.raises(ConfigError, match="^" + message.replace("[", r"\[").replace("]", r"\]")):
        build_grid(overrides, settings)


def test_seeds_count_in_the_budget():
    with pytest.raises(ConfigError, match="coarse grid of 48 runs"):
        build_grid([BATCH, "trainer.seed=0,1,2"], Settings(budget=47))


def test_read_takes_this_grids_finished_runs_only(tmp_path):
    grid = build_grid(["optimizer.lr=0.01,1", "trainer.seed=0,1", BATCH, "activation=tanh"],
                      Settings())  # fmt: skip
    tanh = ["activation=tanh", "trainer.batch_size=4"]
    make_cell(tmp_path, [*tanh, "optimizer.lr=0.01", "trainer.seed=0"], {"outcome": "converged"})
    make_cell(tmp_path, [*tanh, "optimizer.lr=0.01", "trainer.seed=1"], {"outcome": "diverged"})
    make_cell(tmp_path, [*tanh, "optimizer.lr=1", "trainer.seed=0"], None)  # still pending
    make_cell(tmp_path, [*tanh, "optimizer.lr=1", "trainer.seed=1"], {"outcome": "error"})
    make_cell(tmp_path, [*tanh, "optimizer.lr=1", "trainer.seed=7"], {"outcome": "diverged"})
    relu = ["activation=relu", "trainer.batch_size=4", "optimizer.lr=1", "trainer.seed=1"]
    make_cell(tmp_path, relu, {"outcome": "converged"})  # another sweep into the same folder
    state, done = grid.read(tmp_path)
    group = grid.groups()[0]
    assert group == ("trainer.batch_size=4", "activation=tanh")
    assert sorted(state[group][0.01]) == ["converged", "diverged"]
    assert state[group][1.0] == ["error"]
    assert done == {(group, 0.01, "0"), (group, 0.01, "1")}
    # Resume: the coarse point 0.01 is complete; 1 runs both seeds (pending, error).
    jobs = grid.jobs([(group, 0.01), (group, 1.0)], done)
    assert [job[:2] for job in jobs] == [["optimizer.lr=1", "trainer.seed=0"],
                                         ["optimizer.lr=1", "trainer.seed=1"]]  # fmt: skip
