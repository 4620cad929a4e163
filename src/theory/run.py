"""Per-run theory metrics: sharpness at init at the run's batch size, noise scale at init and
at the end. Quantities of the untrained net are keyed by everything they depend on and measured
once per sweep (`src.theory.cache`: per process, and across a sweep's processes through its
folder), so runs sharing a network, seed and batch size (a sweep's learning rates) share them;
the float64 net itself is built once per process. The noise scale at the end is measured for
all runs of a trained stack at once (`final_noise_scales`), each run's value bit for bit the
one it gets trained alone.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from functools import partial
from typing import Annotated, Any

import numpy as np
from hydra.utils import instantiate
from omegaconf import DictConfig

from src.arrays import Array
from src.checks import Interval
from src.model.sequential import Sequential
from src.names import NOT_THE_NETWORK, OVERRIDE_ONLY_GROUPS
from src.probe import blas_controller
from src.stackable import plain
from src.theory.adapter import FlatNet, float64_net, float64_stack
from src.theory.cache import cached, sweep_folder
from src.theory.hessian import sharpness
from src.theory.noise import noise_scales
from src.trainer import History, Settings

log = logging.getLogger(__name__)
KEYS = ("sharpness_init", "noise_scale_init", "noise_scale_final")
# What the measurements at init do not see: how the net is then trained, and bookkeeping.
# The seed and batch size are read from the run's Settings (the batch clamped to the data).
NOT_MEASURED = ("hydra", "optimizer", "trainer", *NOT_THE_NETWORK, *OVERRIDE_ONLY_GROUPS)
NOT_MEASURED_KEYS = (("dataset", "target_accuracy"),)  # a threshold on the outcome only
_nets: dict[str, tuple[FlatNet, Array]] = {}  # network key -> the net and its initial weights


@dataclass(frozen=True)
class TheorySettings:
    """Options of the measurements (config group `theory`)."""

    enabled: bool = True
    batches: Annotated[int, Interval(1)] = 8
    noise_batch: Annotated[int, Interval(1)] = 16
    noise_samples: Annotated[int, Interval(2)] = 2048


def theory_metrics(cfg: DictConfig, data: Any, final: float, run: Settings,
                   settings: TheorySettings, config: Mapping[str, Any]) -> dict:  # fmt: skip
    """{'sharpness_init', 'noise_scale_init', 'noise_scale_final'}: λ on mini-batches of the
    run's batch size and B_simple, None where not finite (`final`: the run's B_simple at the
    end, measured for its stack by `final_noise_scales`, nan if the run diverged);
    {} when `settings.enabled` is false. `settings` are `theory_settings(cfg)` and `config` is
    `cfg` as plain data, both read once per stack. Logs them with the seconds they took."""
    if not settings.enabled:
        return {}
    started = time.perf_counter()
    batch, seed = run.batch_size, run.seed
    key = network_key(config, seed, settings)
    net = partial(net_at_init, key, partial(float64_net, cfg, data, seed))  # built when needed
    x, y = data.x_train, data.y_train  # the net casts each batch to float64
    with blas_controller().limit(limits=1):  # threads only slow these small products down
        at_init = measured_at_init(key, net, x, y, batch, settings)
    values = {k: _finite_or_none(v) for k, v in {**at_init, "noise_scale_final": final}.items()}
    shown = ", ".join(f"{k}={'null' if v is None else f'{v:.4g}'}" for k, v in values.items())
    log.info(f"theory at batch size {batch}: {shown} ({time.perf_counter() - started:.3f} s)")
    return {k: values[k] for k in KEYS}


def final_noise_scales(cfgs: list[DictConfig], data: Any, model: Sequential,
                       histories: list[History], runs: list[Settings],
                       settings: TheorySettings) -> list[float]:  # fmt: skip
    """B_simple at the end of each run of a trained stack (configs `cfgs`, `model` holding the
    runs that stayed finite, in order; `runs`: their settings; `settings`: the stack's theory
    options), measured for all of them in one pass; nan for a run that diverged, and for every
    run when `settings.enabled` is false or all runs diverged. Logs the seconds in a `theory at
    batch size` line, as theory_metrics."""
    finals = [math.nan] * len(cfgs)
    alive = [k for k, history in enumerate(histories) if history.first_nonfinite_step is None]
    if not alive or not settings.enabled:
        return finals
    started = time.perf_counter()
    with blas_controller().limit(limits=1):
        net = float64_stack(cfgs[0], data, model)
        with np.errstate(all="ignore"):  # huge weights: overflowing norms give nan
            measured = noise_at(net, data.x_train, data.y_train, settings)
    for k, value in zip(alive, measured, strict=True):
        finals[k] = value
    seconds = time.perf_counter() - started
    log.info(f"theory at batch size {runs[0].batch_size}: noise_scale_final of {len(alive)} of "
             f"{len(cfgs)} runs measured together ({seconds:.3f} s)")  # fmt: skip
    return finals


def theory_settings(cfg: DictConfig) -> TheorySettings:
    """The run's `theory` options (the defaults when the config has no `theory` group)."""
    return instantiate(cfg.theory) if "theory" in cfg else TheorySettings()


def measured_at_init(key: str, net: Callable[[], FlatNet], x: Array, y: Array, batch: int,
                     settings: TheorySettings) -> dict[str, float]:  # fmt: skip
    """λ at `batch` and B_simple of the untrained net `key`, measured once per sweep
    (`src.theory.cache`); `net()` gives the net at its initial weights."""
    folder = sweep_folder()
    return {
        "sharpness_init": cached(
            f"{key}|sharpness_init|batch={batch}",
            lambda: sharpness_at(net(), x, y, batch, settings.batches),
            folder,
        ),
        "noise_scale_init": cached(
            f"{key}|noise_scale_init", lambda: noise_at(net(), x, y, settings)[0], folder
        ),
    }


def network_key(cfg: DictConfig | Mapping[str, Any], seed: int, settings: TheorySettings) -> str:
    """Everything the untrained net and its measurements depend on, as one string: the config
    (or its plain data, left unchanged) without the groups and keys in NOT_MEASURED*, with the
    seed and the measurement settings."""
    network = {str(g): plain(node) for g, node in cfg.items() if g not in NOT_MEASURED}
    for group, name in NOT_MEASURED_KEYS:
        if isinstance(network.get(group), dict):
            network[group] = {k: v for k, v in network[group].items() if k != name}
    payload = {**network, "seed": seed, "settings": asdict(settings)}
    return json.dumps(payload, sort_keys=True, default=str)


def sharpness_at(net: FlatNet, x: Array, y: Array, batch: int, batches: int) -> float:
    """λ at the net's current parameters, with batches drawn from a fixed generator."""
    return sharpness(net, x, y, batch, np.random.default_rng(0), batches)


def noise_at(net: FlatNet, x: Array, y: Array, settings: TheorySettings) -> list[float]:
    """B_simple of each run of the net on at most `noise_samples` training samples (the same
    ones every time, for every run)."""
    rng = np.random.default_rng(0)
    if len(y) > settings.noise_samples:
        rows = rng.choice(len(y), size=settings.noise_samples, replace=False)
        x, y = x[rows], y[rows]
    return noise_scales(net, x, y, rng, settings.noise_batch)


def net_at_init(key: str, build: Callable[[], FlatNet]) -> FlatNet:
    """The float64 net of `key` at its initial weights: built once, reset on each later call
    (the last run left its trained weights in it)."""
    if key not in _nets:
        net = build()
        _nets[key] = (net, net.get())
    net, theta = _nets[key]
    net.set(theta)
    return net


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
