"""Each rule on hand-made evidence: when it speaks, what it suggests, how findings rank."""

from __future__ import annotations

import math
from dataclasses import FrozenInstanceError

import pytest

from src.diagnosis.rules import config, diagnose, hyperparameters, mechanism
from src.diagnosis.rules.common import Finding
from tests.diagnosis.factories import MSE, SIGMOID, evidence, snapshot

NEG = {"init": {"_target_": "src.init.uniform", "low": -0.1, "high": 0.0}}
POS = {"init": {"_target_": "src.init.uniform", "low": 0.0, "high": 0.1}}
RISING = [2.0 + 0.5 * i for i in range(20)]


def causes(e):
    return [f.cause for f in diagnose(e)]


def test_a_converged_run_has_no_cause_whatever_the_signals():
    e = evidence("converged", last={"dead_relu": 0.9})
    assert diagnose(e) == [] and mechanism.dead_relu(e) is not None


def test_findings_are_ordered_by_confidence():
    e = evidence(last={"dead_relu": 1.0}, metrics={"predicted_class_share": 1.0},
                 epoch_losses=RISING, init={"update_ratios": {"1.Dense:W": 3.0}})  # fmt: skip
    found = diagnose(e)
    assert [f.cause for f in found] == ["dead_relu", "learning_rate_too_high", "output_collapse"]
    assert [f.confidence for f in found] == sorted((f.confidence for f in found), reverse=True)


def test_relus_killed_by_the_steps_suggest_a_learning_rate_that_tames_them():
    e = evidence(last={"dead_relu": 1.0}, init={"update_ratios": {"1.Dense:W": 3.0}}, noise=1.0)
    finding = mechanism.dead_relu(e)
    assert finding.suggestion == "optimizer.lr=0.001"  # 0.1 * 0.05 / 3, rounded down to 1-2-5
    assert "3% at init" in finding.summary and "3x their size" in finding.summary


def test_relus_dead_at_init_suggest_a_zero_mean_init():
    e = evidence(init={"dead_relu": 1.0}, last={"dead_relu": 1.0}, facts={"inits": NEG})
    f = mechanism.dead_relu(e)
    assert f.suggestion == "init.high=0.1" and "already at init" in f.summary


def test_dead_relu_threshold_is_seventy_percent():
    assert mechanism.dead_relu(evidence(last={"dead_relu": 0.69})) is None
    assert mechanism.dead_relu(evidence(last={"dead_relu": 0.70})) is not None


def test_raw_inputs_count_only_when_they_hurt():
    raw = {"max_abs": 255.0, "integer_valued": True, "std": 90.0}
    calm = evidence(inputs=raw, facts={"normalize": "none"})
    assert config.unnormalized_input(calm) is None  # small steps, nothing dead: the net copes
    hurt = evidence(inputs=raw, facts={"normalize": "none"}, last={"dead_relu": 1.0})
    assert causes(hurt)[0] == "unnormalized_input"
    assert config.unnormalized_input(hurt).suggestion == "dataset.normalize=unit"


def test_one_signed_init_needs_a_measured_consequence():
    quiet = evidence(facts={"inits": POS}, init={"positive_weights": ["1.Dense:W"]})
    assert config.all_positive_init(quiet) is None
    big_steps = {"positive_weights": ["1.Dense:W"], "update_ratios": {"a:W": 2.0}}
    loud = evidence(facts={"inits": POS}, init=big_steps)
    assert config.all_positive_init(loud).suggestion == "init.low=-0.1"


@pytest.mark.parametrize(
    ("output", "targets", "suggestion", "confidence"),
    [
        ("sigmoid", "pm1", "model.output_activation=tanh", 0.95),
        ("softmax", "onehot", "loss=cross_entropy", 0.9),
        ("tanh", "onehot", "model.output_activation=sigmoid", 0.45),
    ],
)
def test_output_loss_mismatches(output, targets, suggestion, confidence):
    mse = {"_target_": "src.loss.MSE", "targets": targets}
    e = evidence(facts={**MSE, "output_activation": output, "targets": targets,
                        "loss_node": mse})  # fmt: skip
    f = config.loss_output_mismatch(e)
    assert (f.suggestion, f.confidence) == (suggestion, confidence)


def test_saturation_at_init_suggests_the_xavier_scale_for_the_widest_layer():
    normal = {"init": {"_target_": "src.init.normal", "std": 1.0}}
    e = evidence(facts={**SIGMOID, "inits": normal}, init={"saturated": 0.8},
                 fans=[(784, 1000), (1000, 10)])  # fmt: skip
    assert mechanism.saturated_activation(e).suggestion == "init.std=0.033"


def test_a_trained_output_on_its_targets_is_not_saturation():
    e = evidence("learning", last={"output_saturated": 1.0})
    assert mechanism.saturated_activation(e) is None


def test_vanishing_needs_depth_and_a_tiny_first_to_last_ratio():
    grads = {"a:W": 1e-3, "b:W": 1.0, "c:W": 1.0}
    e = evidence(init={"grad_norms": grads}, facts=SIGMOID, fans=[(64, 64)] * 3)
    assert mechanism.vanishing_gradient(e).suggestion == "activation=relu"
    shallow = evidence(init={"grad_norms": {"a:W": 1e-3, "b:W": 1.0}})
    assert mechanism.vanishing_gradient(shallow) is None


def test_exploding_needs_growth_through_relu_layers_and_a_big_step():
    rms = {"2.ReLU": 1.0, "4.ReLU": 5.0, "6.ReLU": 25.0}
    e = evidence(init={"preact_rms": rms, "update_ratios": {"a:W": 2.0}},
                 fans=[(64, 64)] * 4, facts={"inits": {"init": {"_target_": "src.init.normal",
                                                                "std": 1.0}}})  # fmt: skip
    assert mechanism.exploding_gradient(e).suggestion == "init.std=0.18"  # He: sqrt(2 / 64)
    calm = evidence(init={"preact_rms": rms}, fans=[(64, 64)] * 4)
    assert mechanism.exploding_gradient(calm) is None


def test_a_noisy_small_batch_is_told_apart_from_a_rate_too_high_for_any_batch():
    small = evidence(init={"update_ratios": {"a:W": 0.26}}, noise=4.6, facts={"batch_size": 1})
    assert causes(small)[0] == "batch_too_small_for_lr"
    assert hyperparameters.batch_too_small_for_lr(small).suggestion == "trainer.batch_size=32"
    high = evidence(init={"update_ratios": {"a:W": 2.6}}, noise=4.6, facts={"batch_size": 1})
    assert "learning_rate_too_high" in causes(high) and "batch_too_small_for_lr" not in causes(high)


def test_divergence_is_always_explained():
    e = evidence("diverged", metrics={"first_nonfinite_step": 3}, nonfinite_layer="loss",
                 epoch_losses=[], init={"update_ratios": {"a:W": 100.0}})  # fmt: skip
    f = hyperparameters.learning_rate_too_high(e)
    assert "non-finite at step 3 in the loss" in f.summary
    assert f.suggestion == "optimizer.lr=2e-05"  # step 100 x noise 1.25: 0.1 * 0.05 / 125


def test_a_small_rate_is_raised_only_while_the_loss_falls_smoothly():
    slow = evidence(init={"update_ratios": {"a:W": 1e-4}})  # 900 steps x 1e-4 = 0.09
    assert hyperparameters.learning_rate_too_low(slow).suggestion == "optimizer.lr=5"
    bumpy = evidence(init={"update_ratios": {"a:W": 1e-4}},
                     epoch_losses=[2.0, 1.9, 2.0, 1.8] + [1.7] * 16)  # fmt: skip
    assert hyperparameters.learning_rate_too_low(bumpy) is None


def test_too_small_an_init_shrinks_the_signal_layer_by_layer():
    rms = {"2.ReLU": 1e-2, "4.ReLU": 1e-4, "6.ReLU": 1e-6}
    e = evidence(init={"preact_rms": rms}, fans=[(64, 100), (100, 100), (100, 100), (100, 10)])
    f = mechanism.bad_init_scale(e)
    assert "shrinks 1e+02x per layer" in f.summary


def test_trajectories():
    assert evidence().trajectory() == "falling"
    assert evidence(epoch_losses=RISING).trajectory() == "rising"
    assert evidence(epoch_losses=[2.56] * 20).trajectory() == "flat"
    assert evidence(epoch_losses=[2.0, 2.2, 1.9, 2.1, 1.8, 2.0] * 3).trajectory() == "oscillating"
    assert evidence(metrics={"first_nonfinite_step": 5}).trajectory() == "diverged"


def test_snapshot_ratios_tolerate_zero_gradients():
    snap = snapshot(grad_norms={"a:W": 0.0, "b:W": 0.0})
    assert math.isnan(snap.first_last_grad_ratio)


def test_depth_growth_counts_only_activations_that_keep_the_scale():
    rms = {"2.ReLU": 1.0, "4.ReLU": 4.0, "6.ReLU": 16.0}
    assert evidence(init={"preact_rms": rms}).growth == pytest.approx(4.0)
    assert math.isnan(evidence(init={"preact_rms": rms}, facts=SIGMOID).growth)


def big_batch(ratio: float, noise: float = 1.0, **changes):
    """A run at batch size 1024: 2 updates per epoch, 40 in all."""
    return evidence(facts={"batch_size": 1024}, metrics={"steps": 40}, noise=noise,
                    init={"update_ratios": {"a:W": ratio}}, **changes)  # fmt: skip


def test_a_raised_rate_that_still_moves_too_little_also_gets_more_updates():
    # 40 x 0.002 = 0.08; the step caps the rate at x25 (lr 2 after rounding): 40 x 0.04 = 1.6.
    f = hyperparameters.learning_rate_too_low(big_batch(0.002))
    assert f.suggestion == "optimizer.lr=2 trainer.batch_size=128"  # 125 updates: 7 per epoch


def test_a_lowered_rate_that_would_move_too_little_also_gets_more_updates():
    e = big_batch(3.0, last={"dead_relu": 1.0})  # lr 0.001 tames the step: 40 x 0.03 = 1.2
    assert mechanism.dead_relu(e).suggestion == "optimizer.lr=0.001 trainer.batch_size=128"


def test_steps_already_at_their_size_need_more_of_them():
    e = big_batch(0.03)  # 40 x 0.03 = 1.2; the lr can grow x1.7 at most
    assert causes(e)[:2] == ["too_few_updates", "too_few_epochs"]
    assert hyperparameters.learning_rate_too_low(e) is None
    assert hyperparameters.too_few_updates(e).suggestion == "trainer.batch_size=128"
    noisy = big_batch(0.03, noise=2.0)  # step 0.06: a smaller batch would enlarge it further
    assert hyperparameters.too_few_updates(noisy).suggestion == "trainer.epochs=84"


def test_enough_updates_or_big_steps_are_not_too_few_updates():
    assert hyperparameters.too_few_updates(evidence()) is None  # 900 x 0.026: 23
    assert hyperparameters.too_few_updates(big_batch(0.6)) is None  # steps too large
    assert hyperparameters.too_few_updates(big_batch(0.002)) is None  # a larger lr will do


def test_a_net_without_gradient_gets_no_update_count():
    e = big_batch(0.0, last={"dead_relu": 1.0}, epoch_losses=[2.3] * 20)
    assert hyperparameters.too_few_updates(e) is None
    assert "trainer" not in hyperparameters.learning_rate_too_low(e).suggestion


def at_the_step_target(**facts):
    """A run at batch size 1024 whose steps are already STEP_TARGET: 40 x 0.05 = 2.0."""
    return evidence(facts={"batch_size": 1024, **facts}, metrics={"steps": 40}, noise=1.0,
                    init={"loss": 3.6, "update_ratios": {"a:W": 0.05}})  # fmt: skip


def test_an_mse_residual_above_the_constant_output_discounts_the_init_steps():
    # MSE's gradient is its residual; an init loss 8x the best constant output's (3.6 vs 0.45)
    # falls to it within the first updates: each counts 0.05 / 8, and 40 move 0.25, not 2.
    cross_entropy, mse = at_the_step_target(), at_the_step_target(**MSE)
    assert cross_entropy.movement == pytest.approx(2.0)
    assert hyperparameters.too_few_updates(cross_entropy) is None
    assert mse.pace == pytest.approx(0.05 * 0.45 / 3.6)
    assert mse.movement == pytest.approx(0.25)
    # 5 / 0.00625 = 800 updates: 40 per epoch, batch size 32
    assert hyperparameters.too_few_updates(mse).suggestion == "trainer.batch_size=32"


def test_a_sigmoid_net_moves_at_a_quarter_of_its_step():
    e = at_the_step_target(**SIGMOID)  # sigmoid' <= 1/4: 40 x 0.05 / 4 = 0.5
    assert e.movement == pytest.approx(0.5)
    # 5 / 0.0125 = 400 updates: 20 per epoch, batch size 64
    assert hyperparameters.too_few_updates(e).suggestion == "trainer.batch_size=64"


def test_a_loss_spike_past_the_edge_is_a_rate_too_high_even_with_modest_steps():
    # Sigmoid at full batch, lr 1: step 0.22 (below 0.5), λ 5.9 at init (2/λ = 0.34); the
    # first epoch's loss 25.7 from 2.43 at init, then stuck at the constant output's 2.3.
    spike = [25.7, 8.8] + [2.3] * 18

    def run(sharpness: float, losses: list[float]):
        return evidence(facts={"lr": 1.0}, init={"loss": 2.43, "update_ratios": {"a:W": 0.22}},
                        metrics={"sharpness_init": sharpness}, epoch_losses=losses)  # fmt: skip

    f = hyperparameters.learning_rate_too_high(run(5.9, spike))
    assert f.suggestion == "optimizer.lr=0.2"  # just below 2/λ
    assert "reached 11x the init loss" in f.summary
    assert hyperparameters.learning_rate_too_high(run(5.9, [2.3] * 20)) is None  # no spike
    assert hyperparameters.learning_rate_too_high(run(1.0, spike)) is None  # below 2/λ


def test_a_finding_is_frozen_and_written_with_three_digit_confidence():
    f = Finding("dead_relu", 0.12345, "most units never fire", "activation=leaky_relu", {})
    assert f.as_dict() == {"cause": "dead_relu", "confidence": 0.123, "evidence": {},
                           "summary": "most units never fire",
                           "suggestion": "activation=leaky_relu"}  # fmt: skip
    with pytest.raises(FrozenInstanceError):
        f.confidence = 1.0
