"""2-D convolution (cross-correlation, as in every DL library) as im2col plus one matmul."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from src.arrays import Array
from src.layers.base import Layer
from src.layers.im2col import col2im, im2col, padded_shape


class Conv2D(Layer):
    """x (K, N, H, W, C) -> y (K, N, OH, OW, F); W (K, KH, KW, C, F), b (K, F).

    W's axes follow the patch order (KH, KW, C). W and b are views of one (K, KH*KW*C + 1, F)
    array whose last row is b, and every patch row ends in a constant 1, so the forward pass
    is one (N*OH*OW, KH*KW*C + 1) @ (KH*KW*C + 1, F) matmul per run and one matmul gives dW
    and db together: a bias add or sum over N*OH*OW rows of only F columns costs more than that.
    Patches of all runs are extracted at once (runs and batch folded into one axis); x may be
    (1, N, H, W, C), shared by every run.
    """

    def __init__(
        self,
        in_channels: int,
        filters: int,
        kernel: int,
        stride: int,
        padding: int,
        init: Callable[..., Array],
        dtype: np.dtype,
    ) -> None:
        super().__init__()
        self.kernel, self.stride, self.padding = kernel, stride, padding
        shape = (kernel, kernel, in_channels, filters)
        k = kernel * kernel * in_channels
        w = init(shape=shape, fan_in=k, fan_out=kernel * kernel * filters, dtype=dtype)
        runs = len(w)  # (K, KH, KW, C, F)
        self.wb = np.zeros((runs, k + 1, filters), dtype=dtype)  # rows: W as (KH*KW*C, F), b
        self.wb[:, :k] = w.reshape(runs, k, filters)
        self._bind(np.zeros_like(self.wb))
        self.cols: Array | None = None  # (K or 1, N*OH*OW, KH*KW*C + 1), the only activation kept
        self.x_shape: tuple[int, ...] = ()

    def _bind(self, gwb: Array) -> None:
        """Views, so the optimizer's in-place updates land in wb and the matmuls fill grads."""
        self.gwb = gwb  # dW and db, same layout as wb
        runs, k = len(self.wb), self.wb.shape[1] - 1
        shape = (runs, self.kernel, self.kernel, k // self.kernel**2, self.wb.shape[2])
        self.params = {"W": self.wb[:, :k].reshape(shape), "b": self.wb[:, k]}
        self.grads = {"W": self.gwb[:, :k].reshape(shape), "b": self.gwb[:, k]}
        self._buffers: dict[str, Array] = {}

    def storage(self) -> list[tuple[Array, Array]]:
        return [(self.wb, self.gwb)]

    def select(self, runs: Array) -> None:
        self.wb = self.wb[runs]
        self._bind(self.gwb[runs])

    def forward(self, x: Array) -> Array:
        kx, n = x.shape[:2]
        x = x.reshape(kx * n, *x.shape[2:])  # (K*N, H, W, C): runs folded into the batch
        pad_out = None
        if self.padding:
            pad_out = self._buffer("pad", padded_shape(x.shape, self.padding), x.dtype)
        patches = im2col(x, self.kernel, self.stride, self.padding, pad_out)
        oh, ow = patches.shape[1:3]  # patches: (K*N, OH, OW, KH, KW, C) view
        cols = self._buffer("cols", (kx, n * oh * ow, self.wb.shape[1]), x.dtype)
        np.copyto(self._patch_view(cols, patches.shape), patches)  # the one copy im2col needs
        self.cols, self.x_shape = cols, (n, *x.shape[1:])
        return (cols @ self.wb).reshape(len(self.wb), n, oh, ow, -1)  # (K, N, OH, OW, F)

    def backward(self, dy: Array) -> Array:
        self.param_backward(dy)
        runs, n, oh, ow, f = dy.shape
        w = self.wb[:, :-1]  # (K, KH*KW*C, F)
        dcols = self._buffer("dcols", (runs, n * oh * ow, w.shape[1]), dy.dtype)
        np.matmul(dy.reshape(runs, -1, f), w.transpose(0, 2, 1), out=dcols)
        dcols6 = dcols.reshape(runs * n, oh, ow, *self.params["W"].shape[1:4])
        dx = col2im(dcols6, (runs * n, *self.x_shape[1:]), self.stride, self.padding)
        return dx.reshape(runs, *self.x_shape)  # (K, N, H, W, C)

    def param_backward(self, dy: Array) -> None:
        dy3 = dy.reshape(len(dy), -1, dy.shape[-1])  # (K, N*OH*OW, F)
        np.matmul(self.cols.transpose(0, 2, 1), dy3, out=self.gwb)  # (K, KH*KW*C + 1, F)

    def _patch_view(self, cols: Array, shape: tuple[int, ...]) -> Array:
        """cols without its ones column, as (K*N, OH, OW, KH, KW, C): a view, never a copy."""
        view = cols[:, :, :-1].reshape(shape)
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
                buf[..., -1] = 1
        return buf
