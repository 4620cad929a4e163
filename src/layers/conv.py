"""2-D convolution (cross-correlation, as in every DL library) as im2col plus one matmul."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from src.arrays import Array, Rng
from src.layers.base import Layer
from src.layers.im2col import col2im, im2col, padded_shape


class Conv2D(Layer):
    """x (N, H, W, C) -> y (N, OH, OW, F); W (KH, KW, C, F), b (F,).

    W's axes follow the patch order (KH, KW, C). W and b are views of one (KH*KW*C + 1, F)
    matrix whose last row is b, and every patch row ends in a constant 1, so the forward pass
    is one (N*OH*OW, KH*KW*C + 1) @ (KH*KW*C + 1, F) matmul and one matmul gives dW and db
    together: a bias add or sum over N*OH*OW rows of only F columns costs more than that.
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
        k = kernel * kernel * in_channels
        w = init(shape=shape, fan_in=k, fan_out=kernel * kernel * filters, rng=rng, dtype=dtype)
        self.wb = np.zeros((k + 1, filters), dtype=dtype)  # rows: W as (KH*KW*C, F), then b
        self.wb[:k] = w.reshape(k, filters)
        self.gwb = np.zeros_like(self.wb)  # dW and db, same layout
        # Views, so the optimizer's in-place updates land in wb and the matmuls fill grads.
        self.params = {"W": self.wb[:k].reshape(shape), "b": self.wb[k]}
        self.grads = {"W": self.gwb[:k].reshape(shape), "b": self.gwb[k]}
        self.cols: Array | None = None  # (N*OH*OW, KH*KW*C + 1), the only activation kept
        self.x_shape: tuple[int, ...] = ()
        self._buffers: dict[str, Array] = {}

    def forward(self, x: Array) -> Array:
        pad_out = None
        if self.padding:
            pad_out = self._buffer("pad", padded_shape(x.shape, self.padding), x.dtype)
        patches = im2col(x, self.kernel, self.stride, self.padding, pad_out)
        n, oh, ow = patches.shape[:3]  # patches: (N, OH, OW, KH, KW, C) view
        cols = self._buffer("cols", (n * oh * ow, len(self.wb)), x.dtype)
        np.copyto(self._patch_view(cols, patches.shape), patches)  # the one copy im2col needs
        self.cols, self.x_shape = cols, x.shape
        return (cols @ self.wb).reshape(n, oh, ow, -1)  # (N, OH, OW, F), bias included

    def backward(self, dy: Array) -> Array:
        self.param_backward(dy)
        n, oh, ow, f = dy.shape
        w = self.wb[:-1]  # (KH*KW*C, F)
        dcols = self._buffer("dcols", (n * oh * ow, len(w)), dy.dtype)
        np.matmul(dy.reshape(-1, f), w.T, out=dcols)  # (N*OH*OW, KH*KW*C)
        dcols6 = dcols.reshape(n, oh, ow, *self.params["W"].shape[:3])  # (N, OH, OW, KH, KW, C)
        return col2im(dcols6, self.x_shape, self.stride, self.padding)  # (N, H, W, C)

    def param_backward(self, dy: Array) -> None:
        dy2 = dy.reshape(-1, dy.shape[-1])  # (N*OH*OW, F)
        np.matmul(self.cols.T, dy2, out=self.gwb)  # (KH*KW*C + 1, F): dW rows, then db

    def _patch_view(self, cols: Array, shape: tuple[int, ...]) -> Array:
        """cols without its ones column, as (N, OH, OW, KH, KW, C): a view, never a copy."""
        view = cols[:, :-1].reshape(shape)
        assert np.may_share_memory(view, cols), "the patch view must write into cols"
        return view

    def _buffer(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> Array:
        """A scratch array reused while batch shape and dtype stay the same.

        New ones are zeroed (a padding border stays 0), except `cols`, whose last column of ones
        carries the bias.
        """
        buf = self._buffers.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self._buffers[name] = np.zeros(shape, dtype=dtype)
            if name == "cols":
                buf[:, -1] = 1
        return buf
