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
        self.ones = np.ones(0, dtype=dtype)  # (N,): db = ones @ dy, 3x faster than a sum

    def forward(self, x: Array) -> Array:
        self.x = x  # (N, D_in)
        y = x @ self.params["W"]  # (N, D_out)
        y += self.params["b"]
        return y

    def backward(self, dy: Array) -> Array:
        self.param_backward(dy)
        return dy @ self.params["W"].T  # (N, D_in)

    def param_backward(self, dy: Array) -> None:
        # Write into the preallocated grads: no weight-sized temporary per step.
        if len(dy) == 1:
            # An outer product: OpenBLAS's sgemm with inner size 1 is ~4x slower than this.
            np.multiply(self.x.T, dy, out=self.grads["W"])  # (D_in, 1) * (1, D_out)
        else:
            np.matmul(self.x.T, dy, out=self.grads["W"])  # (D_in, D_out)
        if len(self.ones) != len(dy):
            self.ones = np.ones(len(dy), dtype=dy.dtype)
        np.matmul(self.ones, dy, out=self.grads["b"])  # (D_out,) = column sums of dy
