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


@pytest.mark.parametrize("batch", [1, 3])
def test_dense_values_and_gradients_match_the_formulas(batch, rng):
    # Batch 1 takes the outer-product path, larger batches the matmul.
    layer = dense(4, 3, 1, rng, kind=init.he_normal)
    layer.params["b"][:] = [0.5, -1.0, 2.0]
    w, b = layer.params["W"][0].copy(), layer.params["b"][0].copy()
    x, dy = rng.normal(size=(batch, 4)), rng.normal(size=(batch, 3))
    np.testing.assert_allclose(layer.forward(x[None])[0], x @ w + b, rtol=1e-12)
    np.testing.assert_allclose(layer.backward(dy[None].copy())[0], dy @ w.T, rtol=1e-12)
    np.testing.assert_allclose(layer.grads["W"][0], x.T @ dy, rtol=1e-12)
    np.testing.assert_allclose(layer.grads["b"][0, 0], dy.sum(axis=0), rtol=1e-12)


def test_dense_grads_follow_a_changing_batch_size(rng):
    layer = dense(2, 2, 1, rng, kind=init.he_normal)
    for batch in (3, 1, 2, 3):
        x, dy = rng.normal(size=(batch, 2)), rng.normal(size=(batch, 2))
        layer.forward(x[None])
        layer.param_backward(dy[None])
        np.testing.assert_allclose(layer.grads["b"][0, 0], dy.sum(axis=0), rtol=1e-12)
        np.testing.assert_allclose(layer.grads["W"][0], x.T @ dy, rtol=1e-12)


def test_select_keeps_the_chosen_runs_and_take_leaves_the_stack_alone(rng):
    layer = dense(3, 2, runs=4, rng=rng)
    before = {k: v.copy() for k, v in layer.params.items()}
    alone = layer.take(np.array([2]))  # a run that leaves the stack, as a model of its own
    assert all(np.array_equal(alone.params[k], before[k][[2]]) for k in before)
    assert all(np.array_equal(layer.params[k], before[k]) for k in before)
    layer.select(np.array([0, 3]))  # the runs still training
    assert all(np.array_equal(layer.params[k], before[k][[0, 3]]) for k in before)
    assert {k: g.shape for k, g in layer.grads.items()} == {
        k: (2, *v.shape[1:]) for k, v in before.items()
    }
    x = rng.standard_normal((2, 5, 3))
    assert layer.forward(x).shape == (2, 5, 2)  # forward runs on the two runs kept
