"""Per-run theory metrics: sharpness at init at the run's batch size, noise scale at init and
at the end. Quantities of the untrained net, and the float64 net itself, are memoised per
process, keyed by everything they depend on, so runs sharing a network, seed and batch size (a
sweep's learning rates, in one worker) compute them once and build the net once.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Annotated, Any

import numpy as np
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from src.arrays import Array
from src.checks import Interval
from src.model.sequential import Sequential
from src.probe import blas_controller
from src.theory.adapter import FlatNet, flat_params, float64_net
from src.theory.hessian import sharpness
from src.theory.noise import noise_scale
from src.trainer import Settings

log = logging.getLogger(__name__)
KEYS = ("sharpness_init", "noise_scale_init", "noise_scale_final")
NETWORK_GROUPS = ("dataset", "model", "activation", "loss", "init")  # what the Hessian sees
_memo: dict[str, float] = {}
_nets: dict[str, tuple[FlatNet, Array]] = {}  # network key -> the net and its initial weights


@dataclass(frozen=True)
class TheorySettings:
    """Options of the measurements (config group `theory`)."""

    enabled: bool = True
    batches: Annotated[int, Interval(1)] = 8
    noise_batch: Annotated[int, Interval(1)] = 16
    noise_samples: Annotated[int, Interval(2)] = 2048


def theory_metrics(
    cfg: DictConfig, data: Any, model: Sequential | None, run: Settings
) -> dict:
    """{'sharpness_init', 'noise_scale_init', 'noise_scale_final'}: λ on mini-batches of the
    run's batch size and B_simple, None where not finite or, at the end, when the run diverged
    (`model`: the trained run alone, None if it diverged);
    {} when `theory.enabled` is false. Logs them with the seconds they took."""
    settings = instantiate(cfg.theory) if "theory" in cfg else TheorySettings()
    if not settings.enabled:
        return {}
    started = time.perf_counter()
    batch, seed = run.batch_size, run.seed
    key = network_key(cfg, seed, settings)
    with blas_controller().limit(limits=1):  # threads only slow these small products down
        net = net_at_init(key, lambda: float64_net(cfg, data, seed))
        x, y = data.x_train, data.y_train  # the net casts each batch to float64
        at_init = {
            "sharpness_init": _memoised(
                f"{key}|{batch}", lambda: sharpness_at(net, x, y, batch, settings.batches)
            ),
            "noise_scale_init": _memoised(key, lambda: noise_at(net, x, y, settings)),
        }
        final = math.nan  # a diverged run (model None) has no end state to measure
        if model is not None:
            net.set(flat_params(model))
            with np.errstate(all="ignore"):  # huge weights: overflowing norms give nan
                final = noise_at(net, x, y, settings)
    values = {k: _finite_or_none(v) for k, v in {**at_init, "noise_scale_final": final}.items()}
    shown = ", ".join(f"{k}={'null' if v is None else f'{v:.4g}'}" for k, v in values.items())
    log.info(f"theory at batch size {batch}: {shown} ({time.perf_counter() - started:.3f} s)")
    return {k: values[k] for k in KEYS}


def network_key(cfg: DictConfig, seed: int, settings: TheorySettings) -> str:
    """Everything the untrained net's measurements depend on, as one string."""
    groups = {g: OmegaConf.to_container(cfg[g], resolve=True) for g in NETWORK_GROUPS if g in cfg}
    return json.dumps({**groups, "seed": seed, "settings": asdict(settings)}, sort_keys=True)


def sharpness_at(net: FlatNet, x: Array, y: Array, batch: int, batches: int) -> float:
    """λ at the net's current parameters, with batches drawn from a fixed generator."""
    return sharpness(net, x, y, batch, np.random.default_rng(0), batches)


def noise_at(net: FlatNet, x: Array, y: Array, settings: TheorySettings) -> float:
    """B_simple on at most `noise_samples` training samples (the same ones every time)."""
    rng = np.random.default_rng(0)
    if len(y) > settings.noise_samples:
        rows = rng.choice(len(y), size=settings.noise_samples, replace=False)
        x, y = x[rows], y[rows]
    return noise_scale(net, x, y, rng, settings.noise_batch)


def net_at_init(key: str, build: Callable[[], FlatNet]) -> FlatNet:
    """The float64 net of `key` at its initial weights: built once, reset on each later call
    (the last run left its trained weights in it)."""
    if key not in _nets:
        net = build()
        _nets[key] = (net, net.get())
    net, theta = _nets[key]
    net.set(theta)
    return net


def _memoised(key: str, compute) -> float:
    if key not in _memo:
        _memo[key] = compute()
    return _memo[key]


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
