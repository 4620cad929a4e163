from __future__ import annotations

import numpy as np
import pytest

from src.errors import ConfigError
from src.outcome import chance_level, check_thresholds, classify, predicted_class_share


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


def test_divergence_wins_whatever_the_accuracy_and_a_missing_accuracy_is_divergence():
    assert classify(True, 0.99, chance=0.1, stall_margin=0.05, target_accuracy=0.9) == "diverged"
    assert classify(False, None, chance=0.1, stall_margin=0.05, target_accuracy=0.9) == "diverged"


def test_accuracy_exactly_at_chance_plus_margin_is_stalled():
    # 0.25 + 0.25 is exactly 0.5 in binary floating point: the boundary itself is tested.
    assert classify(False, 0.5, chance=0.25, stall_margin=0.25, target_accuracy=0.9) == "stalled"
    assert classify(False, 0.5001, chance=0.25, stall_margin=0.25, target_accuracy=0.9) == (
        "learning"
    )


def test_a_target_at_or_below_the_stall_line_is_refused_with_the_numbers():
    check_thresholds(0.36, chance=0.1, stall_margin=0.25)  # just above 0.35: reachable
    for target in (0.35, 0.3):
        expected = (
            rf"dataset.target_accuracy={target:g}, trainer.stall_margin=0.25: .* "
            r"chance \(0.100\) \+ stall_margin = 0.350"
        )
        with pytest.raises(ConfigError, match=expected):
            check_thresholds(target, chance=0.1, stall_margin=0.25)
