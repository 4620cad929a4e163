"""The sweeper plugin's loop with a fake launcher whose cells follow a known rule (no training)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hydra.core.utils import JobReturn, JobStatus
from hydra.errors import HydraException
from omegaconf import OmegaConf

from hydra_plugins.trainmap_edge_sweeper.edge_sweeper import EdgeSweeper
from src.sweep.collect import parse_overrides
from tests.sweep.fake import make_cell

BATCHES = "trainer.batch_size=2,32,512"


def edge(batch: int) -> float:
    return 0.05 * min(batch, 32)  # linear scaling up to the critical batch size 32


class FakeLauncher:
    """Writes each job's cell folder with outcome converged below `edge(bs)`, else diverged."""

    def __init__(self, sweep_dir: Path, edge=edge) -> None:
        self.sweep_dir, self.launches, self.edge = sweep_dir, [], edge

    def launch(self, batch, initial_job_idx: int) -> list[JobReturn]:
        self.launches.append((len(batch), initial_job_idx))
        for overrides in batch:
            values = parse_overrides(overrides)
            lr, bs = values["optimizer.lr"], values["trainer.batch_size"]
            outcome = "converged" if lr < self.edge(bs) else "diverged"
            make_cell(self.sweep_dir, overrides, {"outcome": outcome})
        return [JobReturn(overrides=o, status=JobStatus.COMPLETED) for o in batch]


def sweeper(sweep_dir: Path, **settings) -> tuple[EdgeSweeper, FakeLauncher]:
    plugin = EdgeSweeper(**settings)
    plugin.config = OmegaConf.create({"hydra": {"sweep": {"dir": str(sweep_dir)}}})
    plugin.launcher = FakeLauncher(sweep_dir)
    plugin.validate_batch_is_legal = lambda batch: None  # no config to compose here
    return plugin, plugin.launcher


def test_each_round_is_one_launch_and_the_edges_land_where_the_rule_puts_them(tmp_path):
    plugin, launcher = sweeper(tmp_path)
    plugin.sweep([BATCHES])
    sizes = [n for n, _ in launcher.launches]
    assert sizes[0] == 24 and len(sizes) > 1  # the coarse grid, then one launch per round
    assert [idx for _, idx in launcher.launches] == [sum(sizes[:i]) for i in range(len(sizes))]
    with open(tmp_path / "boundary.csv", newline="") as f:
        table = {row["batch_size"]: row for row in csv.DictReader(f)}
    for batch in (2, 32, 512):
        row = table[str(batch)]
        assert row["transition"] == "converged→diverged" and row["resolved"] == "True"
        assert float(row["lo"]) < edge(batch) <= float(row["hi"]) <= 1.1 * float(row["lo"])
    text = (tmp_path / "edge.md").read_text()
    assert "lr_max ∝ bs^0.51" in text  # lr_max 0.095, 1.6, 1.6 at bs 2, 32, 512 (log-log)
    assert (tmp_path / "lr_max.png").exists() and (tmp_path / "edge_map.png").exists()

    # Resume with a finer resolution: only the new midpoints run (no probes above the edge).
    again, relaunched = sweeper(tmp_path, resolution=1.02, probe_above=1.0)
    again.sweep([BATCHES])
    # One middle per batch size per round, on the lattice of 1.02 (700 steps of 1.0199): the
    # brackets of one step of the 1.1 lattice (1.0985) take 2 or 3 more.
    assert [n for n, _ in relaunched.launches] == [3, 3, 2]


def test_bad_input_raises_before_any_folder(tmp_path):
    plugin, launcher = sweeper(tmp_path / "sweep", budget=23)
    with pytest.raises(HydraException, match="^hydra.sweeper.budget=23: smaller than the coarse"):
        plugin.sweep([BATCHES])
    assert not (tmp_path / "sweep").exists() and launcher.launches == []


def test_without_any_transition_it_says_so_and_draws_no_lr_max(tmp_path):
    plugin, launcher = sweeper(tmp_path)
    launcher.edge = lambda batch: 1e9  # everything converges
    plugin.sweep([BATCHES])
    assert len(launcher.launches) == 1  # the coarse grid, nothing to refine
    assert "no transition found" in (tmp_path / "edge.md").read_text()
    assert (tmp_path / "boundary.csv").read_text().count("\n") == 1  # the header only
    assert (tmp_path / "edge_map.png").exists() and not (tmp_path / "lr_max.png").exists()


def test_a_swept_word_gets_its_own_rows(tmp_path):
    plugin, launcher = sweeper(tmp_path, lr_points=4, budget=200)
    plugin.sweep(["trainer.batch_size=2,32", "activation=relu,tanh"])
    assert launcher.launches[0][0] == 16  # 4 lrs x 2 batch sizes x 2 activations
    with open(tmp_path / "boundary.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert sorted((r["others"], r["batch_size"]) for r in table) == [
        ("activation=relu", "2"), ("activation=relu", "32"),
        ("activation=tanh", "2"), ("activation=tanh", "32"),
    ]  # fmt: skip
    assert "### activation=tanh" in (tmp_path / "edge.md").read_text()
