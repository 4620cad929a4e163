"""learning_rate_too_high with a measured λ: lr·λ/2 in its evidence, a suggestion below 2/λ."""

from __future__ import annotations

import pytest

from src.diagnosis.rules import hyperparameters
from tests.diagnosis.factories import evidence

HIGH = {"update_ratios": {"a:W": 3.0}}  # lr 0.1 (the factories' run) moves weights 3x


def test_evidence_states_lr_times_sharpness_over_two():
    e = evidence("diverged", init=HIGH, metrics={"first_nonfinite_step": 3, "sharpness_init": 40.0})
    f = hyperparameters.learning_rate_too_high(e)
    assert f.evidence["lr_sharpness_half"] == pytest.approx(2.0)  # 0.1 * 40 / 2
    assert "lr·λ/2 = 2 (λ = 40 at init: 2/λ = 0.05)" in f.summary
    assert f.suggestion == "optimizer.lr=0.05"  # 2/λ, rounded down to 1-2-5


def test_below_the_edge_the_suggestion_comes_from_the_step_size():
    e = evidence("diverged", init=HIGH, metrics={"first_nonfinite_step": 3, "sharpness_init": 5.0})
    f = hyperparameters.learning_rate_too_high(e)
    assert f.evidence["lr_sharpness_half"] == pytest.approx(0.25)
    assert (
        f.suggestion
        == hyperparameters.learning_rate_too_high(
            evidence("diverged", init=HIGH, metrics={"first_nonfinite_step": 3})
        ).suggestion
    )


def test_without_sharpness_the_finding_is_unchanged():
    f = hyperparameters.learning_rate_too_high(evidence("diverged", init=HIGH))
    assert "λ" not in f.summary and "sharpness" not in f.evidence
