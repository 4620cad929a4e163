"""Small float64 nets on real digits, built as `train` builds them."""

from __future__ import annotations

import numpy as np

from src.build import load_data
from src.theory.adapter import FlatNet, float64_net
from tests.conftest import compose_config


def small_net(*overrides: str, seed: int = 0) -> tuple[FlatNet, np.ndarray, np.ndarray]:
    """(net, x, y): the configured net in float64 and its float64 training set."""
    cfg = compose_config("logger=none", *overrides)
    data = load_data(cfg.dataset)
    return float64_net([cfg], data, [seed]), data.x_train.astype(np.float64), data.y_train
