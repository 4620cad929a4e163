"""Gradient noise scale: the two-batch estimator, and a pass of batch-size-1 gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest

from src.theory.noise import noise_scale_from_norms, noise_scales
from tests.theory.nets import small_net


def test_estimator_recovers_trace_over_squared_norm():
    g_sq, trace = 4.0, 40.0  # E|G_b|² = |G|² + tr(Σ)/b
    small, big = 8, 100
    b_simple = noise_scale_from_norms(g_sq + trace / small, g_sq + trace / big, small, big)
    assert b_simple == pytest.approx(trace / g_sq)


def test_estimator_is_nan_when_noise_swamps_the_mean_gradient():
    assert math.isnan(noise_scale_from_norms(1.0, 0.4, 1, 2))  # |G|² estimate: -0.2


def test_noise_scale_from_per_sample_gradients():
    """With batches of 1 the pass sees every sample once, so the estimate is deterministic:
    tr(Σ)·N/(N−1) over |G|² − tr(Σ)/(N−1), Σ the per-sample gradients' covariance."""
    net, x, y = small_net("model.hidden=[6]", "dataset.limit_train=40", "activation=tanh")
    per_sample = np.array([net.loss_grads(x[i : i + 1], y[i : i + 1])[1][0] for i in range(len(y))])
    mean = per_sample.mean(axis=0)
    trace = float(np.sum((per_sample - mean) ** 2) / len(y))
    n = len(y)
    expected = trace * n / (n - 1) / (mean @ mean - trace / (n - 1))
    assert noise_scales(net, x, y, np.random.default_rng(0), small=1)[0] == pytest.approx(expected)


def test_a_training_set_smaller_than_the_small_batch_halves_it():
    net, x, y = small_net("model.hidden=[6]", "dataset.limit_train=8", "activation=tanh")
    capped = noise_scales(net, x, y, np.random.default_rng(0), small=16)[0]
    assert capped == noise_scales(net, x, y, np.random.default_rng(0), small=4)[0]
    assert math.isnan(noise_scales(net, x[:1], y[:1], np.random.default_rng(0))[0])
