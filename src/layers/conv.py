"""2-D convolution (cross-correlation, as in every DL library) as im2col plus one matmul."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from src.arrays import Array, Rng
from src.layers.base import Layer
from src.layers.im2col import col2im, im2col, padded_shape


class Conv2D(Layer):
    """x (N, H, W, C) -> y (N, OH, OW, F); W (KH, KW, C, F), b (F,).

    W's axes follow the patch order (KH, KW, C), so W.reshape(KH*KW*C, F) is a free view and
    the forward pass is one (N*OH*OW, KH*KW*C) @ (KH*KW*C, F) matmul.
    """

    def __init__(
        self,
        in_channels: int,
        filters: int,
        kernel: int,
        stride: int,
        padding: int,
        init: Callable[..., Array],
        rng: Rng,
        dtype: np.dtype,
    ) -> None:
        super().__init__()
        self.kernel, self.stride, self.padding = kernel, stride, padding
        shape = (kernel, kernel, in_channels, filters)
        fan_in, fan_out = kernel * kernel * in_channels, kernel * kernel * filters
        w = init(shape=shape, fan_in=fan_in, fan_out=fan_out, rng=rng, dtype=dtype)
        # C order keeps every (K, F) reshape below a view, so out= writes land in grads.
        self.params["W"] = np.ascontiguousarray(w)
        self.params["b"] = np.zeros(filters, dtype=dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.cols: Array | None = None  # (N*OH*OW, KH*KW*C), the only activation kept
        self.x_shape: tuple[int, ...] = ()
        self._buffers: dict[str, Array] = {}

    def forward(self, x: Array) -> Array:
        pad_out = None
        if self.padding:
            pad_out = self._buffer("pad", padded_shape(x.shape, self.padding), x.dtype)
        patches = im2col(x, self.kernel, self.stride, self.padding, pad_out)
        n, oh, ow = patches.shape[:3]  # patches: (N, OH, OW, KH, KW, C) view
        cols = self._buffer("cols", (n * oh * ow, patches[0, 0, 0].size), x.dtype)
        np.copyto(cols.reshape(patches.shape), patches)  # the one copy im2col needs
        self.cols, self.x_shape = cols, x.shape
        w = self.params["W"].reshape(cols.shape[1], -1)  # (KH*KW*C, F)
        y = cols @ w  # (N*OH*OW, F)
        y += self.params["b"]
        return y.reshape(n, oh, ow, -1)  # (N, OH, OW, F)

    def backward(self, dy: Array) -> Array:
        n, oh, ow, f = dy.shape
        dy2 = dy.reshape(-1, f)  # (N*OH*OW, F)
        k = self.cols.shape[1]
        np.matmul(self.cols.T, dy2, out=self.grads["W"].reshape(k, f))  # (KH*KW*C, F)
        np.sum(dy2, axis=0, out=self.grads["b"])  # (F,)
        w = self.params["W"]
        dcols = self._buffer("dcols", self.cols.shape, dy.dtype)
        np.matmul(dy2, w.reshape(k, f).T, out=dcols)  # (N*OH*OW, KH*KW*C)
        dcols6 = dcols.reshape(n, oh, ow, *w.shape[:3])  # (N, OH, OW, KH, KW, C)
        return col2im(dcols6, self.x_shape, self.stride, self.padding)  # (N, H, W, C)

    def _buffer(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> Array:
        """A scratch array reused while batch shape and dtype stay the same (zeroed when new)."""
        buf = self._buffers.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self._buffers[name] = np.zeros(shape, dtype=dtype)
        return buf
