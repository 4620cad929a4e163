from __future__ import annotations

import numpy as np
import pytest

from src.outcome import chance_level, classify, predicted_class_share


@pytest.mark.parametrize(
    ("diverged", "accuracy", "expected"),
    [
        (True, None, "diverged"),
        (False, 0.15, "stalled"),  # <= chance 0.1 + margin 0.05
        (False, 0.16, "learning"),
        (False, 0.90, "converged"),
        (False, 0.89, "learning"),
    ],
)
def test_classify(diverged, accuracy, expected):
    assert classify(diverged, accuracy, chance=0.1, stall_margin=0.05, target_accuracy=0.9) == (
        expected
    )


def test_chance_is_share_of_most_frequent_test_class():
    assert chance_level(np.array([0, 1, 1, 2])) == 0.5


def test_predicted_class_share():
    assert predicted_class_share(np.array([3, 3, 3, 3])) == 1.0
    assert predicted_class_share(np.array([0, 1, 2, 2])) == 0.5
    assert predicted_class_share(None) is None
