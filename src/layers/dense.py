"""Fully connected layer y = x W + b, for K runs at once."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from src.arrays import Array
from src.layers.base import Layer


class Dense(Layer):
    """x (K, N, D_in) -> y (K, N, D_out); W (K, D_in, D_out), b (K, 1, D_out).

    W and b are views of one (K, D_in + 1, D_out) array whose last row is b (as in Conv2D), so
    the optimizer and the finite check touch one array per layer, not two: at batch size 1 a
    step is a few dozen small NumPy calls and each one costs as much as its arithmetic.
    x may also be (1, N, D_in), one batch shared by every run (evaluation, probes): matmul
    broadcasts it without a copy.
    """

    def __init__(self, d_in: int, d_out: int, init: Callable[..., Array], dtype: np.dtype) -> None:
        super().__init__()
        w = init(shape=(d_in, d_out), fan_in=d_in, fan_out=d_out, dtype=dtype)  # (K, D_in, D_out)
        self.wb = np.zeros((len(w), d_in + 1, d_out), dtype=dtype)  # rows: W, then b
        self.wb[:, :d_in] = w
        self._bind(np.zeros_like(self.wb))
        self.x: Array | None = None
        self.ones = np.ones((1, 0), dtype=dtype)  # (1, N): db = ones @ dy, 3x faster than a sum
        self.x1: Array | None = None  # batch size 1: [x, 1] per run, made on first use

    def _bind(self, gwb: Array) -> None:
        """Views, so the optimizer's in-place updates land in wb and backward fills gwb."""
        self.gwb = gwb  # dW and db, same layout as wb
        self.params = {"W": self.wb[:, :-1], "b": self.wb[:, -1:]}
        self.grads = {"W": gwb[:, :-1], "b": gwb[:, -1:]}

    def storage(self) -> list[tuple[Array, Array]]:
        return [(self.wb, self.gwb)]

    def select(self, runs: Array) -> None:
        self.wb = self.wb[runs]
        self._bind(self.gwb[runs])

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
        if dy.shape[1] == 1:
            # dW and db in one outer product [x, 1] (x) dy into the whole contiguous gwb: every
            # entry one rounded product (as in a gemm of inner size 1), db = 1 * dy exactly.
            # einsum's loop is ~2x faster than a broadcast multiply, ~4x than OpenBLAS, and
            # ~1.4x faster into a contiguous array than into the dW view.
            x1 = self._with_ones(self.x)  # (K, 1, D_in + 1)
            np.einsum("kni,knj->kij", x1, dy, out=self.gwb)  # (K, D_in + 1, D_out)
            return
        dw, db = self.grads["W"], self.grads["b"]
        np.matmul(self.x.transpose(0, 2, 1), dy, out=dw)  # (K, D_in, D_out)
        if self.ones.shape[1] != dy.shape[1]:
            self.ones = np.ones((1, dy.shape[1]), dtype=dy.dtype)
        np.matmul(self.ones, dy, out=db)  # (K, 1, D_out) = column sums of dy

    def _with_ones(self, x: Array) -> Array:
        """x (K, 1, D_in) with a 1 appended to its one sample, in a buffer kept across steps."""
        if self.x1 is None or len(self.x1) != len(x):
            self.x1 = np.ones((len(x), 1, x.shape[2] + 1), dtype=x.dtype)
        self.x1[:, :, :-1] = x
        return self.x1
