"""A launch's first job runs on the config the sweeper composed for it, not a second one."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import cloudpickle
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.types import HydraContext
from omegaconf import OmegaConf

from hydra_plugins.trainmap_stack_sweeper._handover import HandedOver, compose_and_hand_over
from src.config_files import CONF_DIR

JOB = ["sweep=bs_lr", "trainer.batch_size=1", "optimizer.lr=0.1"]  # as a sweeper lists a job
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def hydra():
    """The config loader and a sweep's master config (with its hydra node), as a sweeper has."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        master = compose("config", overrides=["sweep=bs_lr"], return_hydra_config=True)
        _ = master.hydra.sweep.dir  # resolves `${now:...}` into the cache, as the sweeper does
        yield GlobalHydra.instance().config_loader(), master


def test_the_first_job_gets_the_sweepers_composition_once(hydra):
    loader, master = hydra
    launcher = SimpleNamespace(hydra_context=None, other=1)
    context = HydraContext(config_loader=loader, callbacks=None)
    compose_and_hand_over(launcher, context, master, JOB)
    assert launcher.hydra_context is None  # a launcher without a context is left as it is

    launcher.hydra_context = context
    compose_and_hand_over(launcher, context, master, JOB)
    handed = launcher.hydra_context.config_loader
    assert context.config_loader is loader  # the sweeper's own context is unchanged
    assert isinstance(handed, HandedOver)
    assert handed.get_search_path() is loader.get_search_path()  # the rest is the loader's

    fresh = loader.load_sweep_config(master, JOB)
    first = handed.load_sweep_config(master, JOB)
    assert OmegaConf.to_yaml(first) == OmegaConf.to_yaml(fresh)
    assert first.hydra.sweep.dir == master.hydra.sweep.dir  # the same resolved timestamp
    again = handed.load_sweep_config(master, JOB)  # composed anew: the job may change the first
    assert again is not first and OmegaConf.to_yaml(again) == OmegaConf.to_yaml(fresh)
    other = handed.load_sweep_config(master, [*JOB[:1], "trainer.batch_size=4", "optimizer.lr=0.1"])
    assert other.trainer.batch_size == 4


@pytest.mark.parametrize("dumps", [pickle.dumps, cloudpickle.dumps])
def test_the_composition_travels_with_the_context(hydra, dumps):
    loader, master = hydra
    handed = HandedOver(loader, JOB, loader.load_sweep_config(master, JOB))
    arrived = pickle.loads(dumps(handed))  # as a worker receives the launcher's context
    config = arrived.load_sweep_config(master, JOB)
    assert OmegaConf.to_yaml(config) == OmegaConf.to_yaml(loader.load_sweep_config(master, JOB))
    assert config.hydra.sweep.dir == master.hydra.sweep.dir


COUNTED = """
import sys
from hydra._internal.config_loader_impl import ConfigLoaderImpl
calls = []
original = ConfigLoaderImpl._load_configuration_impl
def counted(self, *args, **kwargs):
    calls.append(1)
    return original(self, *args, **kwargs)
ConfigLoaderImpl._load_configuration_impl = counted
from src.cli import run_cli
from src.train import cli
sys.argv = ["src.train", *sys.argv[1:]]
try:
    run_cli(cli)
finally:
    print("compositions", len(calls))
"""


@pytest.mark.parametrize(("grid", "compositions"), [
    (["optimizer.lr=0.1,1", "trainer.batch_size=8,16"], 1 + 1 + 0),  # one job, both stacks
    (["optimizer.lr=0.1,1", "activation=relu,tanh"], 1 + 2 + 1),  # a job per activation
])  # fmt: skip
def test_a_sweep_composes_its_first_job_once(tmp_path, grid, compositions):
    """One worker: the jobs run in the launching process, where compositions can be counted:
    the primary config once (the mode set as a named sweep sets it), each job the sweeper checks
    (a new group option makes one), then every job but the first where it runs."""
    args = ["hydra.mode=MULTIRUN", *grid, "trainer.epochs=1", "logger=none", "theory.enabled=false",
            f"hydra.sweep.dir={tmp_path}", "hydra.launcher.n_jobs=1"]  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", COUNTED, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f"compositions {compositions}\n" in proc.stdout
    assert len(list(tmp_path.glob("*/metrics.json"))) == 4
