"""With the joblib launcher, each worker gets one job: a stack of its own, then the shared ones."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.plugins import Plugins
from hydra.utils import get_class
from omegaconf import OmegaConf

from hydra_plugins.trainmap_stack_sweeper._bins import JOBLIB, binned_jobs
from hydra_plugins.trainmap_stack_sweeper._stacks import (
    STACK_KEY,
    form_stacks,
    stacked_jobs,
)
from hydra_plugins.trainmap_stack_sweeper.config import StackSweeperConf
from src.sweep.stack_job import claims_of, stacks_of
from tests.sweep.test_stacks import STACKABLE
from tests.sweep.test_sweep_run import sweep

KEYS = ["activation", "trainer.batch_size", "optimizer.lr"]
GROUPS = {"activation"}.__contains__
CLAIMS = "/nonexistent/claims"  # where jobs would claim stacks; no job runs in these tests


def grid(activations, batch_sizes, lrs) -> list[list[str]]:
    return [
        [f"activation={a}", f"trainer.batch_size={b}", f"optimizer.lr={lr}"]
        for a, b, lr in itertools.product(activations, batch_sizes, lrs)
    ]


def spec_of(job: list[str]) -> list[tuple[int | None, list[list[str]]]]:
    (override,) = [o for o in OverridesParser.create().parse_overrides(job) if o.key_or_group
                   == STACK_KEY]  # fmt: skip
    return stacks_of(override.value())


def test_each_worker_gets_a_job_of_its_own_stack_then_of_every_stack_opening_no_job(tmp_path):
    cells = grid(["relu"], [1, 4, 16, 64, 256], ["0.1", "1", "10"])
    stacks = form_stacks(cells, KEYS, STACKABLE, 64, 2)
    jobs = binned_jobs(cells, STACKABLE, 64, 2, GROUPS, claims=str(tmp_path))
    assert len(stacks) == 5 and len(jobs) == 2
    for index, job in enumerate(jobs):
        spec = spec_of(job)
        assert job[:3] == stacks[index][0]  # its own stack (one of the costliest) first ...
        assert [num for num, _ in spec] == [index, 2, 3, 4]  # ... then the shared, costliest first
        assert claims_of(OverridesParser.create().parse_overrides(job[3:])[0].value()) == tmp_path
        for num, runs in spec:
            head = job[:3]
            assert len(runs) == len(stacks[num])
            for cell, run in zip(stacks[num], runs):  # what differs from the job's own cell
                assert run == [item for item, mine in zip(cell, head)
                               if item != mine or item.startswith("optimizer.lr")]  # fmt: skip


def test_stacks_that_differ_in_a_group_choice_keep_a_job_each():
    cells = grid(["relu", "tanh"], [1, 16], ["0.1", "1"])
    jobs = stacked_jobs(cells, STACKABLE, 64, 2)
    assert binned_jobs(cells, STACKABLE, 64, 2, GROUPS, CLAIMS) == jobs and len(jobs) == 4


def test_no_fewer_jobs_than_workers_and_no_value_that_cannot_be_quoted():
    few = grid(["relu"], [1, 16], ["0.1", "1"])
    assert binned_jobs(few, STACKABLE, 64, 2, GROUPS, CLAIMS) == stacked_jobs(few, STACKABLE, 64, 2)
    odd = [[*cell[:2], cell[2].replace("0.1", "'0.1'")] for cell in grid(["relu"], [1, 4, 16],
                                                                        ["0.1", "1"])]  # fmt: skip
    assert binned_jobs(odd, STACKABLE, 64, 2, GROUPS, CLAIMS) == stacked_jobs(odd, STACKABLE, 64, 2)


def test_the_sweeper_bins_only_for_joblib_launching_everything_at_once():
    Plugins.instance()  # Hydra's plugin scan re-executes plugin modules: use the class it leaves
    sweeper = get_class(StackSweeperConf._target_)(max_batch_size=None)
    sweeper.stackable = frozenset(STACKABLE)
    repository = SimpleNamespace(group_exists=GROUPS)  # what Hydra's context holds
    sweeper.hydra_context = SimpleNamespace(config_loader=SimpleNamespace(repository=repository))
    sweep = ["trainer.batch_size=1,4,16", "optimizer.lr=0.1,1"]
    overrides = OverridesParser.create().parse_overrides(sweep)
    for target, size, jobs in ((JOBLIB, None, 2), (JOBLIB, 8, 3), ("other.Launcher", None, 3)):
        sweeper.config = OmegaConf.create({"hydra": {"launcher": {"_target_": target,
                                                                  "n_jobs": 2}}})  # fmt: skip
        assert [len(batch) for batch in sweeper.split_arguments(overrides, size)] == [jobs]


def hydra_file(folder: Path, sweep_dir: Path) -> dict:
    """A cell's hydra.yaml, its sweep folder and launch size set apart."""
    text = (folder / ".hydra" / "hydra.yaml").read_text().replace(str(sweep_dir), "SWEEP")
    hydra = yaml.safe_load(text)["hydra"]
    hydra["sweeper"].pop("max_batch_size")
    hydra["overrides"]["hydra"] = [o for o in hydra["overrides"]["hydra"] if "max_batch" not in o]
    return hydra


def log_text(folder: Path) -> str:
    text = (folder / "train.log").read_text().replace(str(folder.parent), "SWEEP")
    return re.sub(r"\(\d+\.\d+ s\)", "", text)  # timings


@pytest.mark.slow
def test_a_job_per_worker_leaves_the_files_a_job_per_stack_does(tmp_path):
    grid = ["trainer.batch_size=16,64,256", "optimizer.lr=0.01,0.5,-1", "trainer.epochs=2"]
    merged, apart = tmp_path / "merged", tmp_path / "apart"
    assert sweep(merged, *grid).returncode == 0
    assert sweep(apart, *grid, "hydra.sweeper.max_batch_size=99").returncode == 0  # a job each
    cells = sorted(p.parent.name for p in apart.glob("*/metrics.json"))
    assert len(cells) == 9 and sorted(p.parent.name for p in merged.glob("*/metrics.json")) == cells
    nums = set()
    for name in cells:
        a, b = apart / name, merged / name
        for file in ("config.yaml", "overrides.yaml"):
            assert (a / ".hydra" / file).read_text() == (b / ".hydra" / file).read_text()
        assert hydra_file(a, apart) == hydra_file(b, merged)
        metrics = [json.loads((f / "metrics.json").read_text()) for f in (a, b)]
        assert [{k: v for k, v in m.items() if k != "wall_seconds"} for m in metrics] == [
            {k: v for k, v in metrics[0].items() if k != "wall_seconds"}
        ] * 2
        assert log_text(a) == log_text(b)
        assert (a / "traceback.txt").exists() == (b / "traceback.txt").exists()
        nums.add(hydra_file(b, merged)["job"]["num"])
    assert nums == {0, 1, 2}  # each stack numbered as its own job, in 2 jobs


def test_a_launch_claims_in_a_new_folder_and_clears_those_of_killed_launches(monkeypatch, tmp_path):
    from hydra_plugins.trainmap_stack_sweeper import stack_sweeper

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    killed = tmp_path / f"{stack_sweeper.CLAIMS_PREFIX}{gone.stdout.strip()}-abc"
    running = tmp_path / f"{stack_sweeper.CLAIMS_PREFIX}{os.getppid()}-def"
    for folder in (killed, running):
        folder.mkdir()
        (folder / "3").touch()
    folder = Path(stack_sweeper._claims_folder())
    assert folder.is_dir() and folder.parent == tmp_path and not any(folder.iterdir())
    assert folder.name.startswith(f"{stack_sweeper.CLAIMS_PREFIX}{os.getpid()}-")
    assert not killed.exists() and (running / "3").exists()  # a live launch keeps its claims
