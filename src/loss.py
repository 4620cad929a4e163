"""Losses (config group `loss`): forward(out, y) -> mean loss, backward() -> d loss / d out.

Both average over the batch, so gradients are means and the learning rate does not scale with
the batch size. Class attributes and methods say what the diagnosis needs to know: whether the
loss takes raw logits (else the model ends in an output activation whose derivative enters every
gradient) and the loss of the best constant output.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from src.arrays import Array


class CrossEntropy:
    """Softmax fused with negative log-likelihood, via log-sum-exp; takes raw logits (N, K).

    backward() turns the softmax cached by forward into the gradient in place: call it once.
    """

    takes_logits = True

    def __init__(self) -> None:
        self.rows = np.arange(0)  # (N,) row indices, kept while the batch size stays

    def baseline_loss(self, n_classes: int) -> float:
        """Loss of the best constant output (the class prior everywhere): ln K."""
        return math.log(n_classes)

    def forward(self, logits: Array, y: Array) -> float:
        if len(self.rows) != len(y):
            self.rows = np.arange(len(y))
        # ufunc reductions directly: the ndarray methods add a Python wrapper per call.
        z = logits - np.maximum.reduce(logits, axis=1, keepdims=True)  # (N, K), max 0: no overflow
        probs = np.exp(z)  # (N, K)
        norm = np.add.reduce(probs, axis=1, keepdims=True)  # (N, 1)
        probs /= norm  # softmax, all that backward needs
        self.probs, self.y = probs, y
        # -log softmax(z)_y = log norm - z_y; both sums are >= 0, so nothing cancels.
        return float(np.log(norm).sum() - z[self.rows, y].sum()) / len(y)

    def backward(self) -> Array:
        grad = self.probs  # (N, K)
        grad[self.rows, self.y] -= 1.0
        grad *= 1.0 / len(self.y)
        return grad


class MSE:
    """Mean over the batch of 1/2 ||out - target||^2, targets one-hot (0/1) or +1/-1."""

    takes_logits = False

    def __init__(self, targets: Literal["onehot", "pm1"] = "onehot") -> None:
        self.targets = targets

    def baseline_loss(self, n_classes: int) -> float:
        """Loss of the best constant output (the class prior everywhere): with off/on targets
        a, b it is 0.5 * (K-1)/K * (b-a)^2 (0.45 for 10 one-hot classes, 1.8 for +1/-1)."""
        gap = 2.0 if self.targets == "pm1" else 1.0
        return 0.5 * (n_classes - 1) / n_classes * gap**2

    def forward(self, out: Array, y: Array) -> float:
        off_value = 0.0 if self.targets == "onehot" else -1.0
        target = np.full_like(out, off_value)  # (N, K)
        target[np.arange(len(y)), y] = 1.0
        self.diff = out - target  # (N, K)
        return float(0.5 * np.sum(self.diff * self.diff) / len(y))

    def backward(self) -> Array:
        return self.diff / len(self.diff)
