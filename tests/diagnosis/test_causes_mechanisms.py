"""Config defects and measured mechanisms, each at its thresholds, with the confidence, fix and
numbers a user reads (inputs, loss/output pairing, init sign, dead or saturated units,
exploding or vanishing gradients)."""

from __future__ import annotations

import math

import pytest

from src.diagnosis.rules import diagnose
from tests.diagnosis.causes import HURT, NORMAL, POS, RAW, TANH, finding, mse, speaks, step
from tests.diagnosis.factories import SIGMOID, evidence


def test_unnormalized_input_thresholds():
    none = {"normalize": "none"}
    for inputs, raw in [({"max_abs": 10.0, "integer_valued": False}, False),
                        ({"max_abs": 10.5, "integer_valued": False}, True),
                        ({"max_abs": 1.0, "integer_valued": True}, True)]:  # fmt: skip
        assert speaks("unnormalized_input", inputs={**inputs, "std": 1.0}, facts=none,
                      last=HURT) == raw  # fmt: skip
    assert not speaks("unnormalized_input", inputs=RAW, facts={"normalize": "unit"}, last=HURT)
    # Raw inputs count once they hurt: 70% dead, 50% saturated, or a step above 0.5.
    assert speaks("unnormalized_input", inputs=RAW, facts=none, last={"dead_relu": 0.7})
    assert not speaks("unnormalized_input", inputs=RAW, facts=none, last={"dead_relu": 0.69})
    assert speaks("unnormalized_input", inputs=RAW, facts=none, last={"saturated": 0.5})
    assert speaks("unnormalized_input", inputs=RAW, facts=none, init={"output_saturated": 0.5})
    assert not speaks("unnormalized_input", inputs=RAW, facts=none, **step(0.5))
    assert speaks("unnormalized_input", inputs=RAW, facts=none, **step(0.51))


def test_unnormalized_input_finding():
    e = evidence(inputs=RAW, facts={"normalize": "none"}, last=HURT, init={"saturated": 0.2})
    f = finding(e, "unnormalized_input")
    assert (f.confidence, f.suggestion) == (0.95, "dataset.normalize=unit")
    assert f.evidence == {"max_abs_input": 255.0, "first_preact_rms": 0.70,
                          "step_ratio": pytest.approx(0.0325), "dead_relu": 1.0,
                          "saturated": 0.2}  # fmt: skip
    assert diagnose(e)[0] is not None and diagnose(e)[0].cause == "unnormalized_input"


@pytest.mark.parametrize(
    ("output", "targets", "confidence", "extra"),
    [("sigmoid", "pm1", 0.95, {"loss_floor": 4.5}), ("softmax", "onehot", 0.9, {}),
     ("tanh", "onehot", 0.45, {})],
)  # fmt: skip
def test_loss_output_mismatch_numbers(output, targets, confidence, extra):
    f = finding(evidence(facts=mse(output, targets)), "loss_output_mismatch")
    baseline = 0.5 * 9 / 10 * (4 if targets == "pm1" else 1)
    assert f.confidence == confidence
    assert f.evidence == {"final_train_loss": pytest.approx(0.29),
                          "baseline_loss": pytest.approx(baseline), **extra}  # fmt: skip


def test_loss_output_mismatch_needs_mse_and_a_mismatched_output():
    assert not speaks("loss_output_mismatch", facts={"output_activation": "sigmoid",
                                                     "targets": "pm1"})  # fmt: skip
    for output, targets in [("sigmoid", "onehot"), ("identity", "pm1"), ("tanh", "pm1")]:
        assert not speaks("loss_output_mismatch", facts=mse(output, targets)), (output, targets)
    f = finding(evidence(facts=mse("sigmoid", "pm1"), epoch_losses=[]), "loss_output_mismatch")
    assert math.isnan(f.evidence["final_train_loss"])


def test_all_positive_init_thresholds_and_numbers():
    positive = {"positive_weights": ["1.Dense:W"]}
    big = {**positive, "update_ratios": {"a:W": 0.51}}
    assert speaks("all_positive_init", facts={"inits": POS}, init=big, noise=1.0)
    assert not speaks("all_positive_init", facts={"inits": POS}, noise=1.0,
                      init={**positive, "update_ratios": {"a:W": 0.5}})  # fmt: skip
    assert not speaks("all_positive_init", facts={"inits": POS}, init={"update_ratios": {"a:W": 2}})
    below = {"init": {"_target_": "src.init.uniform", "low": -0.01, "high": 0.1}}
    assert not speaks("all_positive_init", facts={"inits": below}, init=big, noise=1.0)
    no_low = {"init": {"_target_": "src.init.uniform", "high": 0.1}}
    assert not speaks("all_positive_init", facts={"inits": no_low}, init=big, noise=1.0)
    # Vanishing first-layer gradients count as a consequence too: ratio < 0.04.
    tiny = {**positive, "grad_norms": {"a:W": 0.039, "b:W": 1.0}}
    assert speaks("all_positive_init", facts={"inits": POS}, init=tiny)
    edge = {**positive, "grad_norms": {"a:W": 0.04, "b:W": 1.0}}
    assert not speaks("all_positive_init", facts={"inits": POS}, init=edge)
    f = finding(evidence(facts={"inits": POS}, init=big, noise=1.0), "all_positive_init")
    assert (f.confidence, f.suggestion) == (0.9, "init.low=-0.1")
    assert f.evidence == {"positive_layers": ["1.Dense:W"],
                          "first_last_grad_ratio": pytest.approx(0.83 / 1.18),
                          "step_ratio": 0.51}  # fmt: skip


def test_dead_relu_confidence_grows_with_the_share_and_the_fix_follows_when():
    full = finding(evidence(last={"dead_relu": 1.0}), "dead_relu")
    edge = finding(evidence(last={"dead_relu": 0.7}), "dead_relu")
    assert full.confidence == pytest.approx(0.9) and edge.confidence == pytest.approx(0.85)
    assert full.evidence == {"dead_relu": 1.0, "dead_relu_at_init": 0.03, "since_epoch": 20,
                             "step_ratio": pytest.approx(0.0325)}  # fmt: skip
    assert finding(evidence(init=HURT, last=HURT), "dead_relu").evidence["since_epoch"] == 0
    # Dead from init on a He init: nothing one-signed to fix, so a leaky ReLU.
    at_init = finding(evidence(init={"dead_relu": 0.7}, last=HURT), "dead_relu")
    assert at_init.suggestion == "activation=leaky_relu"
    later = finding(evidence(init={"dead_relu": 0.69}, last=HURT), "dead_relu")
    assert later.suggestion.startswith("optimizer.lr=")


def test_dead_relu_mentions_big_steps_only_above_half_the_weights():
    quiet = finding(evidence(last=HURT, **step(0.5)), "dead_relu")
    loud = finding(evidence(last=HURT, **step(0.51)), "dead_relu")
    assert "one step moved" not in quiet.summary and "one step moved" in loud.summary


@pytest.mark.parametrize(
    ("init", "last", "facts", "fix"),
    [
        ({"output_saturated": 0.5}, {}, mse("sigmoid"), "loss=cross_entropy"),
        ({"saturated": 0.5}, {}, {**SIGMOID, "inits": NORMAL}, "init.std=0.11"),
        ({"saturated": 0.4}, {"saturated": 0.5}, SIGMOID, "optimizer.lr="),
    ],
)
def test_saturation_fix_depends_on_where_and_when(init, last, facts, fix):
    f = finding(evidence(init=init, last=last, facts=facts), "saturated_activation")
    assert f.confidence == 0.85 and f.suggestion.startswith(fix)
    assert f.evidence == {"saturated_hidden": last.get("saturated", 0.0),
                          "saturated_hidden_at_init": init.get("saturated", 0.0),
                          "saturated_output_at_init": init.get("output_saturated", 0.0),
                          "step_ratio": pytest.approx(0.0325)}  # fmt: skip


def test_saturation_below_half_or_only_at_a_cross_entropy_output_is_quiet():
    assert not speaks("saturated_activation", init={"saturated": 0.49, "output_saturated": 0.49},
                      last={"saturated": 0.49})  # fmt: skip
    assert not speaks("saturated_activation", init={"output_saturated": 0.9})


def test_exploding_gradient_thresholds_and_numbers():
    rms = {"2.ReLU": 1.0, "4.ReLU": 2.0}  # growth exactly 2 per layer
    deep = {"fans": [(64, 64)] * 3, "noise": 1.0}
    assert speaks("exploding_gradient", init={"preact_rms": rms, "update_ratios": {"a:W": 0.51}},
                  **deep)  # fmt: skip
    assert not speaks("exploding_gradient", init={"preact_rms": rms, "update_ratios": {"a:W": 0.5}},
                      **deep)  # fmt: skip
    assert speaks("exploding_gradient", init={"preact_rms": rms}, metrics={
        "first_nonfinite_step": 4}, **deep)  # fmt: skip
    slow = {"2.ReLU": 1.0, "4.ReLU": 1.99}
    assert not speaks("exploding_gradient", init={"preact_rms": slow}, metrics={
        "first_nonfinite_step": 4}, **deep)  # fmt: skip
    shallow = {**deep, "fans": [(64, 64)] * 2}
    assert not speaks("exploding_gradient", init={"preact_rms": rms}, metrics={
        "first_nonfinite_step": 4}, **shallow)  # fmt: skip
    # A first/last gradient ratio above 1000 explodes at any depth.
    assert speaks("exploding_gradient", init={"grad_norms": {"a:W": 1001.0, "b:W": 1.0}})
    assert not speaks("exploding_gradient", init={"grad_norms": {"a:W": 1000.0, "b:W": 1.0}})
    f = finding(evidence(init={"preact_rms": rms}, metrics={"first_nonfinite_step": 4},
                         nonfinite_layer="1.Dense:W", **deep), "exploding_gradient")  # fmt: skip
    assert f.confidence == 0.88 and f.suggestion == "init=he_normal"
    assert f.evidence == {"growth_per_layer": 2.0, "first_last_grad_ratio": pytest.approx(0.83 /
                          1.18), "step_ratio": 0.026, "nonfinite_layer": "1.Dense:W"}  # fmt: skip


def test_vanishing_gradient_thresholds_and_fix():
    tiny = {"grad_norms": {"a:W": 0.039, "b:W": 1.0}}
    three = [(64, 64)] * 3
    tanh = TANH
    f = finding(evidence(init=tiny, fans=three, facts=tanh), "vanishing_gradient")
    assert (f.confidence, f.suggestion) == (0.85, "activation=relu")
    assert f.evidence == {"first_last_grad_ratio": 0.039, "depth": 3}
    relu = finding(evidence(init=tiny, fans=three, facts={"inits": NORMAL}), "vanishing_gradient")
    assert relu.suggestion == "init.std=0.18"  # He for fan-in 64
    assert not speaks("vanishing_gradient", init=tiny, fans=three[:2], facts=tanh)
    edge = {"grad_norms": {"a:W": 0.04, "b:W": 1.0}}
    assert not speaks("vanishing_gradient", init=edge, fans=three, facts=tanh)
    assert not speaks("vanishing_gradient", init=tiny, fans=three, facts=tanh,
                      last={"dead_relu": 0.7})  # fmt: skip
    assert speaks("vanishing_gradient", init=tiny, fans=three, facts=tanh, last={"dead_relu": 0.69})


def test_summaries_carry_the_numbers_that_triggered_them():
    raw = finding(evidence(inputs=RAW, facts={"normalize": "none"}, last=HURT),
                  "unnormalized_input")  # fmt: skip
    assert raw.summary.startswith("inputs are raw integer pixels up to 255 ")
    floats = {"max_abs": 40.0, "integer_valued": False, "std": 9.0}
    big = finding(evidence(inputs=floats, facts={"normalize": "none"}, last=HURT),
                  "unnormalized_input")  # fmt: skip
    assert big.summary.startswith("inputs are raw values up to 40 ")
    later = finding(evidence(last=HURT), "dead_relu")
    assert "(3% at init, >= 70% from epoch 20)" in later.summary


def test_dead_relu_without_a_relu_count_at_init():
    # A snapshot without ReLUs has no share (None): it counts as nothing dead, not all dead.
    f = finding(evidence(init={"dead_relu": None}, last=HURT), "dead_relu")
    assert f.evidence["dead_relu_at_init"] == 0.0 and f.evidence["since_epoch"] == 20


def test_missing_shares_count_as_none_dead_and_none_saturated():
    # Sigmoid nets have no ReLU share, CNN probes may lack a saturation share: None is 0.
    calm = {"dead_relu": None, "saturated": None, "output_saturated": None}
    assert not speaks("unnormalized_input", inputs=RAW, facts={"normalize": "none"}, last=calm)
    assert not speaks("saturated_activation", init=calm, last=calm, facts=mse())
    tiny = {"grad_norms": {"a:W": 0.01, "b:W": 1.0}}
    assert speaks("vanishing_gradient", init=tiny, fans=[(64, 64)] * 3, last=calm,
                  facts=TANH)  # fmt: skip
    f = finding(evidence(init={"preact_rms": {"2.ReLU": 1.0, "4.ReLU": 2.0}}, fans=[(64, 64)] * 3,
                         metrics={"first_nonfinite_step": 4}, nonfinite_layer="1.Dense:W"),
                "exploding_gradient")  # fmt: skip
    assert f.summary.endswith("; non-finite first in 1.Dense:W")
