"""One or two steps on f(w) = 1/2 ||w||^2 (gradient = w), checked against the rules by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from omegaconf import OmegaConf

from src.checks import check_node
from src.errors import ConfigError
from src.optimizer import SGD, Adam, Momentum


def quadratic_steps(optimizer_class, steps, runs=1, dtype=np.float64, **kwargs):
    """Run 0's weights after each step, or every run's (K, 2) with `runs` > 1."""
    w = np.tile(np.array([1.0, -2.0], dtype=dtype), (runs, 1))  # (K, 2)
    g = np.zeros_like(w)
    opt = optimizer_class([(w, g)], **kwargs)
    history = []
    for _ in range(steps):
        g[:] = w  # gradient of 1/2 ||w||^2
        opt.step()
        history.append(w[0].copy() if runs == 1 else w.copy())
    return history


def test_sgd():
    (w1,) = quadratic_steps(SGD, 1, lr=0.1)
    np.testing.assert_allclose(w1, [0.9, -1.8])


def test_momentum_matches_pytorch_rule():
    w1, w2 = quadratic_steps(Momentum, 2, lr=0.1, momentum=0.9)
    w0 = np.array([1.0, -2.0])
    v1 = w0  # v <- 0.9 * 0 + g
    np.testing.assert_allclose(w1, w0 - 0.1 * v1)
    v2 = 0.9 * v1 + w1
    np.testing.assert_allclose(w2, w1 - 0.1 * v2)


def test_adam_matches_bias_corrected_rule():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    w1, w2 = quadratic_steps(Adam, 2, lr=lr, beta1=b1, beta2=b2, eps=eps)
    w, m, v = np.array([1.0, -2.0]), 0.0, 0.0
    for t, got in enumerate([w1, w2], start=1):
        g = w
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        np.testing.assert_allclose(got, w, rtol=1e-12)
    assert w1[0] == pytest.approx(1.0 - lr)  # first Adam step moves each weight by ~lr
    assert math.isclose(abs(w1[1]), 2.0 - lr)


PER_RUN = [
    (SGD, {"lr": [0.1, 0.5, 1e-3]}),
    (Momentum, {"lr": [0.1, 0.01, 0.3], "momentum": [0.9, 0.0, 0.5]}),
    (
        Adam,
        {
            "lr": [0.01, 0.1, 1e-3],
            "beta1": [0.9, 0.5, 0.0],
            "beta2": [0.999, 0.9, 0.99],
            "eps": [1e-8, 1e-3, 1.0],
        },
    ),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("optimizer_class", "hyper"), PER_RUN)
def test_per_run_hyper_parameters_give_each_run_its_steps_alone(optimizer_class, hyper, dtype):
    stacked = quadratic_steps(optimizer_class, 3, runs=3, dtype=dtype, **hyper)
    for k in range(3):
        alone = quadratic_steps(
            optimizer_class, 3, dtype=dtype, **{key: values[k] for key, values in hyper.items()}
        )
        for step_stacked, step_alone in zip(stacked, alone):
            np.testing.assert_array_equal(step_stacked[k], step_alone)  # bit for bit


@pytest.mark.parametrize(("optimizer_class", "hyper"), PER_RUN)
def test_select_keeps_each_remaining_runs_state(optimizer_class, hyper):
    w = np.tile(np.array([1.0, -2.0]), (3, 1))
    g = np.zeros_like(w)
    opt = optimizer_class([(w, g)], **hyper)
    for _ in range(2):
        g[:] = w
        opt.step()
    w2, g2 = w[[0, 2]].copy(), np.zeros((2, 2))
    opt.select(np.array([0, 2]), [(w2, g2)])
    g2[:] = w2
    opt.step()
    full = quadratic_steps(optimizer_class, 3, runs=3, **hyper)[-1]
    np.testing.assert_array_equal(w2, full[[0, 2]])


def test_defaults_are_pytorchs():
    w, g = np.ones((1, 2)), np.ones((1, 2))
    assert SGD([(w, g)]).lr == [0.1]  # ours: torch's SGD has no default rate
    momentum = Momentum([(w, g)]).hyper
    assert (momentum["lr"], momentum["momentum"]) == ([0.01], [0.9])
    adam = Adam([(w, g)]).hyper
    assert [adam[k][0] for k in ("lr", "beta1", "beta2", "eps")] == [0.001, 0.9, 0.999, 1e-8]


@pytest.mark.parametrize(
    ("optimizer_class", "kwargs"),
    [(SGD, {"lr": 0.1}), (Momentum, {"lr": 0.1, "momentum": 0.5}), (Adam, {"lr": 0.1})],
)
def test_every_parameter_is_updated_by_its_own_gradient(optimizer_class, kwargs):
    # Two parameters of other shapes, three steps: elementwise rules, so each entry follows
    # the path the same starting value takes alone.
    (one, minus_two) = quadratic_steps(optimizer_class, 3, **kwargs)[-1]
    w1, w2 = np.array([[-2.0, 1.0, 1.0]]), np.array([[[1.0, -2.0], [-2.0, -2.0]]])
    g1, g2 = np.zeros_like(w1), np.zeros_like(w2)
    opt = optimizer_class([(w1, g1), (w2, g2)], **kwargs)
    for _ in range(3):
        g1[:], g2[:] = w1, w2
        opt.step()
    np.testing.assert_allclose(w1[0], [minus_two, one, one], rtol=1e-12)
    np.testing.assert_allclose(w2[0], [[one, minus_two], [minus_two, minus_two]], rtol=1e-12)


def test_adam_bias_correction_over_ten_steps():
    lr, b1, b2, eps = 0.05, 0.8, 0.9, 1e-3
    got = quadratic_steps(Adam, 10, lr=lr, beta1=b1, beta2=b2, eps=eps)
    w, m, v = np.array([1.0, -2.0]), 0.0, 0.0
    for t in range(1, 11):
        m, v = b1 * m + (1 - b1) * w, b2 * v + (1 - b2) * w * w
        w = w - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        np.testing.assert_allclose(got[t - 1], w, rtol=1e-12)


@pytest.mark.parametrize(
    ("name", "key", "bad", "good"),
    [
        ("SGD", "lr", [0, -1e-3, math.inf], [1e-9, 0.5, 1e6]),
        ("Momentum", "momentum", [-0.1, 1.0, 1.5], [0.0, 0.5, 0.99]),
        ("Adam", "beta1", [-0.1, 1.0], [0.0, 0.5]),
        ("Adam", "beta2", [1.0, 2.0], [0.0, 0.999]),
        ("Adam", "eps", [0, math.inf], [1e-12, 2.0]),
    ],
)
def test_config_ranges(name, key, bad, good):
    # The signature is the config schema: what `optimizer.<key>=...` accepts.
    def check(value):
        check_node(OmegaConf.create({"_target_": f"src.optimizer.{name}", key: value}), "optimizer")

    for value in bad:
        with pytest.raises(ConfigError, match=f"optimizer.{key}="):
            check(value)
    for value in good:
        check(value)


def steady_steps(optimizer_class, gradient, steps=300, **kwargs):
    """The last step's size per run under a constant gradient, and the optimizer."""
    w = np.zeros((len(kwargs["lr"]), 1))
    g = np.zeros_like(w)
    opt = optimizer_class([(w, g)], **kwargs)
    for _ in range(steps):
        before = w.copy()
        g[:] = gradient
        opt.step()
    return (before - w)[:, 0], opt


@pytest.mark.parametrize(
    ("optimizer_class", "kwargs"),
    [(SGD, {}), (Momentum, {"momentum": [0.0, 0.5, 0.9]}), (Adam, {})],
)
def test_step_attributes_say_how_a_steady_step_relates_to_the_gradient(optimizer_class, kwargs):
    # The diagnosis reads these: a steady step is lr * step_scale * g, or ~lr * step_scale per
    # weight whatever g when the optimizer normalizes the gradient.
    lr = np.array([0.01, 0.02, 0.03])
    small, opt = steady_steps(optimizer_class, 1e-3, lr=lr, **kwargs)
    large, _ = steady_steps(optimizer_class, 1.0, lr=lr, **kwargs)
    scale = np.broadcast_to(opt.step_scale, (3,))
    if opt.normalizes_gradient:
        np.testing.assert_allclose([small, large], [lr * scale] * 2, rtol=1e-3)
    else:
        np.testing.assert_allclose([small, large], [1e-3 * lr * scale, lr * scale], rtol=1e-6)
    assert opt.normalizes_gradient == (optimizer_class is Adam)
