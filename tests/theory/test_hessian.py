"""Hessian-vector products against finite differences and an exact Hessian; Lanczos; λ."""

from __future__ import annotations

import numpy as np
import pytest

from src.theory.hessian import hvp, sharpness, top_eigenvalue
from tests.gradcheck import numeric_grad, rel_error
from tests.theory.nets import small_net

SMALL = ("model.hidden=[6]", "dataset.limit_train=30")


def test_lanczos_finds_the_top_eigenvalue_of_a_known_quadratic():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((50, 50)))
    spectrum = np.concatenate([[-9.0, 7.5, 7.0], np.linspace(-3, 3, 47)])  # |-9| is largest
    a = q @ np.diag(spectrum) @ q.T  # Hessian of 1/2 xᵀAx
    assert top_eigenvalue(lambda v: a @ v, 50, rng) == pytest.approx(7.5, rel=1e-6)


@pytest.mark.parametrize("overrides", [("activation=tanh",), ("activation=relu", "loss=mse")])
def test_flat_gradient_matches_finite_differences_of_the_loss(overrides):
    net, x, y = small_net(*SMALL, *overrides)
    theta = net.get()

    def loss() -> float:
        net.set(theta)
        return net.loss_grad(x, y)[0]

    _, analytic = net.loss_grad(x, y)
    assert rel_error(analytic, numeric_grad(loss, theta)) <= 1e-6


@pytest.mark.parametrize(
    "overrides", [("activation=tanh",), ("activation=relu",), ("activation=tanh", "loss=mse")]
)
def test_hvp_matches_finite_differences_of_the_analytic_gradient(overrides):
    """Column by column: H e_i from hvp against d grad / d theta_i by central differences of
    the analytic gradient at a coarser step, on a slice of the parameters."""
    net, x, y = small_net(*SMALL, *overrides)
    theta = net.get()
    picked = np.random.default_rng(1).choice(net.size, size=12, replace=False)
    for i in picked:
        e = np.zeros(net.size)
        e[i] = 1.0
        column = np.zeros(net.size)
        for sign in (1, -1):
            net.set(theta + sign * 1e-5 * e)
            column += sign * net.loss_grad(x, y)[1] / 2e-5
        net.set(theta)
        assert rel_error(hvp(net, x, y, e), column) <= 1e-4, i
    u, v = np.random.default_rng(2).standard_normal((2, net.size))
    assert u @ hvp(net, x, y, v) == pytest.approx(v @ hvp(net, x, y, u), rel=1e-6)  # symmetric


def test_hvp_and_sharpness_are_exact_for_a_linear_mse_model():
    """No hidden layer and MSE: H = kron(X̃ᵀX̃ / N, I) with X̃ = [X, 1], W before b."""
    net, x, y = small_net("model.hidden=[]", "loss=mse", "dataset.limit_train=200")
    xt = np.hstack([x.reshape(len(x), -1), np.ones((len(x), 1))])  # (N, 65)
    gram = xt.T @ xt / len(x)  # (65, 65)
    h = np.kron(gram[:64, :64], np.eye(10))  # W-W block; W is (64, 10), row-major
    v = np.random.default_rng(0).standard_normal(net.size)
    exact = np.concatenate([h @ v[:640] + np.kron(gram[:64, 64:], np.eye(10)) @ v[640:],
                            np.kron(gram[64:, :64], np.eye(10)) @ v[:640] + v[640:]])  # fmt: skip
    assert rel_error(hvp(net, x, y, v), exact) <= 1e-7
    rng = np.random.default_rng(0)
    assert sharpness(net, x, y, len(y), rng) == pytest.approx(np.linalg.eigvalsh(gram)[-1], 1e-6)


@pytest.mark.slow
def test_default_net_sharpness_at_init_is_in_the_reference_range():
    """Measured with PyTorch autograd on this net: λ ≈ 4.5-9.8 on the full batch over seeds,
    ≈ 8-16 averaged over batch-size-1 batches."""
    net, x, y = small_net()
    rng = np.random.default_rng(0)
    assert 4.0 <= sharpness(net, x, y, len(y), rng) <= 11.0
    assert 7.0 <= sharpness(net, x, y, 1, rng) <= 18.0
