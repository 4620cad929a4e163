"""The hardware reference: minimal hand-written NumPy training loops, no framework around them.

Each loop is what a careful person writes by hand for one fixed network: one gather per epoch,
in-place SGD without weight-sized temporaries, no input gradient for the first layer, the loss
tracked every step (a trainer needs it too). Nothing more clever than that: no special case for
batch 1, no fused kernels.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from src.arrays import Array, Rng


def _cross_entropy(z: Array, y: Array, lr: float) -> tuple[float, Array]:
    """Summed loss and lr * d(mean loss)/dz, written into z. z (N, K) logits."""
    rows = np.arange(len(y))
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)  # (N, K)
    total = e.sum(axis=1, keepdims=True)  # (N, 1)
    loss = float(np.log(total).sum() - z[rows, y].sum())
    e /= total
    e[rows, y] -= 1.0
    e *= lr / len(y)
    return loss, e


def mlp_epochs(
    params: list[Array], x: Array, y: Array, batch: int, lr: float, rng: Rng, epochs: int
) -> float:
    """`epochs` of shuffled SGD on Dense-ReLU-Dense; the mean loss.

    params [W1 (D, H), b1 (H,), W2 (H, K), b2 (K,)] are updated in place; x (N, ...) float32.
    """
    w1, b1, w2, b2 = params
    g1, g2 = np.empty_like(w1), np.empty_like(w2)
    x = x.reshape(len(x), -1)
    loss, seen = 0.0, 0
    for _ in range(epochs):
        order = rng.permutation(len(y))  # as src.trainer draws it: same rng, same order
        xs, ys = x[order], y[order]
        for s in range(0, len(ys), batch):
            xb, yb = xs[s : s + batch], ys[s : s + batch]
            h = xb @ w1  # (B, H)
            h += b1
            np.maximum(h, 0, out=h)
            z = h @ w2  # (B, K)
            z += b2
            step_loss, dz = _cross_entropy(z, yb, lr)
            np.matmul(h.T, dz, out=g2)
            dh = dz @ w2.T  # (B, H)
            dh *= h > 0
            np.matmul(xb.T, dh, out=g1)
            w1 -= g1
            b1 -= dh.sum(axis=0)
            w2 -= g2
            b2 -= dz.sum(axis=0)
            loss += step_loss
            seen += len(yb)
    return loss / seen


def cnn_epochs(
    params: list[Array], x: Array, y: Array, batch: int, lr: float, rng: Rng, epochs: int
) -> float:
    """`epochs` of shuffled SGD on Conv(KxK, stride 1, no padding)-ReLU-MaxPool(2)-Dense.

    params [Wc (K, K, C, F), bc (F,), Wd (P*P*F, classes), bd]; x (N, H, W, C) float32.
    """
    wc, bc, wd, bd = params
    k, _, c, f = wc.shape
    wc2 = wc.reshape(k * k * c, f)  # a view: updates land in wc
    gc, gd = np.empty_like(wc2), np.empty_like(wd)
    loss, seen = 0.0, 0
    for _ in range(epochs):
        order = rng.permutation(len(y))  # as src.trainer draws it: same rng, same order
        xs, ys = x[order], y[order]
        for s in range(0, len(ys), batch):
            xb, yb = xs[s : s + batch], ys[s : s + batch]
            n = len(yb)
            win = sliding_window_view(xb, (k, k), axis=(1, 2))  # (B, OH, OW, C, K, K)
            oh, ow = win.shape[1:3]
            cols = win.transpose(0, 1, 2, 4, 5, 3).reshape(-1, k * k * c)  # copy (B*OH*OW, KKC)
            a = cols @ wc2  # (B*OH*OW, F)
            a += bc
            np.maximum(a, 0, out=a)
            a6 = a.reshape(n, oh // 2, 2, ow // 2, 2, f)
            p = a6.max(axis=(2, 4))  # (B, OH/2, OW/2, F)
            z = p.reshape(n, -1) @ wd  # (B, classes)
            z += bd
            step_loss, dz = _cross_entropy(z, yb, lr)
            np.matmul(p.reshape(n, -1).T, dz, out=gd)
            dp = (dz @ wd.T).reshape(n, oh // 2, 1, ow // 2, 1, f)
            wins = (a6 == p[:, :, None, :, None, :]) & (a6 > 0)  # pool winner and ReLU active
            da = (wins * dp).reshape(-1, f)  # (B*OH*OW, F)
            np.matmul(cols.T, da, out=gc)
            wc2 -= gc
            bc -= da.sum(axis=0)
            wd -= gd
            bd -= dz.sum(axis=0)
            loss += step_loss
            seen += n
    return loss / seen
