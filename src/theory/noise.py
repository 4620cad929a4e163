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


def noise_scale(net: FlatNet, x: Array, y: Array, rng: Rng, small: int = SMALL_BATCH) -> float:
    """B_simple at the net's current parameters: one shuffled pass of batches of `small` (at
    most half the samples) against the full-batch gradient of (x, y); nan if any gradient is
    not finite or there are fewer than 2 samples."""
    small = min(small, len(y) // 2)
    if small < 1:
        return math.nan
    _, full = net.loss_grad(x, y)
    order = rng.permutation(len(y))
    norms = []
    for start in range(0, len(y) - small + 1, small):
        rows = order[start : start + small]
        norms.append(float(np.sum(net.loss_grad(x[rows], y[rows])[1] ** 2)))
    big_sq = float(np.sum(full**2))
    if not (math.isfinite(big_sq) and all(map(math.isfinite, norms))):
        return math.nan
    return noise_scale_from_norms(float(np.mean(norms)), big_sq, small, len(y))
