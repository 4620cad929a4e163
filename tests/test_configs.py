"""Every option of every config group composes, validates, builds and takes a training step."""

from __future__ import annotations

import numpy as np
import pytest
from hydra.utils import instantiate

from src.train import build, validate
from tests.conftest import CONF_DIR, compose_config

BUILT_GROUPS = ["model", "activation", "loss", "init", "optimizer", "trainer"]


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


@pytest.mark.parametrize(
    "override", [f"{group}={option}" for group in BUILT_GROUPS for option in options(group)]
)
def test_option_builds_and_trains_one_step(override):
    cfg = compose_config(override, "dataset.limit_train=16")
    validate(cfg)
    data = instantiate(cfg.dataset)
    model, loss, optimizer = build([cfg], data, np.dtype("float32"), [np.random.default_rng(0)])
    before = [p.copy() for p, _ in model.parameters()]
    x, y = data.x_train[None, :8].astype(np.float32), data.y_train[None, :8]  # K = 1 run
    value = loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    optimizer.step()
    assert np.isfinite(value).all()
    assert any(not np.array_equal(b, p) for b, (p, _) in zip(before, model.parameters()))


def test_every_group_has_options():
    for group in [*BUILT_GROUPS, "dataset"]:
        assert options(group), group
