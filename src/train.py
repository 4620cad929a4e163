"""Compose a run from the config groups, train it and record its outcome.

Usage: `python -m src.train [group=option ...] [key=value ...]`, e.g.
`python -m src.train activation=sigmoid optimizer.lr=3 trainer.batch_size=1`.
"""

from __future__ import annotations

import gc
import logging
import math
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import hydra
import numpy as np
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.utils import instantiate
from omegaconf import DictConfig

from src.build import build, load_data
from src.checks import check_node
from src.cli import report_errors, run_cli
from src.config_files import CONF_DIR, register_sweeps
from src.dataset.base import Dataset
from src.diagnosis import signals as sig
from src.diagnosis.evidence import stack_facts
from src.diagnosis.report import cause_lines
from src.errors import ConfigError
from src.logger.base import RunFacts
from src.names import OVERRIDE_ONLY_GROUPS
from src.observe import Observers
from src.outcome import chance_level, check_thresholds, classify, predicted_class_share
from src.probe import blas_controller
from src.results import METRICS, flatten_config, write_json_atomic
from src.stackable import STACKABLE_KEYS, check_stackable, plain, stack_groups
from src.sweep.stack_job import Task, run_job, runs_stacks
from src.theory.run import (
    final_noise_scales,
    initial_measurements,
    theory_metrics,
    theory_settings,
)
from src.trainer import History, Settings, fit

log = logging.getLogger(__name__)


def validate(cfg: DictConfig) -> None:
    """Check every group against its target's signature before anything is built."""
    for key, node in cfg.items():
        if isinstance(node, DictConfig) and "_target_" in node:
            check_node(node, str(key))
        elif key not in OVERRIDE_ONLY_GROUPS:
            groups = ", ".join(str(k) for k, v in cfg.items()
                               if isinstance(v, DictConfig) and k != key)  # fmt: skip
            raise ConfigError(f"{key}: unknown top-level key; valid: {groups}")


def train(cfg: DictConfig, out_dir: Path) -> dict[str, Any]:
    """Train the configured run, write `metrics.json` into `out_dir` and return the metrics."""
    return train_stack([cfg], [out_dir])[0]


def train_stack(cfgs: list[DictConfig], out_dirs: list[Path]) -> list[dict[str, Any]]:
    """Train runs whose configs differ only in `STACKABLE_KEYS` as one stack; each out_dir gets
    the `metrics.json` and events that `train(cfg, out_dir)` alone writes; returns the metrics."""
    plains = _validate_stack(cfgs)  # each run's values are read from these
    started = time.perf_counter()
    data = load_data(cfgs[0].dataset)
    first = _fit_batch_to_data(instantiate(cfgs[0].trainer), len(data.y_train))
    settings = [replace(first, seed=c["trainer"]["seed"], stall_margin=c["trainer"]["stall_margin"])
                for c in plains]  # fmt: skip
    chance = chance_level(data.y_test)
    for c, run in zip(plains, settings):
        target = c["dataset"].get("target_accuracy", data.target_accuracy)
        check_thresholds(target, chance, run.stall_margin)
    dtype = np.dtype(first.dtype)
    init_rngs, shuffle_rngs = zip(*(np.random.default_rng(s.seed).spawn(2) for s in settings))
    model, loss, optimizer = build(cfgs, data, dtype, list(init_rngs))
    arrays = (data.x_train.astype(dtype), data.y_train, data.x_test.astype(dtype), data.y_test)
    probe_batch = arrays[0][: first.probe_size], arrays[1][: first.probe_size]
    facts = stack_facts(cfgs, first.batch_size, len(data.y_train), data.n_classes, plains)
    watch = instantiate(cfgs[0].diagnosis)  # the diagnosis and logger configs are the stack's
    # `with` closes every writer on every exit: divergence returns, errors raise.
    with ExitStack() as writers:
        if len(cfgs) > 1:
            # A stack's products are K single-run-sized gemms: a second BLAS thread per slice
            # buys little, and on a busy machine each call waits for it (20-40x slower here).
            writers.enter_context(blas_controller().limit(limits=1))
        logger = instantiate(cfgs[0].logger)
        loggers = [writers.enter_context(logger(log_dir=d, run=RunFacts(c)))
                   for c, d in zip(plains, out_dirs)]  # fmt: skip
        observers = Observers(model, loss, probe_batch, optimizer.lr.copy(),
                              [watch(facts=f) for f in facts], loggers)  # fmt: skip
        observers.start(sig.input_stats(arrays[0], probe_batch[0]), first.batch_size)
        hooks = observers.hooks()
        hooks.on_epoch = _log_epoch(first, hooks.on_epoch)
        histories = fit(model, loss, optimizer, arrays, first, list(shuffle_rngs), hooks)
        observers.flush()
        seconds = (time.perf_counter() - started) / len(cfgs)  # each run's share of the stack
        theory = theory_settings(cfgs[0])  # the stack's: no `theory` key is stackable
        finals = final_noise_scales(cfgs, data, model, histories, settings, theory)  # one pass
        at_init = initial_measurements(cfgs, data, settings, theory, plains)  # one pass
        results = [_finish(k, plains[k], histories[k], data, settings[k], seconds, observers,
                           theory_metrics(at_init[k], finals[k], first.batch_size))
                   for k in range(len(cfgs))]  # fmt: skip
    for out_dir, metrics in zip(out_dirs, results):
        write_json_atomic(Path(out_dir) / METRICS, metrics)
        for line in cause_lines(metrics) if len(cfgs) == 1 else ():
            log.info(line)
    return results


def _validate_stack(cfgs: list[DictConfig]) -> list[dict[str, Any]]:
    """Validate the first config in full and only the per-run values of the others; return the
    configs as plain data, converted once: a read of a DictConfig key costs ~25 us, and a
    stack reads dozens per run.

    Raises:
        ConfigError: a value does not fit its key.
        ValueError: the configs differ outside `STACKABLE_KEYS` (a caller's mistake).
    """
    validate(cfgs[0])
    plains = [plain(cfg) for cfg in cfgs]
    if len(stack_groups(plains)) != 1:
        raise ValueError("train_stack: the configs differ in keys outside STACKABLE_KEYS")
    for config in plains[1:]:
        check_stackable(config)  # the rest equals cfgs[0]'s, validated above
    return plains


def _finish(run: int, config: dict[str, Any], history: History, data: Dataset,
            settings: Settings, seconds: float, observers: Observers,
            theory: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """Run `run`'s metrics with its theory measurements, diagnosis and config (`config`: as
    plain data); its logger records them."""
    target = config["dataset"].get("target_accuracy", data.target_accuracy)
    metrics = _metrics(history, data, settings, seconds, target)
    metrics.update(theory)
    metrics.update(observers.finish(run, history, metrics))
    metrics.update(flatten_config(config))
    observers.loggers[run].finish(metrics, observers.final_state(run))
    return metrics


def _fit_batch_to_data(settings: Settings, n_train: int) -> Settings:
    """A batch larger than the training set means full-batch training: clamp, and say so."""
    if settings.batch_size <= n_train:
        return settings
    log.warning(
        f"trainer.batch_size={settings.batch_size} exceeds the {n_train} training samples; "
        f"training full-batch (batch_size={n_train})"
    )
    return replace(settings, batch_size=n_train)


def _log_epoch(settings: Settings, on_epoch: Callable) -> Callable:
    """A progress line per epoch (per run when training one run), then `on_epoch`."""

    def both(epoch: int, runs: list[int], histories: list[History]) -> None:
        for run in runs if len(histories) == 1 else ():
            history = histories[run]
            log.info(
                f"epoch {epoch + 1}/{settings.epochs} train_loss={history.epoch_losses[-1]:.4f} "
                f"test_accuracy={history.test_accuracies[-1]:.4f} steps={history.steps}"
            )
        if len(histories) > 1:
            log.info(f"epoch {epoch + 1}/{settings.epochs}: {len(runs)} of {len(histories)} "
                     f"runs training")  # fmt: skip
        on_epoch(epoch, runs, histories)

    return both


def _metrics(history: History, data: Dataset, settings: Settings, seconds: float,
             target_accuracy: float) -> dict:  # fmt: skip
    diverged = history.first_nonfinite_step is not None
    test_accuracy = None if diverged else history.test_accuracies[-1]
    class_share = None if diverged else predicted_class_share(history.test_predictions)
    chance = chance_level(data.y_test)
    final_loss = history.epoch_losses[-1] if history.epoch_losses else None
    return {
        "outcome": classify(
            diverged, test_accuracy, chance, settings.stall_margin, target_accuracy
        ),  # fmt: skip
        "test_accuracy": test_accuracy,
        "chance": chance,
        "predicted_class_share": class_share,
        "first_nonfinite_step": history.first_nonfinite_step,
        "steps": history.steps,
        "epochs_completed": history.epochs_completed,
        "final_train_loss": final_loss if final_loss is None or math.isfinite(final_loss) else None,
        "wall_seconds": seconds,
    }


def summary_line(metrics: dict[str, Any], out_dir: Path) -> str:
    """The one line a user reads last: outcome and where the files are."""
    shown = {k: metrics.get(k) for k in ("outcome", "test_accuracy", "chance", "steps")}
    shown["first_nonfinite_step"] = metrics.get("first_nonfinite_step")
    text = " ".join(
        f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items()
    )
    return f"{text} run_dir={out_dir}"


# What a sweep job runs (src.sweep.stack_job): a cell or a stack of them.
TASK = Task(train, train_stack, validate, summary_line, check_stackable)


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
@runs_stacks(STACKABLE_KEYS)  # hydra/sweeper=stacked hands this task stacks of cells
def main(cfg: DictConfig) -> None:
    if HydraConfig.get().mode == RunMode.MULTIRUN:
        hydra_cfg = HydraConfig.instance().cfg  # the job's Hydra config, a root with `hydra`
        run_job(cfg, hydra_cfg, TASK)
        return
    with report_errors() as out_dir:
        log.info(summary_line(train(cfg, out_dir), out_dir))


def cli() -> None:
    """`python -m src.train`: offer the grids in sweeps/ as `sweep=<name>`, then run."""
    register_sweeps()
    main()


if __name__ == "__main__":
    run_cli(cli)
    # The process exits next: its last garbage collection would walk every object left (~0.25 s
    # after a sweep) to free what the exit frees anyway. (Not in run_cli: tests call it.)
    gc.freeze()
