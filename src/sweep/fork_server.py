"""Start the joblib launcher's workers from a process that has already imported the trainer.

Loky starts each worker as a fresh interpreter, which then imports NumPy, Hydra and the trainer
(~0.5 s) before its first job: on a 35-cell sweep that is a tenth of the wall time. A fork
server (the standard library's `forkserver` start method, which loky accepts) imports them once,
in parallel with the parent's composition of the sweep, and forks each worker ready to run.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing.forkserver as forkserver
import os
import sys
from collections.abc import Iterator
from typing import Any

from joblib import cpu_count
from joblib._parallel_backends import LokyBackend
from joblib.externals.loky.backend.context import get_start_method, set_start_method
from omegaconf import DictConfig, OmegaConf

from hydra_plugins.trainmap_stack_sweeper._bins import JOBLIB
from hydra_plugins.trainmap_stack_sweeper._stacks import worker_count
from src.sweep import worker_imports  # for its names: it imports only where its variable is set

log = logging.getLogger(__name__)
LAUNCHER_JOB = "hydra_plugins.hydra_joblib_launcher._core"  # the function a worker runs


def start_fork_server(config: DictConfig) -> None:
    """Have the joblib launcher's workers forked from a preloaded fork server; nothing for other
    launchers, when one job runs at a time (no workers), or when the user chose loky's start
    method. A later sweep of the process reuses the server."""
    launcher, method = config.hydra.launcher, get_start_method()
    if launcher.get("_target_") != JOBLIB or method not in (None, "forkserver"):
        return
    workers = worker_count(launcher.get("n_jobs"))  # as the stacked sweeper counts them
    if workers < 2:  # joblib runs the jobs in this process
        return
    forkserver.set_forkserver_preload([worker_imports.__name__])  # it imports the others
    # Loky gives its own workers these (one BLAS thread per core and worker); forked workers
    # inherit the server's environment instead.
    names = {worker_imports.VARIABLE: ",".join(preload(config))}
    try:
        with _environ({**worker_threads(workers), **names}):
            forkserver.ensure_running()  # starts importing now, while the sweep is composed
    except OSError as err:  # no server: loky starts its workers as it always does
        log.warning(f"workers start without a fork server ({err})")
        return
    if method is None:
        set_start_method("forkserver")


def preload(config: DictConfig) -> list[str]:
    """What a worker imports before its first job: the launcher's job function, the trainer's
    modules this process has imported (and through them NumPy, Hydra, OmegaConf) and those of
    the config's `_target_`s (e.g. the TensorBoard logger's tensorboardX, ~0.2 s), except the
    entry point: each worker runs that as its main module, as a spawned one does, and would
    warn that it had been imported already."""
    main = getattr(sys.modules["__main__"].__spec__, "name", None)
    groups = OmegaConf.to_container(config, resolve=False)
    targets = {target.rsplit(".", 1)[0] for target in _targets(groups, skip="hydra")}
    mine = {name for name in sys.modules if name.split(".")[0] == "src"}
    return [*sorted((mine | targets) - {main}), LAUNCHER_JOB]


def _targets(node: Any, skip: str) -> Iterator[str]:
    """Every `_target_` string in a plain config, outside its top-level key `skip`."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "_target_" and isinstance(value, str):
                yield value
            elif key != skip:
                yield from _targets(value, skip="")
    elif isinstance(node, list):
        for value in node:
            yield from _targets(value, skip="")


def worker_threads(workers: int) -> dict[str, str]:
    """The thread limits joblib's loky backend sets in each worker's environment."""
    threads = str(max(cpu_count() // workers, 1))
    limits = {var: os.environ.get(var, threads) for var in LokyBackend.MAX_NUM_THREADS_VARS}
    ipc = LokyBackend.TBB_ENABLE_IPC_VAR
    return {**limits, ipc: os.environ.get(ipc, "1")}


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """`values` set in os.environ (for the processes started meanwhile), restored after."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
