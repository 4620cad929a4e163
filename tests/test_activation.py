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


def slope(layer, z: float) -> float:
    layer.forward(np.array([[[z]]]))
    return float(layer.backward(np.ones((1, 1, 1)))[0, 0, 0])


@pytest.mark.parametrize("layer", [ReLU(), LeakyReLU(0.01), Sigmoid(), Tanh()])
def test_diagnosis_attributes_match_what_the_activation_does(layer):
    # The diagnosis reads these attributes; each is checked against the function itself.
    knee = layer.saturation_knee
    if knee is None:
        assert slope(layer, 50.0) >= 1e-2 or slope(layer, -50.0) >= 1e-2
    else:  # the derivative drops below 1e-2 at the knee, not 0.1 before it
        assert slope(layer, knee) < 1e-2 < slope(layer, knee - 0.1)
    small = layer.forward(np.array([[[1e-4]]]))[0, 0, 0]
    assert layer.keeps_scale == (small / 1e-4 == pytest.approx(1.0, rel=1e-3))
    assert layer.can_die == all(slope(layer, z) == 0.0 for z in (-3.0, -1e-3))
    negative, positive = (float(layer.forward(np.array([[[z]]]))[0, 0, 0]) for z in (-1.0, 1.0))
    assert layer.rectifier == (abs(negative) < 0.1 * abs(positive))


def test_an_activation_claims_nothing_by_default():
    assert (Softmax.saturation_knee, Softmax.keeps_scale, Softmax.can_die,
            Softmax.rectifier) == (None, False, False, False)  # fmt: skip
