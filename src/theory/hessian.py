"""Sharpness: the top eigenvalue of the loss Hessian, by Lanczos iteration on Hessian-vector
products taken as central differences of float64 gradients; for every run of a stacked net at
once, each run's value the one its net alone gives.
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

MatVec = Callable[[Array, list[int]], Array]  # (vectors, the runs they belong to) -> products


def hvps(net: FlatNet, x: Array, y: Array, vs: Array, eps: float = EPS) -> Array:
    """H v of each run of the net (K, size) at its current parameters, on the batch (x, y) that
    all runs share; row k of `vs` is run k's v (need not be unit; a zero row moves nothing).
    Each run's row is what a net of that run alone gives, bit for bit: its norm is taken as one
    vector's, and everything else is elementwise or per run."""
    theta = net.get()  # (K, size)
    scales = np.array([float(np.linalg.norm(v)) for v in vs])  # (K,)
    shifts = np.divide(eps, scales, out=np.zeros_like(scales), where=scales > 0)[:, None] * vs
    net.set(theta + shifts)
    _, up = net.loss_grads(x, y)
    net.set(theta - shifts)
    _, down = net.loss_grads(x, y)
    net.set(theta)
    return (up - down) * (scales / (2 * eps))[:, None]


class Lanczos:
    """Lanczos iteration for the largest (algebraic) eigenvalue of a symmetric operator, one
    product at a time: `vector()` is the next vector to multiply, `update(product)` takes the
    operator times it. `top` is the estimate, final once `done`.

    Full reorthogonalisation keeps the basis orthonormal in floating point; done when the top
    Ritz value changes by less than `tol` (relative) in one step, or after `steps` products.
    """

    def __init__(self, start: Array, steps: int = STEPS, tol: float = TOLERANCE) -> None:
        # One array for the basis, its first k rows in use: no (k, size) copy of it per product.
        self.basis = np.empty((steps + 1, len(start)))
        self.basis[0] = start  # a unit vector
        self.alphas: list[float] = []
        self.betas: list[float] = []
        self.top, self.tol, self.steps = math.inf, tol, steps
        self.k = 1  # vectors in the basis
        self.done = False

    def vector(self) -> Array:
        return self.basis[self.k - 1]

    def update(self, w: Array) -> None:
        """Take w = A vector() (overwritten)."""
        k = self.k
        self.alphas.append(float(self.basis[k - 1] @ w))
        previous, self.top = self.top, _top_ritz(self.alphas, self.betas)
        if abs(self.top - previous) <= self.tol * abs(self.top):
            self.done = True
            return
        q_mat = self.basis[:k]  # (k, size)
        for _ in range(2):  # twice is enough (Kahan-Parlett)
            w -= q_mat.T @ (q_mat @ w)
        beta = float(np.linalg.norm(w))
        if beta <= 1e-12 * max(abs(self.top), 1.0):
            self.done = True  # the Krylov space is invariant: its Ritz values are exact
            return
        self.betas.append(beta)
        np.divide(w, beta, out=self.basis[k])
        self.k += 1
        self.done = self.k > self.steps


def top_eigenvalues(matvec: MatVec, runs: int, size: int, rng: Rng, steps: int = STEPS,
                    tol: float = TOLERANCE) -> list[float]:  # fmt: skip
    """Largest eigenvalue of each of `runs` symmetric operators, by Lanczos iterations in
    lockstep from one random start: `matvec(vectors, active)` maps the vectors (one row per
    run in `active`, the runs still iterating) to their products, so the operators cost one
    stacked product per step. A run's iteration only reads its own rows: its value is that of
    its operator on its own."""
    q = rng.standard_normal(size)
    start = q / np.linalg.norm(q)
    solvers = [Lanczos(start, steps, tol) for _ in range(runs)]
    while active := [k for k, solver in enumerate(solvers) if not solver.done]:
        products = matvec(np.stack([solvers[k].vector() for k in active]), active)
        for k, w in zip(active, products):
            solvers[k].update(w)
    return [solver.top for solver in solvers]


def _top_ritz(alphas: list[float], betas: list[float]) -> float:
    """Largest eigenvalue of the Lanczos tridiagonal matrix."""
    t = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)  # (k, k)
    return float(np.linalg.eigvalsh(t)[-1])


def sharpness(
    net: FlatNet, x: Array, y: Array, batch: int, rng: Rng, batches: int = BATCHES
) -> list[float]:
    """For each run of the net: the mean over random mini-batches of size `batch` (each drawn
    without replacement from (x, y), the same for every run) of the top Hessian eigenvalue at
    its current parameters; one eigenvalue, on all of (x, y), when `batch` covers it.

    `batches` batches, fewer for large ones (no more than fit in (x, y), at least 2): their
    eigenvalues vary less.
    """
    if batch >= len(y):
        return batch_eigenvalues(net, x, y, rng)
    values = []  # (batches, K)
    for _ in range(min(batches, max(2, len(y) // batch))):
        rows = rng.choice(len(y), size=batch, replace=False)
        values.append(batch_eigenvalues(net, x[rows], y[rows], rng))
    return [float(np.mean(run)) for run in zip(*values)]


def batch_eigenvalues(net: FlatNet, x: Array, y: Array, rng: Rng) -> list[float]:
    """Top eigenvalue of the Hessian of each run's mean loss on (x, y) at its parameters."""
    nets = {tuple(range(net.runs)): net}  # by the runs still iterating: a net of those only

    def products(vs: Array, active: list[int]) -> Array:
        if tuple(active) not in nets:
            nets[tuple(active)] = net.take(active)
        return hvps(nets[tuple(active)], x, y, vs)

    return top_eigenvalues(products, net.runs, net.size, rng)
