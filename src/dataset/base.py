"""The `Dataset` every loader returns, and the options every loader shares.

Images keep their shape in (N, H, W, C) layout; vectors are (N, D). Labels are int64 class
indices. Normalization statistics come from the training split only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np

from src.arrays import Array
from src.checks import Interval
from src.errors import ConfigError, DataError

Normalize = Literal["none", "unit", "standard"]
Limit = Annotated[int, Interval(1)] | None
Accuracy = Annotated[float, Interval(0, 1)]


def check_labels(labels: Array, n_classes: int, source: object) -> None:
    """Raise DataError naming `source` and the first label outside 0..n_classes-1."""
    bad = (labels < 0) | (labels >= n_classes)
    if bad.any():
        i = int(bad.argmax())
        raise DataError(f"{source}: label {labels[i]} at index {i} is outside 0..{n_classes - 1}")


@dataclass(frozen=True)
class Dataset:
    """Train and test splits plus what the trainer needs to judge a run."""

    x_train: Array  # (N, H, W, C) or (N, D), float64
    y_train: Array  # (N,) int64
    x_test: Array
    y_test: Array
    n_classes: int
    target_accuracy: float  # test accuracy that counts as "converged"

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])


def prepare(
    x_train: Array,
    y_train: Array,
    x_test: Array,
    y_test: Array,
    n_classes: int,
    max_value: float,
    normalize: Normalize,
    limit_train: int | None,
    limit_test: int | None,
    target_accuracy: float,
) -> Dataset:
    """Subset, cast to float64 and normalize raw arrays; `max_value` is the format's maximum.

    Raises:
        ConfigError: a limit above the number of samples the split has.
    """
    for split, limit, labels in (("train", limit_train, y_train), ("test", limit_test, y_test)):
        if limit is not None and limit > len(labels):
            raise ConfigError(
                f"dataset.limit_{split}={limit}: the {split} split has only {len(labels)} "
                f"samples; use at most {len(labels)}, or null for all"
            )
    x_train, y_train = x_train[:limit_train], y_train[:limit_train]
    x_test, y_test = x_test[:limit_test], y_test[:limit_test]
    x_train, x_test = x_train.astype(np.float64), x_test.astype(np.float64)
    if normalize == "unit":
        x_train, x_test = x_train / max_value, x_test / max_value
    elif normalize == "standard":
        # Global scalars, not per-pixel: constant border pixels would divide by zero.
        mean, std = x_train.mean(), x_train.std()
        std = std if std > 0 else 1.0
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    return Dataset(
        x_train=x_train,
        y_train=y_train.astype(np.int64),
        x_test=x_test,
        y_test=y_test.astype(np.int64),
        n_classes=n_classes,
        target_accuracy=target_accuracy,
    )
