"""Compose a run from the config groups, train it and record its outcome.

Usage: `python -m src.train [group=option ...] [key=value ...]`, e.g.
`python -m src.train activation=sigmoid optimizer.lr=3 trainer.batch_size=1`.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import hydra
import numpy as np
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.types import RunMode
from hydra.utils import instantiate
from omegaconf import DictConfig

from src.checks import check_node
from src.cli import report_errors, run_cli
from src.config_files import CONF_DIR, register_sweeps
from src.dataset.base import Dataset
from src.diagnosis.report import cause_lines
from src.diagnosis.watch import Watch
from src.errors import ConfigError, TrainmapError
from src.logger.base import Logger, RunFacts
from src.names import OVERRIDE_ONLY_GROUPS
from src.outcome import chance_level, check_thresholds, classify, predicted_class_share
from src.results import METRICS, flatten_config, write_json_atomic
from src.stackable import STACKABLE_KEYS
from src.sweep.stack_job import Task, run_job, runs_stacks
from src.theory.run import theory_metrics
from src.trainer import History, Settings, fit

log = logging.getLogger(__name__)


def validate(cfg: DictConfig) -> None:
    """Check every group against its target's signature before anything is built."""
    for key, node in cfg.items():
        if isinstance(node, DictConfig) and "_target_" in node:
            check_node(node, str(key))
        elif key not in OVERRIDE_ONLY_GROUPS:
            groups = ", ".join(k for k, v in cfg.items() if isinstance(v, DictConfig))
            raise ConfigError(f"{key}: unknown top-level key; valid: {groups}")


def build(cfg: DictConfig, data: Dataset, dtype: np.dtype, rng: np.random.Generator) -> tuple:
    """Instantiate (model, loss, optimizer), passing the runtime facts the configs cannot know."""
    loss = instantiate(cfg.loss)
    model = instantiate(cfg.model)(
        input_shape=data.input_shape,
        n_classes=data.n_classes,
        activation=instantiate(cfg.activation),
        init=instantiate(cfg.init),
        rng=rng,
        dtype=dtype,
        takes_logits=loss.takes_logits,
    )
    return model, loss, instantiate(cfg.optimizer)(params=model.parameters())


def load_data(node: DictConfig) -> Dataset:
    """Instantiate the data set, raising its own DataError rather than Hydra's wrapper."""
    try:
        return instantiate(node)
    except InstantiationException as err:
        if isinstance(err.__cause__, TrainmapError):
            raise err.__cause__ from None
        raise


def train(cfg: DictConfig, out_dir: Path) -> dict[str, Any]:
    """Train the configured run, write `metrics.json` into `out_dir` and return the metrics."""
    validate(cfg)
    started = time.perf_counter()
    data = load_data(cfg.dataset)
    settings = _fit_batch_to_data(instantiate(cfg.trainer), len(data.y_train))
    check_thresholds(data.target_accuracy, chance_level(data.y_test), settings.stall_margin)
    dtype = np.dtype(settings.dtype)
    init_rng, shuffle_rng = np.random.default_rng(settings.seed).spawn(2)
    model, loss, optimizer = build(cfg, data, dtype, init_rng)
    arrays = (data.x_train.astype(dtype), data.y_train, data.x_test.astype(dtype), data.y_test)
    facts = RunFacts(model, loss, getattr(optimizer, "lr", math.nan), arrays, cfg)
    watch = Watch.start(cfg, model, loss, arrays, settings.batch_size)  # probes the untrained net
    # `with` closes the logger's writer on every exit: divergence returns, errors raise.
    with instantiate(cfg.logger)(log_dir=out_dir, run=facts) as logger:
        history = fit(model, loss, optimizer, arrays, settings, shuffle_rng,
                      watch.chain(_log_epoch(settings, logger)), logger.on_step)  # fmt: skip
        metrics = _metrics(history, data, settings, time.perf_counter() - started)
        metrics.update(theory_metrics(cfg, data, model, settings, history))
        metrics.update(watch.finish(history, metrics))
        metrics.update(flatten_config(cfg))
        logger.finish(metrics)
    write_json_atomic(out_dir / METRICS, metrics)
    for line in cause_lines(metrics):
        log.info(line)
    return metrics


def train_stack(cfgs: list[DictConfig], out_dirs: list[Path]) -> list[dict[str, Any]]:
    """Train runs whose configs differ only in STACKABLE_KEYS; each writes what `train` writes."""
    return [train(cfg, out_dir) for cfg, out_dir in zip(cfgs, out_dirs)]


def _fit_batch_to_data(settings: Settings, n_train: int) -> Settings:
    """A batch larger than the training set means full-batch training: clamp, and say so."""
    if settings.batch_size <= n_train:
        return settings
    log.warning(
        f"trainer.batch_size={settings.batch_size} exceeds the {n_train} training samples; "
        f"training full-batch (batch_size={n_train})"
    )
    return replace(settings, batch_size=n_train)


def _log_epoch(settings: Settings, logger: Logger):
    def on_epoch(epoch: int, history: History) -> None:
        log.info(
            f"epoch {epoch + 1}/{settings.epochs} train_loss={history.epoch_losses[-1]:.4f} "
            f"test_accuracy={history.test_accuracies[-1]:.4f} steps={history.steps}"
        )
        logger.on_epoch(epoch, history)

    return on_epoch


def _metrics(history: History, data: Dataset, settings: Settings, seconds: float) -> dict:
    diverged = history.first_nonfinite_step is not None
    test_accuracy = None if diverged else history.test_accuracies[-1]
    class_share = None if diverged else predicted_class_share(history.test_predictions)
    chance = chance_level(data.y_test)
    final_loss = history.epoch_losses[-1] if history.epoch_losses else None
    return {
        "outcome": classify(
            diverged, test_accuracy, chance, settings.stall_margin, data.target_accuracy
        ),
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


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
@runs_stacks(STACKABLE_KEYS)  # hydra/sweeper=stacked hands this task stacks of cells
def main(cfg: DictConfig) -> None:
    if HydraConfig.get().mode == RunMode.MULTIRUN:
        hydra_cfg = HydraConfig.instance().cfg  # the job's Hydra config, a root with `hydra`
        run_job(cfg, hydra_cfg, Task(train, train_stack, validate, summary_line))
        return
    with report_errors() as out_dir:
        log.info(summary_line(train(cfg, out_dir), out_dir))


def cli() -> None:
    """`python -m src.train`: offer the grids in sweeps/ as `sweep=<name>`, then run."""
    register_sweeps()
    main()


if __name__ == "__main__":
    run_cli(cli)
