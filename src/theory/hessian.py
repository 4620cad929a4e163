"""Sharpness: the top eigenvalue of the loss Hessian, by Lanczos iteration on Hessian-vector
products taken as central differences of float64 gradients.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from src.arrays import Array, Rng
from src.theory.adapter import FlatNet

# Step along a unit vector. Small on purpose: a ReLU whose input changes sign inside the step
# adds a gradient jump / eps to H v, and the number of such crossings grows with eps, so the
# error does not shrink with eps -- it vanishes once no unit crosses. On the default net u.Hw
# and w.Hu agree to 1e-8 from eps 1e-6 down and disagree at 1e-5; rounding costs ~1e-16/eps.
EPS = 1e-7
STEPS, TOLERANCE = 60, 1e-5  # Lanczos products at most; relative change to stop at

BATCHES = 8  # mini-batches averaged per batch size

MatVec = Callable[[Array], Array]


def hvp(net: FlatNet, x: Array, y: Array, v: Array, eps: float = EPS) -> Array:
    """H v (size,) at the net's current parameters, on the batch (x, y); v need not be unit."""
    theta = net.get()
    scale = float(np.linalg.norm(v))
    if scale == 0.0:
        return np.zeros_like(v)
    step = (eps / scale) * v
    net.set(theta + step)
    _, up = net.loss_grad(x, y)
    net.set(theta - step)
    _, down = net.loss_grad(x, y)
    net.set(theta)
    return (up - down) * (scale / (2 * eps))


def top_eigenvalue(matvec: MatVec, size: int, rng: Rng, steps: int = STEPS,
                   tol: float = TOLERANCE) -> float:  # fmt: skip
    """Largest (algebraic) eigenvalue of a symmetric operator by Lanczos iteration.

    Full reorthogonalisation keeps the basis orthonormal in floating point; stops when the top
    Ritz value changes by less than `tol` (relative) in one step, or after `steps` products.
    """
    q = rng.standard_normal(size)
    # One array for the basis, its first k rows in use: no (k, size) copy of it per product.
    basis = np.empty((steps + 1, size))
    basis[0] = q / np.linalg.norm(q)
    alphas: list[float] = []
    betas: list[float] = []
    top = math.inf
    for k in range(1, steps + 1):  # k vectors in the basis
        w = matvec(basis[k - 1])
        alphas.append(float(basis[k - 1] @ w))
        previous, top = top, _top_ritz(alphas, betas)
        if abs(top - previous) <= tol * abs(top):
            break
        q_mat = basis[:k]  # (k, size)
        for _ in range(2):  # twice is enough (Kahan-Parlett)
            w -= q_mat.T @ (q_mat @ w)
        beta = float(np.linalg.norm(w))
        if beta <= 1e-12 * max(abs(top), 1.0):
            break  # the Krylov space is invariant: its Ritz values are exact
        betas.append(beta)
        np.divide(w, beta, out=basis[k])
    return top


def _top_ritz(alphas: list[float], betas: list[float]) -> float:
    """Largest eigenvalue of the Lanczos tridiagonal matrix."""
    t = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)  # (k, k)
    return float(np.linalg.eigvalsh(t)[-1])


def sharpness(
    net: FlatNet, x: Array, y: Array, batch: int, rng: Rng, batches: int = BATCHES
) -> float:
    """Mean over random mini-batches of size `batch` (each drawn without replacement from
    (x, y)) of the top Hessian eigenvalue at the net's current parameters; one eigenvalue, on
    all of (x, y), when `batch` covers it.

    `batches` batches, fewer for large ones (no more than fit in (x, y), at least 2): their
    eigenvalues vary less.
    """
    if batch >= len(y):
        return batch_eigenvalue(net, x, y, rng)
    values = []
    for _ in range(min(batches, max(2, len(y) // batch))):
        rows = rng.choice(len(y), size=batch, replace=False)
        values.append(batch_eigenvalue(net, x[rows], y[rows], rng))
    return float(np.mean(values))


def batch_eigenvalue(net: FlatNet, x: Array, y: Array, rng: Rng) -> float:
    """Top eigenvalue of the Hessian of the mean loss on (x, y) at the current parameters."""
    return top_eigenvalue(lambda v: hvp(net, x, y, v), net.size, rng)
