"""Training hyperparameters (init scale, batch size, learning rate, run length, collapse),
each at its thresholds, with the confidence, fix and numbers a user reads."""

from __future__ import annotations

import math

import pytest

from tests.diagnosis.causes import ADAM, RISING, finding, mse, speaks, step
from tests.diagnosis.factories import evidence


def test_bad_init_scale_small_and_large():
    three = [(64, 64)] * 3
    shrink = {"preact_rms": {"2.ReLU": 1.0, "4.ReLU": 0.49}}
    f = finding(evidence(init=shrink, fans=three), "bad_init_scale")
    assert f.confidence == 0.8 and f.evidence["growth_per_layer"] == pytest.approx(0.49)
    assert not speaks("bad_init_scale", init={"preact_rms": {"2.ReLU": 1.0, "4.ReLU": 0.5}},
                      fans=three)  # fmt: skip
    assert not speaks("bad_init_scale", init=shrink, fans=three[:2])
    large = finding(evidence(logit_rms=5.1), "bad_init_scale")
    assert large.confidence == 0.35
    assert large.evidence == {"logit_rms": 5.1, "init_loss": 2.56,
                              "baseline_loss": pytest.approx(math.log(10)),
                              "growth_per_layer": large.evidence["growth_per_layer"]}  # fmt: skip
    assert not speaks("bad_init_scale", logit_rms=5.0)


def test_batch_too_small_for_lr_thresholds_and_numbers():
    noisy = {"init": {"update_ratios": {"a:W": 0.25}}}
    assert not speaks("batch_too_small_for_lr", noise=2.0, **noisy)  # step exactly 0.5
    f = finding(evidence(noise=2.02, **noisy), "batch_too_small_for_lr")
    assert f.confidence == 0.75
    assert f.evidence == {
        "step_ratio": pytest.approx(0.505),
        "probe_step_ratio": 0.25,
        "noise_factor": 2.02,
        "batch_size": 32,
        "trajectory": "falling",
    }
    rising = finding(evidence(noise=2.02, epoch_losses=RISING, **noisy), "batch_too_small_for_lr")
    assert rising.confidence == 0.8
    assert speaks("batch_too_small_for_lr", noise=1.01, init={"update_ratios": {"a:W": 0.5}})
    assert not speaks("batch_too_small_for_lr", noise=2.02, facts=ADAM, **noisy)
    assert not speaks("batch_too_small_for_lr", noise=2.02, facts={"batch_size": 1438}, **noisy)
    assert speaks("batch_too_small_for_lr", noise=2.02, facts={"batch_size": 1437}, **noisy)


def test_learning_rate_too_high_thresholds_and_numbers():
    assert not speaks("learning_rate_too_high", **step(0.5))
    f = finding(evidence(**step(0.51)), "learning_rate_too_high")
    assert f.confidence == 0.75 and f.suggestion == "optimizer.lr=0.005"
    assert f.evidence == {"step_ratio": 0.51, "trajectory": "falling",
                          "first_nonfinite_step": None, "nonfinite_layer": None}  # fmt: skip
    blew = finding(evidence(metrics={"first_nonfinite_step": 7}, **step(0.1)),
                   "learning_rate_too_high")  # fmt: skip
    assert blew.confidence == 0.8 and "non-finite at step 7 in a batch other than the probe" in (
        blew.summary
    )
    # Diverged at a probe ratio <= 0.5 but a step above it: the batch, not the rate.
    noisy = {"metrics": {"first_nonfinite_step": 7}, "init": {"update_ratios": {"a:W": 0.5}}}
    assert not speaks("learning_rate_too_high", noise=1.1, **noisy)
    assert speaks("learning_rate_too_high", noise=1.0, **noisy)


def test_learning_rate_too_low_thresholds_and_numbers():
    few = {"metrics": {"steps": 40}}  # movement 40 x 0.025 = 1
    f = finding(evidence(**few, **step(0.025)), "learning_rate_too_low")  # factor exactly 2
    assert (f.confidence, f.suggestion) == (0.7, "optimizer.lr=0.2")
    assert f.evidence == {"movement": pytest.approx(1.0), "probe_step_ratio": 0.025,
                          "steps": 40, "trajectory": "falling"}  # fmt: skip
    assert not speaks("learning_rate_too_low", **few, **step(0.026))  # factor 1.9: no room
    moved = {"metrics": {"steps": 128}}
    assert not speaks("learning_rate_too_low", **moved, **step(2**-6))  # movement exactly 2
    assert speaks("learning_rate_too_low", metrics={"steps": 127}, **step(2**-6))
    assert not speaks("learning_rate_too_low", metrics={"steps": 40, "first_nonfinite_step": 3},
                      **step(0.001))  # fmt: skip
    assert not speaks("learning_rate_too_low", epoch_losses=RISING, **few, **step(0.001))


def test_too_few_epochs_needs_a_one_percent_drop_in_the_last_epoch():
    falling = [2.0 - 0.05 * i for i in range(18)]
    f = finding(evidence(epoch_losses=[*falling, 1.2, 1.188]), "too_few_epochs")  # 1 % of 1.2
    assert (f.confidence, f.suggestion) == (0.4, "trainer.epochs=60")
    assert f.evidence["last_epoch_drop"] == pytest.approx(0.01)
    assert not speaks("too_few_epochs", epoch_losses=[*falling, 1.2, 1.194])  # 0.5 %
    assert not speaks("too_few_epochs", epoch_losses=RISING)


@pytest.mark.parametrize(
    ("changes", "fix"),
    [
        ({}, "trainer.epochs=60"),
        ({"epoch_losses": RISING}, "optimizer.lr="),
        (step(0.51), "optimizer.lr="),
        (step(0.5), "trainer.epochs=60"),  # a step of half the weights is still in the band
        ({"facts": mse()}, "loss=cross_entropy"),
    ],
)
def test_output_collapse_fix(changes, fix):
    e = evidence(metrics={"predicted_class_share": 0.9}, **changes)
    f = finding(e, "output_collapse")
    assert f.confidence == 0.3 and f.suggestion.startswith(fix)
    assert f.evidence == {"predicted_class_share": 0.9, "final_loss": e.losses[-1]}


def test_output_collapse_threshold_and_the_flat_loss_note():
    assert not speaks("output_collapse", metrics={"predicted_class_share": 0.89})
    flat = [3.0] * 19 + [math.log(10) * 1.09]
    near = finding(evidence(metrics={"predicted_class_share": 1.0}, epoch_losses=flat),
                   "output_collapse")  # fmt: skip
    assert "sits at the constant-output" in near.summary
    far = [math.log(10)] * 19 + [math.log(10) * 1.11]  # only the last epoch counts
    away = finding(evidence(metrics={"predicted_class_share": 1.0}, epoch_losses=far),
                   "output_collapse")  # fmt: skip
    assert "sits at the constant-output" not in away.summary


def test_summaries_and_fixes_carry_the_numbers():
    shrink = {"preact_rms": {"2.ReLU": 1.0, "4.ReLU": 0.49}}
    small = finding(evidence(init=shrink, fans=[(64, 64)] * 3), "bad_init_scale")
    assert "shrinks 2x per layer at init (pre-activation RMS 1 -> 0.49)" in small.summary
    # batch: target step max(0.35, 1.25 x 0.25) = 0.35; noise variance (2.02^2 - 1) x 32 over
    # (0.35 / 0.25)^2 - 1 = 0.96 -> 103 samples -> the next power of two.
    noisy = evidence(noise=2.02, init={"update_ratios": {"a:W": 0.25}})
    assert finding(noisy, "batch_too_small_for_lr").suggestion == "trainer.batch_size=128"
    # too low: movement 125 x 0.004 = 0.5 -> x10 to reach 5 (the step allows x12.5)
    slow = finding(evidence(metrics={"steps": 125}, **step(0.004)), "learning_rate_too_low")
    assert slow.suggestion == "optimizer.lr=1"
