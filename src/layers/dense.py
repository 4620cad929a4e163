"""Fully connected layer y = x W + b."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from src.arrays import Array, Rng
from src.layers.base import Layer


class Dense(Layer):
    """x (N, D_in) -> y (N, D_out); W (D_in, D_out), b (D_out,)."""

    def __init__(
        self, d_in: int, d_out: int, init: Callable[..., Array], rng: Rng, dtype: np.dtype
    ) -> None:
        super().__init__()
        self.params["W"] = init(
            shape=(d_in, d_out), fan_in=d_in, fan_out=d_out, rng=rng, dtype=dtype
        )
        self.params["b"] = np.zeros(d_out, dtype=dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.x: Array | None = None

    def forward(self, x: Array) -> Array:
        self.x = x  # (N, D_in)
        return x @ self.params["W"] + self.params["b"]  # (N, D_out)

    def backward(self, dy: Array) -> Array:
        # Write into the preallocated grads: no weight-sized temporary per step.
        np.matmul(self.x.T, dy, out=self.grads["W"])  # (D_in, D_out)
        np.sum(dy, axis=0, out=self.grads["b"])  # (D_out,)
        return dy @ self.params["W"].T  # (N, D_in)
