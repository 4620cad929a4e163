"""Run one round of attempts through the Hydra launcher the original runs were launched with.

A round is what a sweep is: jobs of overrides handed to the launcher (joblib, submitit, ...)
that composes, validates and trains each one in a worker, writing a normal run folder.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import yaml
from hydra import initialize_config_dir
from hydra._internal.callbacks import Callbacks
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.plugins import Plugins
from hydra.errors import HydraException
from hydra.types import HydraContext, RunMode
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from src.cli import hydra_message
from src.config_files import CONF_DIR, register_sweeps
from src.sweep.worker import run_cell

LAUNCHER_GROUP = "hydra/launcher"
log = logging.getLogger(__name__)


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
    """`value` as a single-quoted string of Hydra's override grammar (folder names hold commas)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def run_attempt(cfg: DictConfig) -> dict[str, Any]:
    """The task each launched job runs: a sweep cell's (resumable, errors recorded)."""
    from src.train import summary_line, train  # imported in the worker, as Hydra's task is

    out_dir = Path(HydraConfig.get().runtime.output_dir)
    metrics = run_cell(cfg, out_dir, train)
    log.info(summary_line(metrics, out_dir))
    return metrics


def launch_round(jobs: list[tuple[Path, list[str]]], launcher: list[str]) -> None:
    """Run each (folder, overrides) job through `launcher`; the folders share one parent."""
    if not jobs:
        return
    parent = jobs[0][0].parent
    register_sweeps()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3", job_name="train"):
        hydra = GlobalHydra.instance().hydra
        assert hydra is not None
        overrides = [*launcher, f"hydra.sweep.dir={quoted(str(parent))}"]
        cfg = hydra.compose_config("config", overrides, run_mode=RunMode.MULTIRUN)
        HydraConfig.instance().set_config(cfg)
        context = HydraContext(config_loader=hydra.config_loader, callbacks=Callbacks(cfg))
        runner = Plugins.instance().instantiate_launcher(
            hydra_context=context, task_function=run_attempt, config=cfg
        )
        job_overrides = [
            [*job, f"hydra.sweep.subdir={quoted(folder.name)}"] for folder, job in jobs
        ]
        try:
            runner.launch(job_overrides, initial_job_idx=0)
        except (HydraException, OmegaConfBaseException) as err:
            # The other jobs still ran; the one that could not compose has no result.
            print(f"error: {hydra_message(err)}", file=sys.stderr)
