"""Gradient noise scale B_simple = tr(Σ)/|G|² (McCandlish et al. 2018) from gradient norms."""

from __future__ import annotations

import math

import numpy as np

from src.arrays import Array, Rng
from src.theory.adapter import FlatNet

SMALL_BATCH = 16  # b: mini-batch gradients; the big batch B is the whole training set


def noise_scale_from_norms(small_sq: float, big_sq: float, small: int, big: int) -> float:
    """B_simple from the mean squared gradient norms at batch sizes small < big.

    |G|² ≈ (B|G_B|² − b|G_b|²)/(B − b) and tr(Σ) ≈ (|G_b|² − |G_B|²)/(1/b − 1/B); nan when
    the |G|² estimate is not positive (the noise swamps the mean gradient).
    """
    g_sq = (big * big_sq - small * small_sq) / (big - small)
    trace = (small_sq - big_sq) / (1.0 / small - 1.0 / big)
    return trace / g_sq if g_sq > 0 else math.nan


def noise_scales(net: FlatNet, x: Array, y: Array, rng: Rng,
                 small: int = SMALL_BATCH) -> list[float]:  # fmt: skip
    """B_simple of each run of the net at its current parameters: one shuffled pass of batches
    of `small` (at most half the samples, the same batches for every run) against the
    full-batch gradient of (x, y); nan for a run whose gradients are not finite, and for every
    run if there are fewer than 2 samples."""
    small = min(small, len(y) // 2)
    if small < 1:
        return [math.nan] * net.runs
    big_sq = net.squared_grad_norms(x, y)  # (K,)
    order = rng.permutation(len(y))
    starts = range(0, len(y) - small + 1, small)
    batches = (order[start : start + small] for start in starts)
    norms = [net.squared_grad_norms(x[rows], y[rows]) for rows in batches]  # (K,) each
    small_sq = np.stack(norms, axis=1)  # (K, batches): a run's norms contiguous, as alone
    return [_estimate(row, float(big), small, len(y)) for row, big in zip(small_sq, big_sq)]


def _estimate(small_sq: Array, big_sq: float, small: int, big: int) -> float:
    """B_simple of one run from its norms at batch size `small` (batches,) and `big`."""
    if not (math.isfinite(big_sq) and np.isfinite(small_sq).all()):
        return math.nan
    return noise_scale_from_norms(float(np.mean(small_sq)), big_sq, small, big)
