"""A repair round trains its attempts as stacks, as a stacked sweep trains its cells."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser

from src.repair import launch
from src.repair.launch import launch_round, stacked_attempts
from src.results import read_metrics
from src.sweep.stack_job import stacks_of
from tests.repair.test_launch import write_hydra_yaml

STACK = "hydra.sweeper.stack="


def folders(job: list[str]) -> list[str]:
    """The attempt folders a job trains: each stack entry's subdir, or the job's own."""
    parse = OverridesParser.create().parse_overrides
    if job[-1].startswith(STACK):
        entries = [run for _, runs in stacks_of(parse([job[-1]])[0].value()) for run in runs]
        return [o.value() for entry in entries for o in parse(entry) if "subdir" in o.key_or_group]
    return [o.value() for o in parse(job) if o.key_or_group == "hydra.sweep.subdir"]


def attempt(name: str, *overrides: str) -> tuple[Path, list[str]]:
    return Path("/sweep/repairs") / name, list(overrides)


def test_attempts_that_differ_only_in_stackable_values_are_one_job():
    jobs = [
        attempt("a,lr=1.repair1", "trainer.batch_size=64", "optimizer.lr=0.01"),
        attempt("b.repair1", "optimizer.lr=0.1", "trainer.batch_size=64"),  # other order
        attempt("c.repair2", "trainer.batch_size=64", "optimizer.lr=1", "trainer.seed=3"),
        attempt("d.repair1", "trainer.batch_size=64", "optimizer.lr=0.3", "trainer.seed=4"),
        attempt("e.repair1", "trainer.batch_size=16", "optimizer.lr=0.1"),  # another batch size
    ]
    launched = stacked_attempts(jobs, max_stack=64, workers=1)
    assert sorted(map(folders, launched)) == [
        ["a,lr=1.repair1", "b.repair1"], ["c.repair2", "d.repair1"], ["e.repair1"],
    ]  # fmt: skip
    (pair,) = [job for job in launched if folders(job)[0] == "a,lr=1.repair1"]
    assert pair[:2] == ["optimizer.lr=0.01", "trainer.batch_size=64"]  # the first attempt's


def test_a_folder_name_the_stack_list_cannot_quote_trains_alone():
    jobs = [attempt(name, "optimizer.lr=0.1") for name in ("plain", "it's", "other")]
    launched = stacked_attempts(jobs, max_stack=64, workers=1)
    assert sorted(map(folders, launched)) == [["it's"], ["plain", "other"]]


def test_the_costliest_key_group_gets_the_workers():
    per_sample = [attempt(f"one{i}", "trainer.batch_size=1", f"optimizer.lr={i}") for i in range(4)]
    longer = [attempt(f"long{i}", "trainer.batch_size=128", f"optimizer.lr={i}",
                      "trainer.epochs=40") for i in range(4)]  # fmt: skip
    launched = stacked_attempts([*longer, *per_sample], max_stack=64, workers=2)
    assert [len(folders(job)) for job in launched] == [2, 2, 4]  # batch size 1 split, first
    assert all(name.startswith("one") for job in launched[:2] for name in folders(job))


@pytest.mark.slow
def test_a_round_of_stackable_attempts_is_fewer_jobs_with_the_outcomes_of_one_job_each(
    tmp_path, monkeypatch
):
    jobs_run = []

    def counted(*args):
        jobs_run.append(args)
        return run_job(*args)

    run_job = launch.run_job
    monkeypatch.setattr(launch, "run_job", counted)
    base = ["logger=none", "trainer.epochs=3", "theory.enabled=false"]
    attempts = [[*base, "trainer.batch_size=64", f"optimizer.lr={lr}"] for lr in (0.01, 0.3, 30)]
    attempts.append([*base, "trainer.batch_size=16", "optimizer.lr=0.3"])
    outcomes = {}
    for way, max_stack in (("stacked", 64), ("alone", 1)):
        jobs_run.clear()
        parent = tmp_path / way / "repairs"
        jobs = [(parent / f"cell{i}.repair1", o) for i, o in enumerate(attempts)]
        launch_round(jobs, ["hydra/launcher=basic", f"hydra.sweeper.max_stack={max_stack}"])
        assert len(jobs_run) == (2 if way == "stacked" else 4)
        outcomes[way] = [read_metrics(folder) for folder, _ in jobs]
        for folder, overrides in jobs:
            recorded = yaml.safe_load((folder / ".hydra" / "overrides.yaml").read_text())
            assert sorted(recorded) == sorted(overrides)
            hydra = yaml.safe_load((folder / ".hydra" / "hydra.yaml").read_text())["hydra"]
            assert hydra["runtime"]["output_dir"] == str(folder)
    assert {m["outcome"] for m in outcomes["alone"]} >= {"converged", "stalled"}
    for stacked, alone in zip(outcomes["stacked"], outcomes["alone"]):
        assert {k: v for k, v in stacked.items() if k != "wall_seconds"} == {
            k: v for k, v in alone.items() if k != "wall_seconds"
        }


def test_the_launcher_of_the_original_runs_still_starts_the_round(tmp_path):
    write_hydra_yaml(tmp_path, "joblib", ["hydra.launcher.n_jobs=2"])
    assert launch.launcher_overrides(tmp_path)[0] == "hydra/launcher=joblib"
