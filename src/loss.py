"""Losses (config group `loss`): forward(out, y) -> mean loss per run, backward() -> d loss / d out.

Both average over the batch, so gradients are means and the learning rate does not scale with
the batch size. Class attributes and methods say what the diagnosis needs to know: whether the
loss takes raw logits (else the model ends in an output activation whose derivative enters every
gradient) and the loss of the best constant output. Shapes carry the run axis K: out (K, N, C),
y (K, N) (each run its own labels, or one batch broadcast), loss (K,) in float64. Every
reduction runs along the last, contiguous axis, so run k's values are bit for bit those of run k
trained alone.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from src.arrays import Array


class Rows:
    """arange(K*N): with out viewed as (K*N, C), out[rows, y.ravel()] picks each label's entry
    (two index arrays are faster than three); kept while K*N stays."""

    def __init__(self) -> None:
        self.rows = np.arange(0)

    def __call__(self, y: Array) -> Array:
        if len(self.rows) != y.size:
            self.rows = np.arange(y.size)
        return self.rows


class CrossEntropy:
    """Softmax fused with negative log-likelihood, via log-sum-exp; takes raw logits (K, N, C).

    backward() turns the softmax cached by forward into the gradient in place: call it once.
    """

    takes_logits = True

    def __init__(self) -> None:
        self.rows = Rows()

    def baseline_loss(self, n_classes: int) -> float:
        """Loss of the best constant output (the class prior everywhere): ln K."""
        return math.log(n_classes)

    def forward(self, logits: Array, y: Array) -> Array:
        k, n = y.shape
        rows = self.rows(y)
        # ufunc reductions directly: the ndarray methods add a Python wrapper per call.
        z = logits - np.maximum.reduce(logits, axis=2, keepdims=True)  # (K, N, C), max 0
        probs = np.exp(z)  # (K, N, C)
        norm = np.add.reduce(probs, axis=2, keepdims=True)  # (K, N, 1)
        probs /= norm  # softmax, all that backward needs
        self.probs, self.y = probs, y
        # -log softmax(z)_y = log norm - z_y; both sums are >= 0, so nothing cancels.
        log_norms = np.log(norm).reshape(k, n)  # (K, N)
        picked = z.reshape(k * n, -1)[rows, y.reshape(-1)].reshape(k, n)  # (K, N)
        if n == 1:  # batch size 1: a sum and a mean of one value are that value, exactly
            return (log_norms - picked).reshape(k).astype(np.float64)
        log_norm = np.add.reduce(log_norms, axis=1)  # (K,)
        return np.true_divide(log_norm - np.add.reduce(picked, axis=1), n, dtype=np.float64)

    def backward(self) -> Array:
        grad = self.probs  # (K, N, C)
        k, n = self.y.shape
        grad.reshape(k * n, -1)[self.rows(self.y), self.y.reshape(-1)] -= 1.0  # a view of grad
        if n > 1:  # the mean over the batch (times 1 is exact: skipped)
            grad *= 1.0 / n
        return grad


class MSE:
    """Mean over the batch of 1/2 ||out - target||^2, targets one-hot (0/1) or +1/-1."""

    takes_logits = False

    def __init__(self, targets: Literal["onehot", "pm1"] = "onehot") -> None:
        self.targets = targets
        self.rows = Rows()

    def baseline_loss(self, n_classes: int) -> float:
        """Loss of the best constant output (the class prior everywhere): with off/on targets
        a, b it is 0.5 * (K-1)/K * (b-a)^2 (0.45 for 10 one-hot classes, 1.8 for +1/-1)."""
        gap = 2.0 if self.targets == "pm1" else 1.0
        return 0.5 * (n_classes - 1) / n_classes * gap**2

    def forward(self, out: Array, y: Array) -> Array:
        off_value = 0.0 if self.targets == "onehot" else -1.0
        target = np.full_like(out, off_value)  # (K, N, C)
        target.reshape(y.size, -1)[self.rows(y), y.reshape(-1)] = 1.0
        self.diff = out - target  # (K, N, C)
        squares = (self.diff * self.diff).reshape(len(out), -1)  # (K, N*C)
        return (0.5 * np.add.reduce(squares, axis=1) / y.shape[1]).astype(np.float64)

    def backward(self) -> Array:
        return self.diff / self.diff.shape[1]
