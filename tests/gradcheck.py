"""Central finite differences in float64, for checking every backward pass."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from src.arrays import Array

EPS = 1e-6


def numeric_grad(f: Callable[[], float], x: Array) -> Array:
    """d f / d x by central differences, perturbing `x` in place one entry at a time."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + EPS
        up = f()
        x[i] = old - EPS
        down = f()
        x[i] = old
        grad[i] = (up - down) / (2 * EPS)
    return grad


def rel_error(a: Array, b: Array) -> float:
    """max |a - b| / max(|a| + |b|): scale-free, 0 when both are exactly zero."""
    scale = np.maximum(np.abs(a) + np.abs(b), 1e-12).max()
    return float(np.abs(a - b).max() / scale)


def check_layer(layer, x: Array, rng: np.random.Generator, tol: float = 1e-6) -> None:
    """Assert backward matches finite differences for the input and every parameter.

    The scalar probed is sum(forward(x) * r) for a fixed random r, so every output counts.
    With x (1, N, ...) shared by K runs, dx is per run and the shared input's is their sum.
    """
    r = rng.standard_normal(layer.forward(x).shape)

    def f() -> float:
        return float(np.sum(layer.forward(x) * r))

    layer.forward(x)
    dx = layer.backward(r.copy())
    if len(dx) != len(x):
        dx = dx.sum(axis=0, keepdims=True)
    analytic = {"x": dx, **{k: g.copy() for k, g in layer.grads.items()}}
    numeric = {"x": numeric_grad(f, x), **{k: numeric_grad(f, p) for k, p in layer.params.items()}}
    for name in numeric:
        err = rel_error(analytic[name], numeric[name])
        assert err <= tol, f"{type(layer).__name__} d/d{name}: relative error {err:.2e} > {tol}"


def check_runs_alone(layer, x: Array, rng: np.random.Generator) -> None:
    """Run k of a stacked layer gives, bit for bit, what run k alone (K = 1) gives: outputs,
    input gradients and parameter gradients. x is (K, N, ...) or (1, N, ...) shared by all."""
    y = layer.forward(x).copy()
    dy = rng.standard_normal(y.shape).astype(y.dtype)
    dx = layer.backward(dy.copy()).copy()  # backward may overwrite its dy
    grads = {k: g.copy() for k, g in layer.grads.items()}
    for k in range(len(y)):
        alone = layer.take(np.array([k]))
        xk = x[k : k + 1] if len(x) > 1 else x
        np.testing.assert_array_equal(alone.forward(xk), y[k : k + 1])
        np.testing.assert_array_equal(alone.backward(dy[k : k + 1].copy()), dx[k : k + 1])
        for name, g in grads.items():
            np.testing.assert_array_equal(alone.grads[name], g[k : k + 1], err_msg=name)
