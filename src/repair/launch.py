"""Run one round of attempts through the Hydra launcher the original runs were launched with.

A round is what a sweep is: jobs of overrides handed to the launcher (joblib, submitit, ...)
that composes, validates and trains each one in a worker, writing a normal run folder. As in a
stacked sweep, attempts whose overrides differ only in stackable keys (src/stackable.py) are one
job that trains them together; each still gets its own folder, named by its own
`hydra.sweep.subdir` override, which rides in the stack with its stackable values.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml
from hydra import initialize_config_dir
from hydra._internal.callbacks import Callbacks
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.plugins import Plugins
from hydra.errors import HydraException
from hydra.types import HydraContext, RunMode
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from hydra_plugins.trainmap_stack_sweeper._stacks import cost, stacked_jobs, worker_count
from src.cli import hydra_message
from src.config_files import CONF_DIR, register_sweeps
from src.stackable import STACKABLE_KEYS
from src.sweep.stack_job import run_job

LAUNCHER_GROUP = "hydra/launcher"
FOLDER_KEY = "hydra.sweep.subdir"
ATTEMPT_STACKABLE = STACKABLE_KEYS | {FOLDER_KEY}  # an attempt's folder rides in its stack


def launcher_overrides(run_dir: Path) -> list[str]:
    """The launcher a run was started with (`hydra/launcher=...` and its settings), as overrides."""
    try:
        hydra_cfg = yaml.safe_load((run_dir / ".hydra" / "hydra.yaml").read_text())["hydra"]
        choice = hydra_cfg["runtime"]["choices"][LAUNCHER_GROUP]
        recorded = hydra_cfg["overrides"]["hydra"] or []
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return []  # a hand-made run folder: the default launcher
    settings = [o for o in recorded if str(o).lstrip("+").startswith("hydra.launcher.")]
    return [f"{LAUNCHER_GROUP}={choice}", *settings]


def quoted(value: str) -> str:
    """`value` as a double-quoted string of Hydra's override grammar (folder names hold commas;
    a stack job lists its cells' overrides in single quotes). Backslashes are doubled only
    before a quote or the end, as the grammar reads them."""
    return '"' + re.sub(r'(\\*)("|$)', _escape, value) + '"'


def _escape(match: re.Match) -> str:
    slashes, quote = match.groups()
    return slashes * 2 + ("\\" + quote if quote else "")


def run_attempt(cfg: DictConfig) -> None:
    """The task each launched job runs: a sweep job's, one attempt or a stack of them
    (resumable, errors recorded per attempt)."""
    from src.train import TASK  # in the worker

    run_job(cfg, HydraConfig.instance().cfg, TASK)


def stacked_attempts(
    jobs: list[tuple[Path, list[str]]], max_stack: int, workers: int
) -> list[list[str]]:
    """The round's job overrides: attempts naming the same keys (their order aside) and equal
    outside the stackable ones train as one stack. Key groups share the `workers` by cost."""
    groups: dict[tuple[str, ...], list[list[str]]] = {}
    for folder, overrides in jobs:
        cell = [*sorted(overrides, key=_key), f"{FOLDER_KEY}={quoted(folder.name)}"]
        groups.setdefault(tuple(map(_key, cell)), []).append(cell)
    costs = {keys: cost(cells, keys) for keys, cells in groups.items()}
    total = sum(costs.values())
    launched = []
    for keys in sorted(groups, key=lambda k: -costs[k]):  # the costliest first
        share = max(1, round(workers * costs[keys] / total))
        launched += stacked_jobs(groups[keys], ATTEMPT_STACKABLE, max_stack, share)
    return launched


def _key(override: str) -> str:
    return override.split("=", 1)[0]


def launch_round(jobs: list[tuple[Path, list[str]]], launcher: list[str]) -> None:
    """Run each (folder, overrides) attempt through `launcher`, in stacks where they can train
    together; the folders share one parent."""
    if not jobs:
        return
    register_sweeps()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3", job_name="train"):
        hydra = GlobalHydra.instance().hydra
        assert hydra is not None
        overrides = [*launcher, "hydra/sweeper=stacked",
                     f"hydra.sweep.dir={quoted(str(jobs[0][0].parent))}"]  # fmt: skip
        cfg = hydra.compose_config("config", overrides, run_mode=RunMode.MULTIRUN)
        HydraConfig.instance().set_config(cfg)
        context = HydraContext(config_loader=hydra.config_loader, callbacks=Callbacks(cfg))
        runner = Plugins.instance().instantiate_launcher(
            hydra_context=context, task_function=run_attempt, config=cfg
        )
        workers = worker_count(OmegaConf.select(cfg, "hydra.launcher.n_jobs"))
        stacks = stacked_attempts(jobs, int(cfg.hydra.sweeper.max_stack), workers)
        if len(stacks) < len(jobs):  # see src/stackable.py
            plural = "s" * (len(stacks) != 1)
            print(f"  as {len(stacks)} job{plural}: those that differ only in lr, seed, ... "
                  "train as one")  # fmt: skip
        try:
            runner.launch(stacks, initial_job_idx=0)
        except (HydraException, OmegaConfBaseException) as err:
            # The other jobs still ran; the attempts of the one that could not compose have no
            # result.
            print(f"error: {hydra_message(err)}", file=sys.stderr)
