"""Per-run theory metrics: sharpness at init at the run's batch size, noise scale at init and
at the end. Quantities of the untrained net are memoised per process, keyed by everything they
depend on, so runs sharing a network, seed and batch size (a sweep's learning rates, in one
worker) compute them once.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from src.probe import blas_controller
from src.theory.adapter import FlatNet, flat_params, float64_net
from src.theory.hessian import sharpness
from src.theory.noise import noise_scale

NETWORK_GROUPS = ("dataset", "model", "activation", "loss", "init")  # what the Hessian sees
_memo: dict[str, float] = {}


def theory_metrics(cfg: DictConfig, data: Any, model: Any, batch: int, seed: int) -> dict:
    """{'sharpness_init', 'noise_scale_init', 'noise_scale_final'}: λ on mini-batches of
    `batch` and B_simple, None where not finite (the trained net diverged)."""
    key = network_key(cfg, seed)
    with blas_controller().limit(limits=1):  # threads only slow these small products down
        net = float64_net(cfg, data, seed)
        x, y = data.x_train.astype(np.float64), data.y_train
        at_init = {
            "sharpness_init": _memoised(f"{key}|{batch}", lambda: sharpness_at(net, x, y, batch)),
            "noise_scale_init": _memoised(key, lambda: noise_at(net, x, y)),
        }
        net.set(flat_params(model))
        with np.errstate(all="ignore"):  # a diverged or huge net: its norms say so, as nan
            final = noise_at(net, x, y) if np.isfinite(net.get()).all() else math.nan
    return {k: _plain(v) for k, v in {**at_init, "noise_scale_final": final}.items()}


def network_key(cfg: DictConfig, seed: int) -> str:
    """Everything the untrained net's loss surface depends on, as one string."""
    groups = {g: OmegaConf.to_container(cfg[g], resolve=True) for g in NETWORK_GROUPS if g in cfg}
    return json.dumps({**groups, "seed": seed}, sort_keys=True)


def sharpness_at(net: FlatNet, x: np.ndarray, y: np.ndarray, batch: int) -> float:
    """λ at the net's current parameters, with batches drawn from a fixed generator."""
    return sharpness(net, x, y, batch, np.random.default_rng(0))


def noise_at(net: FlatNet, x: np.ndarray, y: np.ndarray) -> float:
    return noise_scale(net, x, y, np.random.default_rng(0))


def _memoised(key: str, compute) -> float:
    if key not in _memo:
        _memo[key] = compute()
    return _memo[key]


def _plain(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
