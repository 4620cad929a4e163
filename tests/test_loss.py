from __future__ import annotations

import math

import numpy as np
import pytest

from src.loss import MSE, CrossEntropy
from tests.gradcheck import numeric_grad, rel_error


@pytest.mark.parametrize("loss", [CrossEntropy(), MSE("onehot"), MSE("pm1")])
def test_loss_gradients(loss, rng):
    out = rng.normal(size=(7, 4)) * 3
    y = rng.integers(0, 4, size=7)
    loss.forward(out, y)
    analytic = loss.backward()
    numeric = numeric_grad(lambda: loss.forward(out, y), out)
    assert rel_error(analytic, numeric) <= 1e-6


def test_cross_entropy_is_finite_for_huge_logits():
    loss = CrossEntropy()
    value = loss.forward(np.array([[1e4, 0.0], [0.0, -1e4]]), np.array([1, 1]))
    assert value == pytest.approx((1e4 + 1e4) / 2)
    assert np.isfinite(loss.backward()).all()


def test_cross_entropy_of_uniform_logits_is_log_k():
    assert CrossEntropy().forward(np.zeros((3, 10)), np.array([0, 4, 9])) == pytest.approx(
        math.log(10)
    )


def test_mse_targets():
    out = np.zeros((1, 3))
    assert MSE("onehot").forward(out, np.array([2])) == pytest.approx(0.5)  # 1/2 * 1
    assert MSE("pm1").forward(out, np.array([2])) == pytest.approx(1.5)  # 1/2 * (1 + 1 + 1)


def cross_entropy_by_hand(out, y):
    probs = np.exp(out) / np.exp(out).sum(axis=1, keepdims=True)
    return float(np.mean(-np.log(probs[np.arange(len(y)), y]))), probs


def test_cross_entropy_value_and_gradient_by_hand_across_batch_sizes(rng):
    # The row index cache must follow the batch size: 4, then 3 (a last partial batch), then 4.
    loss = CrossEntropy()
    for n in (4, 3, 4):
        out, y = rng.normal(size=(n, 5)), rng.integers(0, 5, size=n)
        expected, probs = cross_entropy_by_hand(out, y)
        assert loss.forward(out, y) == pytest.approx(expected, rel=1e-12)
        probs[np.arange(n), y] -= 1
        np.testing.assert_allclose(loss.backward(), probs / n, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("targets", "off"), [("onehot", 0.0), ("pm1", -1.0)])
def test_mse_value_and_gradient_by_hand(targets, off, rng):
    out, y = rng.normal(size=(3, 4)), np.array([2, 0, 3])
    target = np.full((3, 4), off)
    target[np.arange(3), y] = 1.0
    loss = MSE(targets)
    assert loss.forward(out, y) == pytest.approx(0.5 * np.sum((out - target) ** 2) / 3, rel=1e-12)
    np.testing.assert_allclose(loss.backward(), (out - target) / 3, rtol=1e-12)


def test_losses_say_whether_they_take_logits():
    assert CrossEntropy.takes_logits is True and MSE.takes_logits is False
    assert MSE().targets == "onehot"
