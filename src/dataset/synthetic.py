"""Gaussian blobs: a tiny, instant data set for tests and quick experiments."""

from __future__ import annotations

from typing import Annotated

import numpy as np

from src.checks import Interval
from src.dataset.base import Accuracy, Dataset, Limit, Normalize, prepare

Count = Annotated[int, Interval(1)]


def synthetic(
    n_train: Count = 512,
    n_test: Count = 256,
    n_features: Count = 16,
    n_classes: Annotated[int, Interval(2)] = 4,
    spread: Annotated[float, Interval(0, 100, low_open=True)] = 1.0,
    seed: int = 0,
    normalize: Normalize = "none",
    limit_train: Limit = None,
    limit_test: Limit = None,
    target_accuracy: Accuracy = 0.90,
) -> Dataset:
    """`n_classes` Gaussian clusters (std `spread`) around random unit-scale centres."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 2.0, size=(n_classes, n_features))  # (K, D)
    y = rng.integers(0, n_classes, size=n_train + n_test)  # (N,)
    x = centres[y] + rng.normal(0.0, spread, size=(len(y), n_features))  # (N, D)
    max_value = float(np.abs(x[:n_train]).max())
    return prepare(
        x[:n_train], y[:n_train], x[n_train:], y[n_train:], n_classes, max_value,
        normalize, limit_train, limit_test, target_accuracy,
    )  # fmt: skip
