"""Index maths for conv and pool, as pure functions on NHWC arrays.

Patches are strided views (N, OH, OW, KH, KW, C) of the padded input, so extracting them copies
nothing; col2im is their adjoint, a scatter-add that loops over the KH*KW kernel offsets only.
Sizes floor like PyTorch: rows or columns a window cannot cover are skipped.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from src.arrays import Array


def output_size(size: int, kernel: int, stride: int, padding: int = 0) -> int:
    """Windows along one axis: floor((size + 2 padding - kernel) / stride) + 1 (<= 0: none fit)."""
    return (size + 2 * padding - kernel) // stride + 1


def padded_shape(shape: tuple[int, ...], padding: int) -> tuple[int, ...]:
    """(N, H, W, C) -> (N, H + 2p, W + 2p, C)."""
    n, h, w, c = shape
    return (n, h + 2 * padding, w + 2 * padding, c)


def pad(x: Array, padding: int, out: Array | None = None) -> Array:
    """Zero-pad H and W; `x` itself when padding is 0.

    x (N, H, W, C) -> (N, H + 2p, W + 2p, C). A reused `out` must have a zero border: only its
    interior is written, which saves zeroing the whole buffer every step.
    """
    if padding == 0:
        return x
    if out is None:
        out = np.zeros(padded_shape(x.shape, padding), dtype=x.dtype)
    _, h, w, _ = x.shape
    out[:, padding : padding + h, padding : padding + w, :] = x
    return out


def windows(x: Array, kernel: int, stride: int) -> Array:
    """Read-only view of every kernel x kernel window at the given stride, no padding.

    x (N, H, W, C) -> (N, OH, OW, KH, KW, C).
    """
    view = sliding_window_view(x, (kernel, kernel), axis=(1, 2))  # (N, H-K+1, W-K+1, C, KH, KW)
    view = view[:, ::stride, ::stride]  # (N, OH, OW, C, KH, KW)
    return view.transpose(0, 1, 2, 4, 5, 3)  # (N, OH, OW, KH, KW, C)


def im2col(x: Array, kernel: int, stride: int, padding: int, pad_out: Array | None = None) -> Array:
    """Patches of the zero-padded input as a view; `pad_out` is an optional padding buffer.

    x (N, H, W, C) -> (N, OH, OW, KH, KW, C).
    """
    return windows(pad(x, padding, pad_out), kernel, stride)


def col2im(cols: Array, x_shape: tuple[int, ...], stride: int, padding: int) -> Array:
    """Adjoint of im2col: sum each patch entry back onto the input pixel it was read from.

    cols (N, OH, OW, KH, KW, C) -> dx (N, H, W, C) with H, W from `x_shape`.
    """
    _, oh, ow, kh, kw, _ = cols.shape
    dx = np.zeros(padded_shape(x_shape, padding), dtype=cols.dtype)  # (N, H+2p, W+2p, C)
    # Overlapping windows (stride < kernel) hit a pixel from several offsets, so accumulate.
    for i in range(kh):
        for j in range(kw):
            rows = slice(i, i + stride * oh, stride)
            columns = slice(j, j + stride * ow, stride)
            dx[:, rows, columns, :] += cols[:, :, :, i, j, :]  # (N, OH, OW, C)
    if padding == 0:
        return dx
    _, h, w, _ = x_shape
    return dx[:, padding : padding + h, padding : padding + w, :]
