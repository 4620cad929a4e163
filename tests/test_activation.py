from __future__ import annotations

import numpy as np
import pytest

from src.activation import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from tests.gradcheck import check_layer, check_runs_alone


def away_from_zero(rng, shape):
    """Inputs at least 0.1 from the ReLU kink, so finite differences never straddle it."""
    x = rng.normal(size=shape)
    return x + 0.1 * np.sign(x)


@pytest.mark.parametrize(
    "layer", [Identity(), ReLU(), LeakyReLU(0.1), Sigmoid(), Tanh(), Softmax()]
)
def test_activation_gradients(layer, rng):
    check_layer(layer, away_from_zero(rng, (3, 5, 6)), rng)  # (K, N, C): every run checked


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layer", [ReLU(), LeakyReLU(0.1), Sigmoid(), Tanh(), Softmax()])
def test_a_run_in_a_stack_of_32_computes_what_it_computes_alone(layer, dtype, rng):
    check_runs_alone(layer, rng.normal(size=(32, 16, 10)).astype(dtype), rng)


def test_sigmoid_is_stable_for_huge_inputs():
    y = Sigmoid().forward(np.array([[[-1e4, 0.0, 1e4]]]))
    np.testing.assert_allclose(y, [[[0.0, 0.5, 1.0]]])


def test_softmax_rows_sum_to_one_even_for_huge_logits():
    y = Softmax().forward(np.array([[[1e4, 0.0, -1e4]], [[3.0, 3.0, 3.0]]]))  # two runs
    np.testing.assert_allclose(y.sum(axis=-1), 1.0)
    np.testing.assert_allclose(y[1], 1 / 3)


def test_relu_and_leaky_relu_values():
    x = np.array([[[-2.0, 3.0]]])
    np.testing.assert_array_equal(ReLU().forward(x), [[[0.0, 3.0]]])
    np.testing.assert_array_equal(LeakyReLU(0.5).forward(x), [[[-1.0, 3.0]]])
