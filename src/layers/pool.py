"""Max pooling over size x size windows, vectorized through strided views."""

from __future__ import annotations

from typing import Annotated

import numpy as np

from src.arrays import Array
from src.checks import Interval
from src.layers.base import Layer
from src.layers.im2col import col2im, windows

Count = Annotated[int, Interval(1)]


class MaxPool2D(Layer):
    """x (K, N, H, W, C) -> y (K, N, OH, OW, C), the max of each window; no parameters.

    Windows that do not fit are dropped (floor, like PyTorch). The gradient goes to one
    winner per window, the first maximum in row-major order, so ties never double-count.
    """

    def __init__(self, size: Count = 2, stride: Count = 2) -> None:
        super().__init__()
        self.size, self.stride = size, stride
        self.winner: Array | None = None  # (K*N, OH, OW, C) offset i*size + j of each max
        self.x_shape: tuple[int, ...] = ()

    def forward(self, x: Array) -> Array:
        y = self._forward(x.reshape(-1, *x.shape[2:]))  # runs folded into the batch
        return y.reshape(*x.shape[:2], *y.shape[1:])

    def backward(self, dy: Array) -> Array:
        dx = self._backward(dy.reshape(-1, *dy.shape[2:]))
        return dx.reshape(*dy.shape[:2], *dx.shape[1:])

    def _forward(self, x: Array) -> Array:
        # One elementwise pass per kernel offset: argmax over a short strided window axis
        # is ~4x slower, and a masked copy mispredicts on random masks.
        view = windows(x, self.size, self.stride)  # (N, OH, OW, S, S, C)
        y = view[:, :, :, 0, 0, :].copy()  # (N, OH, OW, C)
        winner = np.zeros(y.shape, dtype=np.min_scalar_type(self.size**2 - 1))
        for k in range(1, self.size**2):
            candidate = view[:, :, :, k // self.size, k % self.size, :]
            better = candidate > y  # strict: the first of equal maxima keeps the gradient
            np.maximum(y, candidate, out=y)  # propagates NaN like np.max
            # k exceeds every earlier winner, so a max sets k exactly where `better` holds.
            np.maximum(winner, better * winner.dtype.type(k), out=winner)
        self.winner, self.x_shape = winner, x.shape
        return y

    def _backward(self, dy: Array) -> Array:
        n, oh, ow, c = dy.shape
        s, stride = self.size, self.stride
        if stride == s:  # windows do not overlap: write each offset's share straight into dx
            dx = np.zeros(self.x_shape, dtype=dy.dtype)  # pixels no window covers stay 0
            for k in range(s * s):
                i, j = divmod(k, s)
                rows, cols = slice(i, i + s * oh, s), slice(j, j + s * ow, s)
                np.multiply(dy, self.winner == k, out=dx[:, rows, cols, :])  # (N, OH, OW, C)
            return dx
        dcols = np.empty((n, oh, ow, s, s, c), dtype=dy.dtype)
        for k in range(s * s):
            np.multiply(dy, self.winner == k, out=dcols[:, :, :, k // s, k % s, :])
        # col2im sums overlapping windows (stride < size) and leaves uncovered pixels at 0.
        return col2im(dcols, self.x_shape, stride, 0)  # (N, H, W, C)
