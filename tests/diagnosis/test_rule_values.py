"""Each cause at its thresholds, with the confidence, fix and numbers a user reads.

Findings are looked up by cause name through `diagnose`, never by the module a rule lives in.
The default evidence (tests/diagnosis/factories.py) is a healthy digits run: probe step ratio
0.026, noise factor 1.25, 900 steps, two weight layers, loss falling 2.56 -> 0.29.
"""

from __future__ import annotations

import math

import pytest

from src.diagnosis.rules import diagnose
from tests.diagnosis.factories import evidence

HURT = {"dead_relu": 1.0}
RAW = {"max_abs": 255.0, "integer_valued": True, "std": 90.0}
RISING = [2.0 + 0.5 * i for i in range(20)]
POS = {"init": {"_target_": "src.init.uniform", "low": 0.0, "high": 0.1}}
NORMAL = {"init": {"_target_": "src.init.normal", "std": 1.0}}
MSE = {"_target_": "src.loss.MSE", "targets": "onehot"}


def finding(e, cause):
    """The finding for `cause` among everything diagnosed, or None."""
    return next((f for f in diagnose(e) if f.cause == cause), None)


def speaks(cause, **kwargs) -> bool:
    return finding(evidence(**kwargs), cause) is not None


def step(ratio: float) -> dict:
    """Evidence fields giving probe step ratio `ratio` and noise factor 1 (step = ratio)."""
    return {"init": {"update_ratios": {"a:W": ratio}}, "noise": 1.0}


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
    facts = {"loss": "MSE", "output_activation": output, "targets": targets,
             "loss_node": {**MSE, "targets": targets}}  # fmt: skip
    f = finding(evidence(facts=facts), "loss_output_mismatch")
    baseline = 0.5 * 9 / 10 * (4 if targets == "pm1" else 1)
    assert f.confidence == confidence
    assert f.evidence == {"final_train_loss": pytest.approx(0.29),
                          "baseline_loss": pytest.approx(baseline), **extra}  # fmt: skip


def test_loss_output_mismatch_needs_mse_and_a_mismatched_output():
    assert not speaks("loss_output_mismatch", facts={"output_activation": "sigmoid",
                                                     "targets": "pm1"})  # fmt: skip
    for output, targets in [("sigmoid", "onehot"), ("identity", "pm1"), ("tanh", "pm1")]:
        facts = {"loss": "MSE", "output_activation": output, "targets": targets, "loss_node": MSE}
        assert not speaks("loss_output_mismatch", facts=facts), (output, targets)
    facts = {"loss": "MSE", "output_activation": "sigmoid", "targets": "pm1", "loss_node": MSE}
    f = finding(evidence(facts=facts, epoch_losses=[]), "loss_output_mismatch")
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
        ({"output_saturated": 0.5}, {}, {"loss": "MSE", "loss_node": MSE}, "loss=cross_entropy"),
        ({"saturated": 0.5}, {}, {"activation": "Sigmoid", "inits": NORMAL}, "init.std=0.11"),
        ({"saturated": 0.4}, {"saturated": 0.5}, {"activation": "Sigmoid"}, "optimizer.lr="),
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
    tanh = {"activation": "Tanh"}
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
    assert f.evidence == {"step_ratio": pytest.approx(0.505), "probe_step_ratio": 0.25,
                          "noise_factor": 2.02, "batch_size": 32, "trajectory": "falling"}
    rising = finding(evidence(noise=2.02, epoch_losses=RISING, **noisy), "batch_too_small_for_lr")
    assert rising.confidence == 0.8
    assert speaks("batch_too_small_for_lr", noise=1.01, init={"update_ratios": {"a:W": 0.5}})
    assert not speaks("batch_too_small_for_lr", noise=2.02, facts={"optimizer": "Adam"}, **noisy)
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
        blew.summary)
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
    f = finding(evidence(epoch_losses=[*falling, 1.0, 0.99]), "too_few_epochs")
    assert (f.confidence, f.suggestion) == (0.4, "trainer.epochs=60")
    assert f.evidence["last_epoch_drop"] == pytest.approx(0.01)
    assert not speaks("too_few_epochs", epoch_losses=[*falling, 1.0, 0.995])
    assert not speaks("too_few_epochs", epoch_losses=RISING)


@pytest.mark.parametrize(
    ("changes", "fix"),
    [
        ({}, "trainer.epochs=60"),
        ({"epoch_losses": RISING}, "optimizer.lr="),
        (step(0.51), "optimizer.lr="),
        ({"facts": {"loss": "MSE", "loss_node": MSE}}, "loss=cross_entropy"),
    ],
)
def test_output_collapse_fix(changes, fix):
    e = evidence(metrics={"predicted_class_share": 0.9}, **changes)
    f = finding(e, "output_collapse")
    assert f.confidence == 0.3 and f.suggestion.startswith(fix)
    assert f.evidence == {"predicted_class_share": 0.9, "final_loss": e.losses[-1]}


def test_output_collapse_threshold_and_the_flat_loss_note():
    assert not speaks("output_collapse", metrics={"predicted_class_share": 0.89})
    flat = [math.log(10) * 1.09] * 20
    near = finding(evidence(metrics={"predicted_class_share": 1.0}, epoch_losses=flat),
                   "output_collapse")  # fmt: skip
    assert "sits at the constant-output" in near.summary
    far = [math.log(10) * 1.11] * 20
    away = finding(evidence(metrics={"predicted_class_share": 1.0}, epoch_losses=far),
                   "output_collapse")  # fmt: skip
    assert "sits at the constant-output" not in away.summary
