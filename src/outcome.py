"""Name what happened to a run: diverged, stalled at chance, converged, or still learning."""

from __future__ import annotations

import numpy as np

from src.arrays import Array
from src.errors import ConfigError

OUTCOMES = ("converged", "learning", "stalled", "diverged", "error")


def chance_level(y_test: Array) -> float:
    """Accuracy of always predicting the most frequent test class."""
    return float(np.bincount(y_test).max() / len(y_test))


def predicted_class_share(predictions: Array | None) -> float | None:
    """Share of the most often predicted class; 1.0 means one class for everything."""
    if predictions is None:
        return None
    return float(np.bincount(predictions).max() / len(predictions))


def classify(
    diverged: bool,
    test_accuracy: float | None,
    chance: float,
    stall_margin: float,
    target_accuracy: float,
) -> str:
    """diverged > stalled (accuracy <= chance + margin) > converged (>= target) > learning."""
    if diverged or test_accuracy is None:
        return "diverged"
    if test_accuracy <= chance + stall_margin:
        return "stalled"
    if test_accuracy >= target_accuracy:
        return "converged"
    return "learning"


def check_thresholds(target_accuracy: float, chance: float, stall_margin: float) -> None:
    """Raise ConfigError when `converged` is out of reach: the target is not above the stall line.

    Raises:
        ConfigError: target_accuracy <= chance + stall_margin (or above 1).
    """
    stall_line = chance + stall_margin
    if target_accuracy <= stall_line:
        raise ConfigError(
            f"dataset.target_accuracy={target_accuracy:g}, trainer.stall_margin={stall_margin:g}: "
            f"the target must be above chance ({chance:.3f}) + stall_margin = {stall_line:.3f}, "
            "or no run could converge"
        )
