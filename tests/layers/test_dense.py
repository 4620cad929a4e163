from __future__ import annotations

import numpy as np
import pytest

from src import init
from src.layers.dense import Dense
from src.layers.flatten import Flatten
from tests.gradcheck import check_layer, check_runs_alone


def dense(d_in, d_out, runs, rng, dtype=np.float64, kind=init.xavier_normal):
    layer = Dense(d_in, d_out, init.stacked([kind] * runs, [rng] * runs), np.dtype(dtype))
    layer.params["b"][:] = rng.normal(size=(runs, 1, d_out))  # a non-zero bias shows bugs
    return layer


@pytest.mark.parametrize("batch", [1, 6])
def test_dense_gradients_match_finite_differences_for_every_run(rng, batch):
    layer = dense(7, 5, 3, rng)
    check_layer(layer, rng.normal(size=(3, batch, 7)), rng)
    check_layer(layer, rng.normal(size=(1, batch, 7)), rng)  # one batch shared by the runs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", [1, 16, 200])
def test_a_run_in_a_stack_of_32_computes_what_it_computes_alone(rng, dtype, batch):
    layer = dense(64, 100, 32, rng, dtype)
    check_runs_alone(layer, rng.normal(size=(32, batch, 64)).astype(dtype), rng)
    check_runs_alone(layer, rng.normal(size=(1, batch, 64)).astype(dtype), rng)


def test_runs_draw_their_own_weights_from_their_own_rng():
    rngs = [np.random.default_rng(s) for s in (0, 1)]
    layer = Dense(4, 3, init.stacked([init.he_normal] * 2, rngs), np.dtype(np.float64))
    alone = init.he_normal((4, 3), 4, 3, np.random.default_rng(1), np.dtype(np.float64))
    np.testing.assert_array_equal(layer.params["W"][1], alone)
    assert layer.params["b"].shape == (2, 1, 3)


def test_dense_keeps_float32(rng):
    layer = dense(4, 3, 2, rng, np.float32, init.he_normal)
    y = layer.forward(rng.normal(size=(2, 2, 4)).astype(np.float32))
    assert y.dtype == np.float32
    assert layer.backward(np.ones_like(y)).dtype == np.float32
    assert all(g.dtype == np.float32 for g in layer.grads.values())


def test_flatten_round_trips_shape(rng):
    layer = Flatten()
    x = rng.normal(size=(2, 3, 4, 4, 2))
    assert layer.forward(x).shape == (2, 3, 32)
    check_layer(layer, x, rng)
