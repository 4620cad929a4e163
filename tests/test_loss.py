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
