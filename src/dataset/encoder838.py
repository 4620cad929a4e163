"""The 8-3-8 encoder: a classic toy problem whose whole data set is eight fixed patterns."""

from __future__ import annotations

import numpy as np

from src.dataset.base import Accuracy, Dataset, Limit, Normalize, prepare

ENCODER_SIZE = 8


def encoder838(
    normalize: Normalize = "none",
    limit_train: Limit = None,
    limit_test: Limit = None,
    target_accuracy: Accuracy = 1.0,
) -> Dataset:
    """The 8-3-8 encoder: map each one-hot vector of length 8 back to itself through 3 units.

    Inputs (8, 8) are the one-hot rows, labels (8,) their positions 0-7, so a one-hot target
    equals the input (an MSE loss then learns to reconstruct it). There is nothing to
    generalize to: train and test are the same 8 patterns. The limits exist only so every
    data set accepts the same keys.
    """
    x = np.eye(ENCODER_SIZE)  # (8, 8)
    y = np.arange(ENCODER_SIZE)  # (8,)
    return prepare(
        x, y, x, y, ENCODER_SIZE, 1.0,
        normalize, limit_train, limit_test, target_accuracy,
    )  # fmt: skip
