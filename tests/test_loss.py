from __future__ import annotations

import math

import numpy as np
import pytest

from src.loss import MSE, CrossEntropy
from tests.gradcheck import numeric_grad, rel_error

LOSSES = [CrossEntropy, lambda: MSE("onehot"), lambda: MSE("pm1")]


@pytest.mark.parametrize("make", LOSSES)
def test_loss_gradients_for_every_run(make, rng):
    loss = make()
    out = rng.normal(size=(3, 7, 4)) * 3  # (K, N, C)
    y = rng.integers(0, 4, size=(3, 7))  # each run its own labels
    loss.forward(out, y)
    analytic = loss.backward()
    # Runs are independent: d(sum of the K losses)/d out holds every run's gradient.
    numeric = numeric_grad(lambda: float(loss.forward(out, y).sum()), out)
    assert rel_error(analytic, numeric) <= 1e-6


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", [1, 16, 1437])
@pytest.mark.parametrize("make", LOSSES)
def test_a_run_in_a_stack_of_32_gets_its_loss_alone_bit_for_bit(make, batch, dtype, rng):
    out = (rng.normal(size=(32, batch, 10)) * 3).astype(dtype)
    y = rng.integers(0, 10, size=(32, batch))
    stacked = make()
    values = stacked.forward(out, y)
    grads = stacked.backward().copy()
    assert values.shape == (32,) and values.dtype == np.float64
    for k in range(32):
        alone = make()
        value = alone.forward(out[k : k + 1], y[k : k + 1])
        np.testing.assert_array_equal(value, values[k : k + 1])
        np.testing.assert_array_equal(alone.backward(), grads[k : k + 1])


def test_cross_entropy_is_finite_for_huge_logits():
    loss = CrossEntropy()
    value = loss.forward(np.array([[[1e4, 0.0], [0.0, -1e4]]]), np.array([[1, 1]]))
    assert value[0] == pytest.approx((1e4 + 1e4) / 2)
    assert np.isfinite(loss.backward()).all()


def test_cross_entropy_of_uniform_logits_is_log_k():
    value = CrossEntropy().forward(np.zeros((2, 3, 10)), np.array([[0, 4, 9], [1, 1, 1]]))
    np.testing.assert_allclose(value, [math.log(10)] * 2)


def test_mse_targets():
    out = np.zeros((1, 1, 3))
    assert MSE("onehot").forward(out, np.array([[2]]))[0] == pytest.approx(0.5)  # 1/2 * 1
    assert MSE("pm1").forward(out, np.array([[2]]))[0] == pytest.approx(1.5)  # 1/2 * (1 + 1 + 1)


def cross_entropy_by_hand(out, y):
    probs = np.exp(out) / np.exp(out).sum(axis=1, keepdims=True)
    return float(np.mean(-np.log(probs[np.arange(len(y)), y]))), probs


def test_cross_entropy_value_and_gradient_by_hand_across_batch_sizes(rng):
    # The row index cache must follow the batch size: 4, then 3 (a last partial batch), then 4;
    # a batch of 1 takes the shortcut of sums over one value, and 2 is the smallest mean.
    loss = CrossEntropy()
    for n in (4, 3, 4, 1, 2):
        out, y = rng.normal(size=(n, 5)), rng.integers(0, 5, size=n)
        expected, probs = cross_entropy_by_hand(out, y)
        assert loss.forward(out[None], y[None])[0] == pytest.approx(expected, rel=1e-12)
        probs[np.arange(n), y] -= 1
        np.testing.assert_allclose(loss.backward()[0], probs / n, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("targets", "off"), [("onehot", 0.0), ("pm1", -1.0)])
def test_mse_value_and_gradient_by_hand(targets, off, rng):
    out, y = rng.normal(size=(3, 4)), np.array([2, 0, 3])
    target = np.full((3, 4), off)
    target[np.arange(3), y] = 1.0
    loss = MSE(targets)
    expected = 0.5 * np.sum((out - target) ** 2) / 3
    assert loss.forward(out[None], y[None])[0] == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(loss.backward()[0], (out - target) / 3, rtol=1e-12)


def test_losses_say_whether_they_take_logits():
    assert CrossEntropy.takes_logits is True and MSE.takes_logits is False
    assert MSE().targets == "onehot"


@pytest.mark.parametrize("classes", [4, 10])
@pytest.mark.parametrize(("make", "targets"), [(MSE, "onehot"), (MSE, "pm1"), (CrossEntropy, None)])
def test_baseline_is_the_loss_of_the_class_prior_everywhere(make, targets, classes):
    # Balanced labels: the best constant output is the prior, 1/C per class (-1 + 2/C for +1/-1
    # targets); logits of zeros give cross-entropy that prior.
    loss = make(targets) if targets else make()
    y = np.arange(classes)[None]  # (1, C): each class once
    if targets is None:
        out = np.zeros((1, classes, classes))
    else:
        low = 0.0 if targets == "onehot" else -1.0
        out = np.full((1, classes, classes), low + (1.0 - low) / classes)
    assert loss.baseline_loss(classes) == pytest.approx(loss.forward(out, y)[0], rel=1e-12)
    expected = {"onehot": 0.45, "pm1": 1.8, None: math.log(10)}[targets]
    assert loss.baseline_loss(10) == pytest.approx(expected, rel=1e-12)
