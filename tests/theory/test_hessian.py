"""Hessian-vector products against finite differences and an exact Hessian; Lanczos; λ; a
stack's values each the one its run's net gives alone."""

from __future__ import annotations

import numpy as np
import pytest

from src.build import load_data
from src.theory.adapter import float64_net
from src.theory.hessian import hvps, sharpness, top_eigenvalues
from tests.conftest import compose_config
from tests.gradcheck import numeric_grad, rel_error
from tests.theory.nets import small_net

SMALL = ("model.hidden=[6]", "dataset.limit_train=30")


def hvp(net, x, y, v):
    """H v of a one-run net."""
    return hvps(net, x, y, v[None])[0]


def test_lanczos_finds_the_top_eigenvalue_of_a_known_quadratic():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((50, 50)))
    spectrum = np.concatenate([[-9.0, 7.5, 7.0], np.linspace(-3, 3, 47)])  # |-9| is largest
    a = q @ np.diag(spectrum) @ q.T  # Hessian of 1/2 xᵀAx
    assert top_eigenvalues(lambda vs, _: vs @ a, 1, 50, rng)[0] == pytest.approx(7.5, rel=1e-6)


@pytest.mark.parametrize("overrides", [("activation=tanh",), ("activation=relu", "loss=mse")])
def test_flat_gradient_matches_finite_differences_of_the_loss(overrides):
    net, x, y = small_net(*SMALL, *overrides)
    theta = net.get()[0]

    def loss() -> float:
        net.set(theta[None])
        return net.loss_grads(x, y)[0][0]

    analytic = net.loss_grads(x, y)[1][0]
    assert rel_error(analytic, numeric_grad(loss, theta)) <= 1e-6


@pytest.mark.parametrize(
    "overrides", [("activation=tanh",), ("activation=relu",), ("activation=tanh", "loss=mse")]
)
def test_hvp_matches_finite_differences_of_the_analytic_gradient(overrides):
    """Column by column: H e_i from hvp against d grad / d theta_i by central differences of
    the analytic gradient at a coarser step, on a slice of the parameters."""
    net, x, y = small_net(*SMALL, *overrides)
    theta = net.get()[0]
    picked = np.random.default_rng(1).choice(net.size, size=12, replace=False)
    for i in picked:
        e = np.zeros(net.size)
        e[i] = 1.0
        column = np.zeros(net.size)
        for sign in (1, -1):
            net.set((theta + sign * 1e-5 * e)[None])
            column += sign * net.loss_grads(x, y)[1][0] / 2e-5
        net.set(theta[None])
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
    exact_top = np.linalg.eigvalsh(gram)[-1]
    assert sharpness(net, x, y, len(y), rng) == [pytest.approx(exact_top, 1e-6)]


@pytest.mark.slow
def test_default_net_sharpness_at_init_is_in_the_reference_range():
    """Measured with PyTorch autograd on this net: λ ≈ 4.5-9.8 on the full batch over seeds,
    ≈ 8-16 averaged over batch-size-1 batches."""
    net, x, y = small_net()
    rng = np.random.default_rng(0)
    assert 4.0 <= sharpness(net, x, y, len(y), rng)[0] <= 11.0
    assert 7.0 <= sharpness(net, x, y, 1, rng)[0] <= 18.0


def test_lanczos_in_lockstep_gives_each_operator_the_value_it_gets_alone():
    rng = np.random.default_rng(0)
    spectra = [np.linspace(-1, 1, 30), np.linspace(0, 5, 30) ** 2, np.full(30, 2.0)]
    mats = []
    for spectrum in spectra:  # their iterations stop after different numbers of products
        q, _ = np.linalg.qr(rng.standard_normal((30, 30)))
        mats.append(q @ np.diag(spectrum) @ q.T)
    asked = []

    def products(vs, active):
        asked.append(active)
        return np.stack([mats[k] @ v for k, v in zip(active, vs)])

    together = top_eigenvalues(products, 3, 30, np.random.default_rng(5))
    alone = [top_eigenvalues(lambda vs, _, m=m: (m @ vs[0])[None], 1, 30,
                             np.random.default_rng(5))[0] for m in mats]  # fmt: skip
    assert [v.hex() for v in together] == [v.hex() for v in alone]
    assert together == [pytest.approx(1.0), pytest.approx(25.0), pytest.approx(2.0)]
    assert asked[0] == [0, 1, 2] and asked[-1] != [0, 1, 2]  # a finished run is not multiplied


@pytest.mark.parametrize("batch", [1, 16, 10_000])
def test_a_stacks_sharpness_is_each_runs_own_bit_for_bit(batch):
    """Seeds 0-2 in one float64 stack against each seed's net alone, as the sweep measures them
    at init: mini-batches, whole batch (10,000 covers the data)."""
    cfg = compose_config("logger=none", "model.hidden=[12]", "dataset.limit_train=100")
    data = load_data(cfg.dataset)
    x, y = data.x_train, data.y_train
    seeds = [0, 1, 2]
    stack = sharpness(float64_net([cfg] * 3, data, seeds), x, y, batch,
                      np.random.default_rng(0), batches=3)  # fmt: skip
    alone = [sharpness(float64_net([cfg], data, [s]), x, y, batch, np.random.default_rng(0),
                       batches=3)[0] for s in seeds]  # fmt: skip
    assert [v.hex() for v in stack] == [v.hex() for v in alone]
    assert len(set(stack)) == 3  # three different nets
