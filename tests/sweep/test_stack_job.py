"""A stack job: its cells' configs derived from one composition, and errors kept per cell."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from hydra_plugins.trainmap_stack_sweeper._bins import binned_jobs
from hydra_plugins.trainmap_stack_sweeper._stacks import form_stacks, stack_job
from src.errors import ConfigError
from src.results import METRICS, read_metrics
from src.stackable import STACKABLE_KEYS
from src.sweep.stack_job import (
    Run,
    SectionedYaml,
    StackJob,
    Task,
    dump_yaml,
    run_stack,
    save,
    stacks_of,
)
from tests.conftest import CONF_DIR

SWEEP = [
    "experiment=tanh_fullbatch", "optimizer=momentum", "activation=relu,tanh",
    "optimizer.lr=0.5,1e-2", "optimizer.momentum=0.5,0.9", "trainer.seed=1", "trainer.epochs=3",
]  # fmt: skip


def split(config: DictConfig) -> tuple[DictConfig, DictConfig]:
    """(task config, Hydra config) of a composed job, as a running job sees them."""
    task = OmegaConf.masked_copy(config, [k for k in config if k != "hydra"])
    OmegaConf.set_struct(task, True)
    return task, OmegaConf.masked_copy(config, "hydra")


def hydra_part(root: DictConfig) -> dict:
    container = OmegaConf.to_container(root.hydra)
    container["runtime"].pop("output_dir")  # set by the job (checked apart)
    return container


# Hydra's default folder names, and names from task keys (resolved against the whole config)
@pytest.mark.parametrize("subdir", [None, "lr${optimizer.lr}_m${optimizer.momentum}"])
def test_derived_configs_equal_hydras_composition_of_each_cell(tmp_path, subdir):
    sweep = [*SWEEP, f"hydra.sweep.dir={tmp_path}"]
    sweep += [f"hydra.sweep.subdir={subdir}"] if subdir else []
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        master = loader.load_configuration("config", sweep, RunMode.MULTIRUN)
        cells = [
            [*SWEEP[:2], f"activation={a}", f"optimizer.lr={lr}", f"optimizer.momentum={m}",
             *SWEEP[-2:]]
            for a in ("relu", "tanh") for lr in ("0.5", "1e-2") for m in ("0.5", "0.9")
        ]  # fmt: skip
        keys = [c.split("=")[0] for c in cells[0]]
        stacks = form_stacks(cells, keys, STACKABLE_KEYS, max_stack=64, workers=1)
        assert [len(s) for s in stacks] == [4, 4]  # split by activation only
        checked = 0
        for stack in stacks:
            job = loader.load_sweep_config(master, stack_job(stack, keys, STACKABLE_KEYS))
            stack_job_ = StackJob(*split(job))
            [(_, runs)] = stacks_of(job.hydra.sweeper.stack)
            for cell, overrides in zip(stack, runs):
                run = stack_job_.derive(list(overrides))
                own = loader.load_sweep_config(master, cell)
                folder = str(own.hydra.sweep.subdir)  # as Hydra resolves it in the job
                own_task, own_hydra = split(own)
                assert OmegaConf.to_container(run.cfg) == OmegaConf.to_container(own_task)
                assert run.cfg == own_task  # the values train() reads, too
                hydra = OmegaConf.create(run.files[".hydra/hydra.yaml"])
                assert hydra_part(hydra) == hydra_part(own_hydra)
                assert run.out_dir == tmp_path / folder
                assert hydra.hydra.runtime.output_dir == os.path.abspath(tmp_path / folder)
                assert OmegaConf.create(run.files[".hydra/overrides.yaml"]) == cell
                assert OmegaConf.create(run.files[".hydra/config.yaml"]) == own_task
                own_hydra.hydra.runtime.output_dir = os.path.abspath(tmp_path / folder)
                # Text for text what Hydra writes for a job of its own (`OmegaConf.save`)
                assert run.files[".hydra/hydra.yaml"] == OmegaConf.to_yaml(own_hydra)
                assert run.files[".hydra/config.yaml"] == OmegaConf.to_yaml(own_task)
                assert run.files[".hydra/overrides.yaml"] == OmegaConf.to_yaml(cell)
                checked += 1
    assert checked == 8


def numbered(job: DictConfig, num: int) -> DictConfig:
    """A composed job as the joblib launcher numbers it."""
    job.hydra.job.num, job.hydra.job.id = num, f"{job.hydra.job.name}_{num}"
    return job


def test_a_job_of_several_stacks_derives_each_cell_as_its_own_stacks_job_would(tmp_path):
    base = ["optimizer=momentum", "trainer.epochs=3", f"hydra.sweep.dir={tmp_path}"]
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        master = loader.load_configuration("config", base, RunMode.MULTIRUN)
        cells = [
            [*base[:2], f"trainer.batch_size={b}", f"optimizer.lr={lr}", f"optimizer.momentum={m}"]
            for b in (1, 4, 16, 64) for lr in ("0.5", "1e-2") for m in ("0.5", "0.9")
        ]  # fmt: skip
        keys = [c.split("=")[0] for c in cells[0]]
        stacks = form_stacks(cells, keys, STACKABLE_KEYS, max_stack=64, workers=2)
        jobs = binned_jobs(cells, STACKABLE_KEYS, 64, 2, loader.repository.group_exists,
                           claims=str(tmp_path / "claims"))  # fmt: skip
        assert len(stacks) == 4 and len(jobs) == 2  # one job per worker
        seen = []
        for index, overrides in enumerate(jobs):
            composed = numbered(loader.load_sweep_config(master, overrides), index)
            spec = stacks_of(composed.hydra.sweeper.stack)
            job = StackJob(*split(composed))
            assert spec[0][0] == index  # its first stack is the one its own job would be
            for num, runs in spec:
                for cell, run_overrides in zip(stacks[num], runs):
                    run = job.derive(run_overrides, num)
                    own = numbered(loader.load_sweep_config(master, cell), num)
                    own_task, own_hydra = split(own)
                    assert run.cfg == own_task
                    assert OmegaConf.to_container(run.cfg) == OmegaConf.to_container(own_task)
                    hydra = OmegaConf.create(run.files[".hydra/hydra.yaml"])
                    assert hydra_part(hydra) == hydra_part(own_hydra)
                    assert OmegaConf.create(run.files[".hydra/overrides.yaml"]) == cell
                    assert run.out_dir == tmp_path / own_hydra.hydra.job.override_dirname
                    own_hydra.hydra.runtime.output_dir = str(run.out_dir)
                    assert run.files[".hydra/hydra.yaml"] == OmegaConf.to_yaml(own_hydra)
                    assert run.files[".hydra/config.yaml"] == OmegaConf.to_yaml(own_task)
                    seen.append(cell)
    shared = [cell for stack in stacks[2:] for cell in stack]  # in both jobs: either may claim
    assert sorted(map(tuple, seen)) == sorted(map(tuple, cells + shared))


def test_the_hydra_files_are_omegaconfs_yaml_text_for_text(tmp_path):
    awkward = {"bool": "true", "int": "1", "float": "1e-3", "none": None, "text": "naïve: #1",
               "long": "x" * 120 + " y", "lines": "a\nb", "list": [1.5, "off", "${x}"]}  # fmt: skip
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        job = loader.load_configuration("config", [f"hydra.sweep.dir={tmp_path}"], RunMode.MULTIRUN)
    for node in (*split(job), job.hydra.overrides.task, OmegaConf.create(awkward)):
        text = OmegaConf.to_yaml(node)
        assert dump_yaml(OmegaConf.to_container(node, resolve=False, enum_to_str=True)) == text
        if isinstance(node, DictConfig):  # section by section, as a cell's files are written
            assert SectionedYaml(node).text(node, changed=()) == text


def fake_run(tmp_path: Path, x: float) -> Run:
    files = {".hydra/overrides.yaml": f"- x={x}\n"}
    return Run(OmegaConf.create({"x": x}), tmp_path / f"x={x}", files)


class Trainer:
    """Fake train/train_stack/validate: x=2 fails while training, x<0 fails validation."""

    def __init__(self) -> None:
        self.trained: list[float] = []

    def train(self, cfg: DictConfig, out_dir: Path) -> dict:
        self.validate(cfg)
        self.trained.append(cfg.x)
        if cfg.x == 2:
            raise FloatingPointError("boom")
        metrics = {"outcome": "converged", "x": cfg.x}
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / METRICS).write_text(json.dumps(metrics))
        return metrics

    def train_stack(self, cfgs: list[DictConfig], out_dirs: list[Path]) -> list[dict]:
        return [self.train(cfg, out_dir) for cfg, out_dir in zip(cfgs, out_dirs)]

    @staticmethod
    def validate(cfg: DictConfig) -> None:
        if cfg.x < 0:
            raise ConfigError(f"x={cfg.x}: expected >= 0")


@pytest.mark.parametrize("failing", [False, True])
def test_a_failed_run_is_recorded_on_its_own_cell_only(tmp_path, failing):
    xs = [0, 1, 2, 3, -1, 5, 6] if failing else [0, 1, 3, -1, 5, 6]
    runs = [fake_run(tmp_path, x) for x in xs]
    for run in runs:
        save(run)
    done = runs[-2].out_dir / METRICS  # finished by an earlier sweep: not trained again
    done.write_text(json.dumps({"outcome": "diverged", "x": 5}))
    retried = runs[-1].out_dir / METRICS  # an earlier error: trained again
    retried.write_text(json.dumps({"outcome": "error", "x": 6}))
    trainer = Trainer()
    task = Task(
        trainer.train,
        trainer.train_stack,
        trainer.validate,
        report=lambda m, d: "",
        validate_stackable=trainer.validate,
    )
    results = run_stack(runs, task)

    assert [out_dir for out_dir, _ in results] == [run.out_dir for run in runs]
    outcomes = {run.cfg.x: read_metrics(run.out_dir)["outcome"] for run in runs}
    bad = {2, -1} if failing else {-1}
    expected = {x: "error" if x in bad else "diverged" if x == 5 else "converged" for x in xs}
    assert outcomes == expected
    assert {x for x in xs if (tmp_path / f"x={x}" / "traceback.txt").exists()} == bad
    assert "x=-1: expected >= 0" in read_metrics(tmp_path / "x=-1")["error"]
    # Each good run trained once: in the stack, or (after the stack failed at x=2) alone.
    assert sorted(x for x in trainer.trained if x not in bad) == [0, 1, 3, 6]
    assert [r[1]["outcome"] for r in results] == [outcomes[x] for x in xs]
    assert OmegaConf.load(runs[0].out_dir / ".hydra" / "overrides.yaml") == ["x=0"]


def test_only_the_first_run_to_train_is_validated_in_full(tmp_path):
    runs = [fake_run(tmp_path, x) for x in (0, -1, 1, 3)]
    for run in runs:
        save(run)
    (runs[0].out_dir / METRICS).write_text(json.dumps({"outcome": "converged", "x": 0}))
    trainer, full, values = Trainer(), [], []

    def validate(cfg):
        full.append(cfg.x)
        trainer.validate(cfg)

    def validate_stackable(cfg):
        values.append(cfg.x)
        trainer.validate(cfg)

    run_stack(runs, Task(trainer.train, trainer.train_stack, validate, lambda m, d: "",
                         validate_stackable))  # fmt: skip
    # x=0 is finished; x=-1 fails in full and trains alone (an error cell); x=1
    # is the stack's first run, so x=3 needs only its stackable values checked.
    assert full == [-1, 1] and values == [3]


def test_a_cells_own_hydra_override_sets_its_folder_as_its_own_job_would(tmp_path):
    base = ["optimizer.lr=0.5", f"hydra.sweep.dir={tmp_path}"]
    cells = [["trainer.epochs=3", f"optimizer.lr={lr}", f'hydra.sweep.subdir="{name}"']
             for lr, name in (("0.5", "a,b=1.repair1"), ("0.1", "c.repair2"))]  # fmt: skip
    stackable = STACKABLE_KEYS | {"hydra.sweep.subdir"}
    keys = [c.split("=")[0] for c in cells[0]]
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        master = loader.load_configuration("config", base, RunMode.MULTIRUN)
        job = loader.load_sweep_config(master, stack_job(cells, keys, stackable))
        stack = StackJob(*split(job))
        [(_, runs)] = stacks_of(job.hydra.sweeper.stack)
        for cell, name in zip(cells, ("a,b=1.repair1", "c.repair2")):
            run = stack.derive(runs[cells.index(cell)])
            own_task, own_hydra = split(loader.load_sweep_config(master, cell))
            assert run.out_dir == tmp_path / name
            assert run.cfg == own_task and "hydra" not in run.cfg
            hydra = OmegaConf.create(run.files[".hydra/hydra.yaml"])
            assert hydra_part(hydra) == hydra_part(own_hydra)
            assert OmegaConf.create(run.files[".hydra/overrides.yaml"]) == cell[:2]
            own_hydra.hydra.runtime.output_dir = str(run.out_dir)
            assert run.files[".hydra/hydra.yaml"] == OmegaConf.to_yaml(own_hydra)


def test_the_jobs_of_a_launch_train_each_shared_stack_once(monkeypatch, tmp_path):
    from src.sweep import stack_job as module

    trained = []
    monkeypatch.setattr(module, "StackJob", lambda cfg, hydra: "job")
    monkeypatch.setattr(module, "_stack", lambda job, k, num, runs, task: trained.append(num) or [])
    for own in (0, 1):  # a launch's two jobs (here one after the other)
        stacks = [[own, ["optimizer.lr=1"]], [2, ["optimizer.lr=2"]], [3, ["optimizer.lr=3"]]]
        spec = json.dumps({"claims": str(tmp_path), "stacks": stacks})
        hydra = OmegaConf.create({"hydra": {"sweeper": {"stack": spec}}})
        module.run_job(OmegaConf.create({}), hydra, task=None)
    assert trained == [0, 2, 3, 1]  # each its own stack; a shared one by the first job free
    assert sorted(path.name for path in tmp_path.iterdir()) == ["2", "3"]  # the claims


def test_a_stack_that_cannot_be_set_up_leaves_the_jobs_later_stacks_running(monkeypatch, tmp_path):
    from src.sweep import stack_job as module

    tried = []

    def fake_stack(job, k, num, overrides, task):
        tried.append((k, num, overrides))
        if k == 0:
            raise ValueError("cannot derive stack 0")
        return [(Path(f"cell{k}"), {"outcome": "converged"})]

    monkeypatch.setattr(module, "StackJob", lambda cfg, hydra: "job")
    monkeypatch.setattr(module, "_stack", fake_stack)
    stacks = [[3, ["optimizer.lr=1"]], [4, ["optimizer.lr=2"]]]  # two stacks: jobs 3 and 4
    spec = json.dumps({"claims": str(tmp_path), "stacks": stacks})
    hydra = OmegaConf.create({"hydra": {"sweeper": {"stack": spec}}})
    with pytest.raises(ValueError, match="cannot derive stack 0"):  # Hydra reports it ...
        module.run_job(OmegaConf.create({}), hydra, task=None)
    assert tried == [(0, 3, [["optimizer.lr=1"]]), (1, 4, [["optimizer.lr=2"]])]  # ... after both
