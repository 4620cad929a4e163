from __future__ import annotations

import numpy as np

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
