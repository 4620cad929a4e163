from __future__ import annotations

import numpy as np
import pytest

from src.activation import OUTPUTS, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
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


def test_values_by_hand():
    x = np.array([[[-2.0, -0.5, 0.0, 0.5, 3.0]]])
    np.testing.assert_array_equal(Identity().forward(x.copy()), x)
    np.testing.assert_array_equal(ReLU().forward(x), np.maximum(x, 0.0))
    np.testing.assert_array_equal(LeakyReLU().forward(x), np.where(x > 0, x, 0.01 * x))
    np.testing.assert_allclose(Sigmoid().forward(x), 1 / (1 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_allclose(Tanh().forward(x), np.tanh(x), rtol=1e-15)
    e = np.exp(x - 3.0)
    np.testing.assert_allclose(Softmax().forward(x), e / e.sum(), rtol=1e-15)


def test_relu_gradient_is_zero_at_and_below_zero():
    layer = ReLU()
    layer.forward(np.array([[[-1.0, 0.0, 2.0]]]))
    np.testing.assert_array_equal(layer.backward(np.full((1, 1, 3), 5.0)), [[[0.0, 0.0, 5.0]]])
    leaky = LeakyReLU(0.1)
    leaky.forward(np.array([[[-1.0, 0.0, 2.0]]]))
    np.testing.assert_allclose(leaky.backward(np.full((1, 1, 3), 5.0)), [[[0.5, 0.5, 5.0]]])


def test_softmax_backward_is_the_jacobian_times_dy(rng):
    # Rows mix: dy in one row must not leak into another row's gradient.
    x, dy = rng.normal(size=(1, 3, 4)), rng.normal(size=(1, 3, 4))
    layer = Softmax()
    y = layer.forward(x)[0]
    expected = [(np.diag(row) - np.outer(row, row)) @ d for row, d in zip(y, dy[0])]
    np.testing.assert_allclose(layer.backward(dy)[0], expected, rtol=1e-12, atol=1e-15)


def test_float32_stays_float32_through_every_activation(rng):
    x = rng.normal(size=(2, 2, 3)).astype(np.float32)
    for layer in (ReLU(), LeakyReLU(0.1), Sigmoid(), Tanh(), Softmax(), Identity()):
        y = layer.forward(x.copy())
        assert y.dtype == layer.backward(np.ones_like(y)).dtype == np.float32, layer


def test_output_activations_by_their_config_names():  # model.output_activation=...
    expected = {"identity": Identity, "sigmoid": Sigmoid, "tanh": Tanh, "softmax": Softmax}
    assert expected == OUTPUTS
