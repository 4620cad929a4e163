"""The cnn factory: shapes, optional per-layer inits, input checks and its YAML option."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

from src.activation import ReLU, Sigmoid
from src.checks import check_node
from src.errors import ConfigError
from src.init import he_normal, normal, uniform
from src.layers.conv import Conv2D
from src.layers.dense import Dense
from src.layers.pool import MaxPool2D
from src.model.cnn import cnn

YAML = Path(__file__).resolve().parents[2] / "conf" / "model" / "cnn.yaml"


def build(input_shape=(32, 32, 3), takes_logits=True, **config):
    runtime = dict(
        input_shape=input_shape,
        n_classes=10,
        activation=ReLU,
        inits=[functools.partial(normal, std=0.1)],
        rngs=[np.random.default_rng(0)],
        dtype=np.dtype(np.float32),
        takes_logits=takes_logits,
    )
    return cnn(**runtime, **config)


def test_defaults_give_30x30x16_then_3600_then_10() -> None:
    model = build()
    x = np.random.default_rng(1).standard_normal((1, 2, 32, 32, 3)).astype(np.float32)
    shapes = []
    for layer in model.layers:
        x = layer.forward(x)
        shapes.append(x.shape[1:])  # (K=1, N, ...)
    assert shapes == [(2, 30, 30, 16), (2, 30, 30, 16), (2, 15, 15, 16), (2, 3600), (2, 10)]
    assert model.layers[-1].params["W"].shape == (1, 3600, 10)
    assert x.dtype == np.float32
    dx = model.backward(np.ones_like(x), input_grad=True)
    assert dx.shape == (1, 2, 32, 32, 3) and dx.dtype == np.float32


def test_output_activation_only_without_logits() -> None:
    assert isinstance(build(takes_logits=False, output_activation="sigmoid").layers[-1], Sigmoid)
    assert isinstance(build(takes_logits=True).layers[-1], Dense)
    with pytest.raises(ConfigError, match="model.output_activation=sigmoid: the loss takes logits"):
        build(takes_logits=True, output_activation="sigmoid")  # it would be silently ignored


def test_conv_and_dense_inits_override_init() -> None:
    positive = functools.partial(uniform, low=0.0, high=0.1)
    conv, *_, dense = build(dense_init=positive).layers
    assert (dense.params["W"] >= 0).all() and (conv.params["W"] < 0).any()
    conv, *_, dense = build(conv_init=positive).layers
    assert (conv.params["W"] >= 0).all() and (dense.params["W"] < 0).any()


def test_too_small_inputs_name_the_key_and_shape() -> None:
    with pytest.raises(ConfigError, match=r"model\.kernel=5 .*\(4, 4, 1\)"):
        build(input_shape=(4, 4, 1), kernel=5)
    with pytest.raises(ConfigError, match=r"model\.pool=2 .*\(3, 3, 1\)"):
        build(input_shape=(3, 3, 1))
    with pytest.raises(ConfigError, match="image"):
        build(input_shape=(64,))
    build(input_shape=(4, 4, 1), kernel=5, padding=1)  # padding makes it fit


def test_yaml_validates_and_binds_nested_inits() -> None:
    cfg = OmegaConf.load(YAML)
    cfg.kernel, cfg.stride, cfg.padding = 5, 2, 2
    cfg.conv_init = {"_target_": "src.init.he_normal", "_partial_": True}
    cfg.dense_init = {"_target_": "src.init.uniform", "_partial_": True, "low": 0.0, "high": 0.1}
    check_node(cfg, "model")
    factory = instantiate(cfg)
    model = factory(
        input_shape=(8, 8, 1),
        n_classes=10,
        activation=ReLU,
        inits=[he_normal],
        rngs=[np.random.default_rng(0)],
        dtype=np.dtype(np.float64),
        takes_logits=True,
    )
    conv, _, pool, _, dense = model.layers
    assert isinstance(conv, Conv2D) and isinstance(pool, MaxPool2D)
    assert conv.params["W"].shape == (1, 5, 5, 1, 16)
    assert dense.params["W"].shape == (1, 2 * 2 * 16, 10)  # 8+4-5 -> 4x4 (stride 2) -> pool 2x2
    assert (dense.params["W"] >= 0).all()


@pytest.mark.parametrize(("key", "value"), [("filters", 0), ("kernel", 0), ("padding", -1)])
def test_yaml_rejects_out_of_range_values(key: str, value: int) -> None:
    cfg = OmegaConf.load(YAML)
    cfg[key] = value
    with pytest.raises(ConfigError, match=f"model.{key}"):
        check_node(cfg, "model")


def test_a_stack_of_cnns_runs_each_run_as_alone() -> None:
    rngs = [np.random.default_rng(s) for s in (0, 1, 2)]
    stack = cnn((8, 8, 1), 3, ReLU, [he_normal] * 3, rngs, np.dtype(np.float64), True, filters=4)
    x = np.random.default_rng(3).standard_normal((3, 5, 8, 8, 1))  # (K, N, H, W, C)
    y = stack.forward(x)
    for k in range(3):
        alone = cnn((8, 8, 1), 3, ReLU, [he_normal], [np.random.default_rng(k)],
                    np.dtype(np.float64), True, filters=4)  # fmt: skip
        np.testing.assert_array_equal(alone.forward(x[k : k + 1]), y[k : k + 1])
