"""Losses (config group `loss`): forward(out, y) -> mean loss, backward() -> d loss / d out.

Both average over the batch, so gradients are means and the learning rate does not scale with
the batch size.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from src.arrays import Array


class CrossEntropy:
    """Softmax fused with negative log-likelihood, via log-sum-exp; takes raw logits (N, K)."""

    takes_logits = True

    def forward(self, logits: Array, y: Array) -> float:
        shifted = logits - logits.max(axis=1, keepdims=True)  # (N, K), max 0: exp cannot overflow
        log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, 1)
        self.log_probs = shifted - log_norm  # (N, K)
        self.y = y
        return float(-self.log_probs[np.arange(len(y)), y].mean())

    def backward(self) -> Array:
        grad = np.exp(self.log_probs)  # softmax (N, K)
        grad[np.arange(len(self.y)), self.y] -= 1.0
        grad /= len(self.y)
        return grad


class MSE:
    """Mean over the batch of 1/2 ||out - target||^2, targets one-hot (0/1) or +1/-1."""

    takes_logits = False

    def __init__(self, targets: Literal["onehot", "pm1"] = "onehot") -> None:
        self.targets = targets

    def forward(self, out: Array, y: Array) -> float:
        off_value = 0.0 if self.targets == "onehot" else -1.0
        target = np.full_like(out, off_value)  # (N, K)
        target[np.arange(len(y)), y] = 1.0
        self.diff = out - target  # (N, K)
        return float(0.5 * np.sum(self.diff * self.diff) / len(y))

    def backward(self) -> Array:
        return self.diff / len(self.diff)
