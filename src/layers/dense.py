"""Fully connected layer y = x W + b, for K runs at once."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from src.arrays import Array
from src.layers.base import Layer


class Dense(Layer):
    """x (K, N, D_in) -> y (K, N, D_out); W (K, D_in, D_out), b (K, 1, D_out).

    x may also be (1, N, D_in), one batch shared by every run (evaluation, probes): matmul
    broadcasts it without a copy.
    """

    def __init__(self, d_in: int, d_out: int, init: Callable[..., Array], dtype: np.dtype) -> None:
        super().__init__()
        w = init(shape=(d_in, d_out), fan_in=d_in, fan_out=d_out, dtype=dtype)  # (K, D_in, D_out)
        self.params["W"] = w
        self.params["b"] = np.zeros((len(w), 1, d_out), dtype=dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.x: Array | None = None
        self.ones = np.ones((1, 0), dtype=dtype)  # (1, N): db = ones @ dy, 3x faster than a sum

    def forward(self, x: Array) -> Array:
        self.x = x  # (K, N, D_in)
        y = x @ self.params["W"]  # (K, N, D_out): one gemm per run
        y += self.params["b"]
        return y

    def backward(self, dy: Array) -> Array:
        self.param_backward(dy)
        return dy @ self.params["W"].transpose(0, 2, 1)  # (K, N, D_in)

    def param_backward(self, dy: Array) -> None:
        # Write into the preallocated grads: no weight-sized temporary per step.
        xt = self.x.transpose(0, 2, 1)  # (K, D_in, N)
        if dy.shape[1] == 1:
            # An outer product: OpenBLAS's sgemm with inner size 1 is ~4x slower than this.
            np.multiply(xt, dy, out=self.grads["W"])  # (K, D_in, 1) * (K, 1, D_out)
        else:
            np.matmul(xt, dy, out=self.grads["W"])  # (K, D_in, D_out)
        if self.ones.shape[1] != dy.shape[1]:
            self.ones = np.ones((1, dy.shape[1]), dtype=dy.dtype)
        np.matmul(self.ones, dy, out=self.grads["b"])  # (K, 1, D_out) = column sums of dy
