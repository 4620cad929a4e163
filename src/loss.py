"""Losses (config group `loss`): forward(out, y) -> mean loss per run, backward() -> d loss / d out.

Both average over the batch, so gradients are means and the learning rate does not scale with
the batch size. Shapes carry the run axis K: out (K, N, C), y (K, N) (each run its own labels,
or one batch broadcast), loss (K,) in float64. Every reduction runs along the last, contiguous
axis, so run k's values are bit for bit those of run k trained alone.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from src.arrays import Array


class Indices:
    """Index arrays picking out[k, n, y[k, n]], kept while (K, N) stays."""

    def __init__(self) -> None:
        self.runs, self.rows = np.arange(0)[:, None], np.arange(0)

    def __call__(self, y: Array) -> tuple[Array, Array]:
        if len(self.runs) != y.shape[0] or len(self.rows) != y.shape[1]:
            self.runs, self.rows = np.arange(y.shape[0])[:, None], np.arange(y.shape[1])
        return self.runs, self.rows  # (K, 1), (N,)


class CrossEntropy:
    """Softmax fused with negative log-likelihood, via log-sum-exp; takes raw logits (K, N, C).

    backward() turns the softmax cached by forward into the gradient in place: call it once.
    """

    takes_logits = True

    def __init__(self) -> None:
        self.index = Indices()

    def forward(self, logits: Array, y: Array) -> Array:
        runs, rows = self.index(y)
        # ufunc reductions directly: the ndarray methods add a Python wrapper per call.
        z = logits - np.maximum.reduce(logits, axis=2, keepdims=True)  # (K, N, C), max 0
        probs = np.exp(z)  # (K, N, C)
        norm = np.add.reduce(probs, axis=2, keepdims=True)  # (K, N, 1)
        probs /= norm  # softmax, all that backward needs
        self.probs, self.y = probs, y
        # -log softmax(z)_y = log norm - z_y; both sums are >= 0, so nothing cancels.
        log_norm = np.add.reduce(np.log(norm[:, :, 0]), axis=1)  # (K,)
        picked = np.add.reduce(z[runs, rows, y], axis=1)  # (K,)
        return (log_norm - picked).astype(np.float64) / y.shape[1]

    def backward(self) -> Array:
        grad = self.probs  # (K, N, C)
        runs, rows = self.index(self.y)
        grad[runs, rows, self.y] -= 1.0
        grad *= 1.0 / self.y.shape[1]
        return grad


class MSE:
    """Mean over the batch of 1/2 ||out - target||^2, targets one-hot (0/1) or +1/-1."""

    takes_logits = False

    def __init__(self, targets: Literal["onehot", "pm1"] = "onehot") -> None:
        self.targets = targets
        self.index = Indices()

    def forward(self, out: Array, y: Array) -> Array:
        off_value = 0.0 if self.targets == "onehot" else -1.0
        target = np.full_like(out, off_value)  # (K, N, C)
        target[self.index(y) + (y,)] = 1.0
        self.diff = out - target  # (K, N, C)
        squares = (self.diff * self.diff).reshape(len(out), -1)  # (K, N*C)
        return (0.5 * np.add.reduce(squares, axis=1) / y.shape[1]).astype(np.float64)

    def backward(self) -> Array:
        return self.diff / self.diff.shape[1]
