"""A float32 run stays float32: parameters, gradients, activations and optimizer state.

float64 creeps in silently (a Python float array, np.where on a literal, an astype default)
and halves the speed, so every built option is checked, not just the defaults.
"""

from __future__ import annotations

import numpy as np
import pytest
from hydra.utils import instantiate

from src.build import build
from src.dataset.base import Dataset
from src.trainer import Settings, fit
from tests.conftest import compose_config

F32 = np.dtype(np.float32)
MODELS = {"mlp": (6, 5, 1), "cnn": (6, 5, 2)}  # input shape (H, W, C) per model
COMBOS = [
    ("mlp", "relu", "cross_entropy", "sgd"),
    ("mlp", "leaky_relu", "mse", "momentum"),
    ("mlp", "sigmoid", "cross_entropy", "adam"),
    ("mlp", "tanh", "mse", "adam"),
    ("cnn", "relu", "cross_entropy", "adam"),
    ("cnn", "tanh", "mse", "momentum"),
]


def tiny_images(shape: tuple[int, ...], n: int = 12, classes: int = 3) -> Dataset:
    """float64, like every loader returns: the trainer must cast, not the data set."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((n, *shape)), rng.integers(0, classes, size=n)
    return Dataset(x, y, x[:4], y[:4], classes, 0.9)


def built(model: str, activation: str, loss: str, optimizer: str):
    cfg = compose_config(f"model={model}", f"activation={activation}", f"loss={loss}",
                         f"optimizer={optimizer}", "init=he_normal")  # fmt: skip
    data = tiny_images(MODELS[model])
    return data, *build([cfg], data, F32, [np.random.default_rng(0)])


def arrays_of(obj) -> list[np.ndarray]:
    """Every ndarray an optimizer holds as state (momentum, Adam moments)."""
    found = []
    for value in vars(obj).values():
        items = value if isinstance(value, list) else [value]
        found += [a for a in items if isinstance(a, np.ndarray)]
    return found


@pytest.mark.parametrize("combo", COMBOS, ids="-".join)
def test_one_step_keeps_everything_float32(combo) -> None:
    data, model, loss, optimizer = built(*combo)
    assert all(p.dtype == F32 and g.dtype == F32 for p, g in model.parameters())
    x = data.x_train[None, :5].astype(F32)  # (K=1, N, ...)
    for layer in model.layers:
        x = layer.forward(x)
        assert x.dtype == F32, f"{type(layer).__name__} forward gave {x.dtype}"
    assert loss.forward(x, data.y_train[None, :5]).dtype == np.float64  # (K,) per-run losses
    dy = loss.backward()
    assert dy.dtype == F32
    for layer in reversed(model.layers):
        dy = layer.backward(dy)
        assert dy.dtype == F32, f"{type(layer).__name__} backward gave {dy.dtype}"
        assert all(g.dtype == F32 for g in layer.grads.values())
    optimizer.step()
    assert all(p.dtype == F32 and g.dtype == F32 for p, g in model.parameters())
    assert all(a.dtype == F32 for a in arrays_of(optimizer))


@pytest.mark.parametrize("combo", COMBOS, ids="-".join)
def test_fit_in_float32_leaves_float32_parameters(combo) -> None:
    data, model, loss, optimizer = built(*combo)
    settings = Settings(epochs=2, batch_size=5, dtype="float32")
    arrays = (data.x_train.astype(F32), data.y_train, data.x_test.astype(F32), data.y_test)
    (history,) = fit(model, loss, optimizer, arrays, settings, [np.random.default_rng(0)])
    assert history.steps == 2 * 3
    assert all(p.dtype == F32 and g.dtype == F32 for p, g in model.parameters())
    assert all(a.dtype == F32 for a in arrays_of(optimizer))


def test_the_default_config_trains_in_float32() -> None:
    assert instantiate(compose_config().trainer).dtype == "float32"
