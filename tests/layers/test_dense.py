from __future__ import annotations

import numpy as np
import pytest

from src import init
from src.layers.dense import Dense
from src.layers.flatten import Flatten
from tests.gradcheck import check_layer


def test_dense_gradients_match_finite_differences(rng):
    layer = Dense(7, 5, init.xavier_normal, rng, np.dtype(np.float64))
    layer.params["b"][:] = rng.normal(size=5)  # a non-zero bias must not hide a bug
    check_layer(layer, rng.normal(size=(6, 7)), rng)


def test_dense_keeps_float32(rng):
    layer = Dense(4, 3, init.he_normal, rng, np.dtype(np.float32))
    y = layer.forward(rng.normal(size=(2, 4)).astype(np.float32))
    assert y.dtype == np.float32
    assert layer.backward(np.ones_like(y)).dtype == np.float32
    assert all(g.dtype == np.float32 for g in layer.grads.values())


def test_flatten_round_trips_shape(rng):
    layer = Flatten()
    x = rng.normal(size=(3, 4, 4, 2))
    assert layer.forward(x).shape == (3, 32)
    check_layer(layer, x, rng)


@pytest.mark.parametrize("batch", [1, 3])
def test_dense_values_and_gradients_match_the_formulas(batch, rng):
    # Batch 1 takes the outer-product path, larger batches the matmul.
    layer = Dense(4, 3, init.he_normal, rng, np.dtype(np.float64))
    layer.params["b"][:] = [0.5, -1.0, 2.0]
    w, b = layer.params["W"].copy(), layer.params["b"].copy()
    x, dy = rng.normal(size=(batch, 4)), rng.normal(size=(batch, 3))
    np.testing.assert_allclose(layer.forward(x), x @ w + b, rtol=1e-12)
    np.testing.assert_allclose(layer.backward(dy.copy()), dy @ w.T, rtol=1e-12)
    np.testing.assert_allclose(layer.grads["W"], x.T @ dy, rtol=1e-12)
    np.testing.assert_allclose(layer.grads["b"], dy.sum(axis=0), rtol=1e-12)


def test_dense_grads_follow_a_changing_batch_size(rng):
    layer = Dense(2, 2, init.he_normal, rng, np.dtype(np.float64))
    for batch in (3, 1, 2, 3):
        x, dy = rng.normal(size=(batch, 2)), rng.normal(size=(batch, 2))
        layer.forward(x)
        layer.param_backward(dy)
        np.testing.assert_allclose(layer.grads["b"], dy.sum(axis=0), rtol=1e-12)
        np.testing.assert_allclose(layer.grads["W"], x.T @ dy, rtol=1e-12)
