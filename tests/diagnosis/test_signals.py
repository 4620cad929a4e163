"""Probe-batch measurements: dead and saturated shares, noise, where a value went non-finite."""

from __future__ import annotations

import math

import numpy as np
import pytest

from src.activation import LeakyReLU, ReLU, Sigmoid, Tanh
from src.diagnosis import signals as sig
from src.diagnosis.evidence import Facts
from src.init import he_normal
from src.loss import MSE, CrossEntropy
from src.model.mlp import mlp
from src.probe import probe
from tests.diagnosis.factories import FACTS


def net(rng, hidden=(8,), activation=ReLU, takes_logits=True, output="identity", dtype=np.float64):
    return mlp(input_shape=(4,), n_classes=3, activation=activation, inits=[he_normal], rngs=[rng],
               dtype=np.dtype(dtype), takes_logits=takes_logits, hidden=list(hidden),
               output_activation=output)  # fmt: skip


def data(rng, n=32):
    return rng.normal(size=(n, 4)), rng.integers(0, 3, size=n)


def test_dead_share_counts_units_never_positive_on_the_batch():
    z = np.array([[1.0, -1.0, 0.0], [-2.0, -1.0, 0.0]])  # unit 0 fires once: alive
    assert sig.dead_share([(ReLU(), z)]) == pytest.approx(2 / 3)
    assert sig.dead_share([(Sigmoid(), z), (LeakyReLU(), z)]) is None  # none can die: no share


def test_a_conv_filter_is_one_unit_over_every_position():
    z = -np.ones((2, 3, 3, 4))  # (N, H, W, F)
    z[1, 2, 0, 3] = 0.5  # filter 3 fires at one position of one image
    assert sig.dead_share([(ReLU(), z)]) == pytest.approx(3 / 4)


def test_saturation_uses_each_activations_own_knee():
    z = np.array([[4.0, 5.0, -5.0, np.nan]])
    assert sig.saturated_share([(Sigmoid(), z)]) == pytest.approx(2 / 4)  # |z| >= 4.6
    assert sig.saturated_share([(Tanh(), z)]) == pytest.approx(3 / 4)  # |z| >= 3
    assert sig.saturated_share([(ReLU(), z)]) is None


def test_knees_are_where_the_derivative_falls_below_one_percent():
    s = 1 / (1 + math.exp(-Sigmoid.saturation_knee))
    assert s * (1 - s) == pytest.approx(0.01, abs=3e-4)
    assert 1 - math.tanh(Tanh.saturation_knee) ** 2 == pytest.approx(0.01, abs=3e-4)


def test_measure_gives_plain_numbers_per_weight_matrix(rng):
    model, (x, y) = net(rng, hidden=(8, 8)), data(rng)
    snap = sig.measure(probe(model, CrossEntropy(), x, y, 0.1).run(0), model, 0, FACTS)
    assert list(snap.grad_norms) == ["0.Dense:W", "2.Dense:W", "4.Dense:W"]
    assert list(snap.preact_rms) == ["1.ReLU", "3.ReLU"]
    assert 0 <= snap.dead_relu <= 1 and snap.saturated is None and snap.output_saturated is None
    assert snap.first_last_grad_ratio > 0 and snap.max_update_ratio > 0


def test_adam_steps_scale_with_the_square_root_of_the_size(rng):
    model, (x, y) = net(rng), data(rng)
    state = probe(model, CrossEntropy(), x, y, 0.01).run(0)
    adam = Facts(**{**FACTS.__dict__, "normalizes_gradient": True, "lr": 0.01})
    w = state.weights["0.Dense:W"]
    expected = 0.01 * math.sqrt(w.size) / np.linalg.norm(w)
    assert sig.step_ratio(state, "0.Dense:W", adam) == pytest.approx(expected)


def test_an_output_sigmoid_is_measured_apart_from_the_hidden_ones(rng):
    model, (x, y) = net(rng, activation=Sigmoid, takes_logits=False, output="sigmoid"), data(rng)
    snap = sig.measure(probe(model, MSE(), x * 100, y, 0.1).run(0), model, 0, FACTS)
    assert snap.saturated > 0.5 and snap.output_saturated is not None
    assert list(snap.preact_rms) == ["1.Sigmoid"]  # hidden layers only


def test_noise_factor_is_one_at_full_batch_and_larger_below(rng):
    model, (x, y) = net(rng), data(rng, 64)
    assert sig.noise_factor(model, CrossEntropy(), x, y, 64).tolist() == [1.0]  # (K,)
    assert sig.noise_factor(model, CrossEntropy(), x, y, 1)[0] > 1.0


def test_noise_factor_and_logit_rms_of_a_stack_are_each_runs_own(rng):
    x, y = data(rng, 64)
    rngs = [np.random.default_rng(s) for s in (0, 1, 2)]
    stack = mlp((4,), 3, ReLU, [he_normal] * 3, rngs, np.dtype(np.float64), True, hidden=[8])
    noise = sig.noise_factor(stack, CrossEntropy(), x, y, 4)
    logits = sig.logit_rms(stack, x)
    for k in range(3):
        alone = mlp((4,), 3, ReLU, [he_normal], [np.random.default_rng(k)],
                    np.dtype(np.float64), True, hidden=[8])  # fmt: skip
        assert sig.noise_factor(alone, CrossEntropy(), x, y, 4)[0] == noise[k]
        assert sig.logit_rms(alone, x)[0] == logits[k]


def test_noise_factor_of_a_net_without_gradient_is_nan_without_warnings(rng):
    model, (x, y) = net(rng), data(rng)
    for name, w in model.named_parameters().items():
        w[...] = -abs(w) if name.endswith(":W") else -1.0  # every ReLU dead: no gradient
    x = abs(x)
    assert math.isnan(sig.noise_factor(model, CrossEntropy(), x, y, 4)[0])


def test_the_first_nonfinite_layer_is_found(rng):
    model, (x, y) = net(rng, hidden=(8, 8)), data(rng)
    assert sig.first_nonfinite_layer(model, CrossEntropy(), x, y) is None
    model.layers[2].params["W"][0, 0, 0] = np.inf
    assert sig.first_nonfinite_layer(model, CrossEntropy(), x, y) == "2.Dense"
    assert sig.nonfinite_parameters(model) == ["2.Dense:W"]


def test_an_overflowing_loss_is_named_when_every_layer_is_finite(rng):
    model, (x, y) = net(rng, takes_logits=False, dtype=np.float32), data(rng)
    model.layers[-2].params["W"][...] = 1e20  # outputs ~1e20 fit float32; their squares do not
    assert sig.first_nonfinite_layer(model, MSE(), abs(x).astype(np.float32), y) == "loss"


def test_input_stats_spot_raw_integer_pixels():
    raw = np.arange(16.0).reshape(4, 4)
    assert sig.input_stats(raw, raw) == {"max_abs": 15.0, "integer_valued": True,
                                         "std": pytest.approx(raw.std())}  # fmt: skip
    assert not sig.input_stats(raw / 15, raw / 15)["integer_valued"]


def test_fans_follow_the_initializers(rng):
    model = net(rng, hidden=(8,))
    assert sig.fans(model) == [(4, 8), (8, 3)]
