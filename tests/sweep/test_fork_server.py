"""The joblib launcher's workers, forked from a server that has imported the trainer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf, open_dict

from hydra_plugins.trainmap_stack_sweeper._bins import JOBLIB
from src.sweep import fork_server
from src.sweep.fork_server import LAUNCHER_JOB, preload, worker_threads
from src.sweep.worker_imports import VARIABLE
from tests.conftest import compose_config
from tests.sweep.test_sweep_run import sweep

ROOT = Path(__file__).resolve().parents[2]


def test_a_worker_preloads_the_trainer_and_the_configs_targets_but_not_the_entry_point():
    config = compose_config("logger=tensorboard")
    with open_dict(config):
        config.hydra = {"launcher": {"_target_": "not.Imported"}}
    modules = preload(config)
    assert "src.logger.tensorboard" in modules  # the config's logger: tensorboardX, ~0.2 s
    assert "src.dataset.digits" in modules and LAUNCHER_JOB in modules
    assert "not" not in modules  # hydra.* targets are the parent's business
    main = sys.modules["__main__"].__spec__
    assert main is None or main.name not in modules


def test_workers_get_the_thread_limits_loky_would_give_them(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")  # the user's setting wins, as with loky
    monkeypatch.setattr(fork_server, "cpu_count", lambda: 4)
    limits = worker_threads(2)
    assert limits["OMP_NUM_THREADS"] == "2" and limits["OPENBLAS_NUM_THREADS"] == "2"
    assert limits["MKL_NUM_THREADS"] == "3"
    assert worker_threads(8)["OMP_NUM_THREADS"] == "1"


@pytest.mark.parametrize(
    ("launcher", "method", "starts"),
    [({"_target_": JOBLIB, "n_jobs": 2}, None, True),
     ({"_target_": JOBLIB, "n_jobs": 2}, "forkserver", True),  # a later sweep
     ({"_target_": JOBLIB, "n_jobs": 1}, None, False),  # no workers
     ({"_target_": JOBLIB, "n_jobs": 2}, "loky", False),  # the user's choice
     ({"_target_": "hydra_plugins.x.SubmititLauncher"}, None, False)],
)  # fmt: skip
def test_only_the_joblib_launchers_workers_are_forked(monkeypatch, launcher, method, starts):
    calls = []
    monkeypatch.setattr(fork_server, "get_start_method", lambda: method)
    monkeypatch.setattr(fork_server, "set_start_method", calls.append)
    monkeypatch.setattr(fork_server.forkserver, "ensure_running", lambda: calls.append("run"))
    monkeypatch.setattr(fork_server.forkserver, "set_forkserver_preload", lambda names: None)
    fork_server.start_fork_server(OmegaConf.create({"hydra": {"launcher": launcher}}))
    expected = (["run", "forkserver"] if method is None else ["run"]) if starts else []
    assert calls == expected


def test_the_servers_imports_go_past_a_module_that_fails(tmp_path):
    """The fork server itself stops at a module raising anything but ImportError, and then no
    worker starts: its imports skip such a module (a worker meets the error on its own)."""
    (tmp_path / "broken_target.py").write_text("raise RuntimeError('cannot be imported')\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}",
           VARIABLE: "broken_target,no_such_module,colorsys"}  # fmt: skip
    code = ("import sys, src.sweep.worker_imports; "
            "print(sorted(set(sys.modules) & {'colorsys', 'broken_target'}))")  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['colorsys']"


WORKER_PROBE = """
import json, os, sys
from joblib import Parallel, delayed
from tests.conftest import compose_config
from tests.sweep.test_sweep_run import sweep
from omegaconf import open_dict
from hydra_plugins.trainmap_stack_sweeper._bins import JOBLIB
from src.sweep.fork_server import start_fork_server

def probe():
    return [os.getppid(), os.environ.get("OPENBLAS_NUM_THREADS"), "src.build" in sys.modules]

config = compose_config()
with open_dict(config):
    config.hydra = {"launcher": {"_target_": JOBLIB, "n_jobs": 2}}
import src.build  # as the entry point has, at a sweep's start; a spawned worker would not
start_fork_server(config)
print(json.dumps([os.getpid(), Parallel(n_jobs=2, backend="loky")(delayed(probe)() for _ in "ab")]))
"""


@pytest.mark.slow
def test_workers_come_from_the_server_preloaded_and_with_one_blas_thread():
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    proc = subprocess.run([sys.executable, "-c", WORKER_PROBE], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    parent, workers = json.loads(proc.stdout)
    for ppid, threads, preloaded in workers:
        assert ppid != parent  # forked by the server, not started by this process
        assert threads == str(max(os.cpu_count() // 2, 1)) and preloaded


@pytest.mark.slow
def test_a_target_that_cannot_be_imported_fails_its_cells_not_the_sweep(tmp_path, monkeypatch):
    (tmp_path / "broken_target.py").write_text("raise RuntimeError('cannot be imported')\n")
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}{os.pathsep}{ROOT}")
    proc = sweep(tmp_path / "sweep", "optimizer.lr=0.1,0.2", "dataset._target_=broken_target.X",
                 "trainer.epochs=1")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    outcomes = [json.loads(p.read_text())["outcome"] for p in tmp_path.glob("sweep/*/metrics.json")]
    assert outcomes == ["error", "error"]
