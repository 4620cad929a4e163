"""The stacked sweeper against the per-cell path (`hydra/sweeper=basic`): same cells, same files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from tests.sweep.test_sweep_run import sweep

# 12 cells in 2 stacks, one per batch size; lr=-1 fails.
GRID = ["optimizer.lr=0.01,0.5,-1", "trainer.seed=0,1", "trainer.batch_size=16,64",
        "trainer.epochs=2"]  # fmt: skip


def metrics(sweep_dir: Path) -> dict[str, dict]:
    """Cell folder name -> metrics.json, minus wall_seconds (the only field allowed to differ)."""
    found = {}
    for path in sweep_dir.glob("*/metrics.json"):
        found[path.parent.name] = json.loads(path.read_text())
        found[path.parent.name].pop("wall_seconds")
    return found


def summary(sweep_dir: Path) -> list[dict[str, str]]:
    with open(sweep_dir / "summary.csv", newline="") as f:
        return [{k: v for k, v in row.items() if k != "wall_seconds"} for row in csv.DictReader(f)]


def job_nums(sweep_dir: Path) -> dict[str, int]:
    """Cell folder name -> the number of the Hydra job that ran it."""
    hydra_files = sweep_dir.glob("*/.hydra/hydra.yaml")
    return {
        p.parents[1].name: yaml.safe_load(p.read_text())["hydra"]["job"]["num"] for p in hydra_files
    }


@pytest.mark.slow
def test_stacked_and_per_cell_sweeps_give_the_same_cells(tmp_path):
    stacked, basic = tmp_path / "stacked" / "sweep", tmp_path / "basic" / "sweep"
    proc = sweep(stacked, *GRID)
    assert proc.returncode == 0, proc.stderr
    assert sweep(basic, *GRID, "hydra/sweeper=basic").returncode == 0

    assert len(set(job_nums(basic).values())) == 12  # one job per cell
    # One job per batch size: halving batch 16's stack would not end the sweep sooner.
    assert sorted(set(job_nums(stacked).values())) == [0, 1]
    found = metrics(stacked)
    assert len(found) == 12 and found == metrics(basic)
    assert sorted(m["outcome"] for m in found.values()).count("error") == 4
    assert summary(stacked) == summary(basic) and len(summary(stacked)) == 12
    for cell in stacked.glob("*/metrics.json"):  # what each cell had in its own job
        folder = cell.parent
        overrides = yaml.safe_load((folder / ".hydra" / "overrides.yaml").read_text())
        assert ",".join(sorted(overrides)) == folder.name
        assert (folder / ".hydra" / "config.yaml").read_text() == (
            basic / folder.name / ".hydra" / "config.yaml"
        ).read_text()
        failed = "optimizer.lr=-1" in folder.name
        assert (folder / "traceback.txt").exists() == failed
        assert bool(list(folder.glob("events.out.tfevents.*"))) != failed
        outcome = found[folder.name]["outcome"]
        assert f"outcome={outcome} " in (folder / "train.log").read_text()  # its own result line
    assert "12 runs: " in proc.stdout  # seeds swept: map cells fold 2 runs each


@pytest.mark.slow
def test_a_bad_stack_size_is_one_line_and_nothing_runs(tmp_path):
    proc = sweep(tmp_path, "optimizer.lr=0.1,1", "hydra.sweeper.max_stack=0")
    assert proc.returncode == 2
    assert "hydra.sweeper.max_stack=0: must be an integer >= 1" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list(tmp_path.glob("*/metrics.json")) and not (tmp_path / "summary.csv").exists()
