"""Rules: a run's evidence -> named causes, each with its numbers and an override to try.

Each rule checks one cause and returns a `Finding` or None; `diagnose` runs them on a run that
did not converge and orders the findings by confidence. Confidence comes in tiers (why: see
docs/diagnosis.md): 0.9-0.95 a config defect that explains the failure; 0.8-0.9 a measured
mechanism (dead or saturated units, exploding or vanishing gradients, init scale); 0.7-0.8 a
training hyperparameter with nothing more specific to show; below 0.5 bare fallbacks.
"""

from __future__ import annotations

import math

from src.diagnosis import suggest, training
from src.diagnosis.evidence import Evidence
from src.diagnosis.facts import target_name
from src.diagnosis.findings import (
    DEAD,
    EXPLODING,
    GROWTH,
    RAW_MAX,
    SATURATED,
    STEP_HIGH,
    VANISHING,
    Finding,
    lower_lr,
    pct,
    saturation,
)


def diagnose(e: Evidence) -> list[Finding]:
    """Every cause that applies, most confident first; none for a converged run."""
    if e.outcome == "converged":
        return []
    findings = [f for rule in RULES if (f := rule(e)) is not None]
    return sorted(findings, key=lambda f: -f.confidence)  # stable: ties keep RULES order


def unnormalized_input(e: Evidence) -> Finding | None:
    x = e.inputs
    raw = x["integer_valued"] or x["max_abs"] > RAW_MAX
    if e.facts.normalize != "none" or not raw:
        return None
    dead, saturated = e.last.dead_relu or 0.0, max(saturation(e.init), e.last.saturated or 0.0)
    if dead < DEAD and saturated < SATURATED and e.step <= STEP_HIGH:
        return None  # raw, but the net copes (digits 0-16 at batch size 32 converge)
    first = next(iter(e.init.preact_rms.values()), math.nan)
    kind = "integer pixels" if x["integer_valued"] else "values"
    return Finding(
        "unnormalized_input",
        0.95,
        f"inputs are raw {kind} up to {x['max_abs']:g} (dataset.normalize=none): first-layer "
        f"pre-activations have RMS {first:.3g} at init and one step moves the weights by "
        f"{e.step:.2g}x their size",
        "dataset.normalize=unit",
        {
            "max_abs_input": x["max_abs"],
            "first_preact_rms": first,
            "step_ratio": e.step,
            "dead_relu": dead,
            "saturated": saturated,
        },
    )


def loss_output_mismatch(e: Evidence) -> Finding | None:
    f = e.facts
    final = e.epoch_losses[-1] if e.epoch_losses else math.nan
    numbers = {"final_train_loss": final, "baseline_loss": e.baseline_loss}
    if f.loss != "MSE":
        return None
    if f.output_activation == "sigmoid" and f.targets == "pm1":
        floor = 0.5 * (f.n_classes - 1)
        text = (
            f"sigmoid outputs lie in (0, 1) but loss.targets=pm1 asks for -1: the MSE "
            f"cannot fall below {floor:g} (final train loss {final:.3g})"
        )
        return Finding(
            "loss_output_mismatch",
            0.95,
            text,
            "model.output_activation=tanh",
            {**numbers, "loss_floor": floor},
        )
    if f.output_activation == "softmax":
        text = (
            f"MSE on softmax outputs: the gradient passes the softmax Jacobian, ~1/K = "
            f"1/{f.n_classes} of cross-entropy's at init, so learning is that much slower "
            f"(train loss {e.init.loss:.3g} -> {final:.3g})"
        )
        return Finding(
            "loss_output_mismatch",
            0.9,
            text,
            suggest.switch("loss", "cross_entropy", f.loss_node),
            numbers,
        )
    if f.output_activation == "tanh" and f.targets == "onehot":
        text = "tanh outputs span (-1, 1) but the targets are 0/1: half the range is unused"
        return Finding(
            "loss_output_mismatch", 0.45, text, "model.output_activation=sigmoid", numbers
        )
    return None


def all_positive_init(e: Evidence) -> Finding | None:
    nodes = {
        k: n
        for k, n in e.facts.inits.items()
        if target_name(n) == "uniform" and float(n.get("low", -1)) >= 0
    }
    if not nodes or not e.init.positive_weights:
        return None
    ratio = e.init.first_last_grad_ratio
    if e.step <= STEP_HIGH and not ratio < VANISHING:
        return None  # one-signed, but the steps and gradients stay in the healthy band
    key, node = next(iter(nodes.items()))
    return Finding(
        "all_positive_init",
        0.9,
        f"{key} is U({node.get('low')}, {node.get('high')}): every weight of "
        f"{', '.join(e.init.positive_weights)} is >= 0 at init, so each layer's units move "
        f"alike; first/last gradient ratio {ratio:.2g}, step ratio {e.step:.2g} at init",
        suggest.zero_mean_init(e.facts),
        {
            "positive_layers": e.init.positive_weights,
            "first_last_grad_ratio": ratio,
            "step_ratio": e.step,
        },
    )


def dead_relu(e: Evidence) -> Finding | None:
    share, at_init = e.last.dead_relu, e.init.dead_relu or 0.0
    if share is None or share < DEAD:
        return None
    since = next(s.epoch for s in e.snapshots if (s.dead_relu or 0.0) >= DEAD)
    when = "already at init" if since == 0 else f"{pct(at_init)} at init, >= 70% from epoch {since}"
    if at_init >= DEAD:
        fix = suggest.zero_mean_init(e.facts) or "activation=leaky_relu"
    else:
        fix = lower_lr(e)
    big = f"; one step moved the weights by {e.step:.2g}x their size" if e.step > STEP_HIGH else ""
    return Finding(
        "dead_relu",
        0.85 + 0.05 * (share - DEAD) / (1 - DEAD),
        f"{pct(share)} of hidden ReLUs never fire on the probe batch ({when}){big}",
        fix,
        {
            "dead_relu": share,
            "dead_relu_at_init": at_init,
            "since_epoch": since,
            "step_ratio": e.step,
        },
    )


def saturated_activation(e: Evidence) -> Finding | None:
    # Outputs count at init only: a trained sigmoid output sitting on its 0/1 target is the
    # goal, not a defect (the 8-3-8 encoder ends with half its outputs past the knee).
    hidden_init, hidden_last = e.init.saturated or 0.0, e.last.saturated or 0.0
    output_init = e.init.output_saturated or 0.0
    share = max(hidden_init, hidden_last, output_init)
    if share < SATURATED:
        return None
    if output_init >= SATURATED and e.facts.loss == "MSE":
        # The output's σ' multiplies every MSE gradient; cross-entropy's p - y skips it. A
        # saturated hidden layer is then harmless random features (wide_sigmoid_mse: 0.17 ->
        # 0.51 after one epoch with cross-entropy, 0.16 with a smaller init).
        where, share = f"output {e.facts.output_activation}", output_init
        fix, when = suggest.switch("loss", "cross_entropy", e.facts.loss_node), "already at init"
    elif hidden_init >= SATURATED:
        where, share = f"hidden {e.facts.activation}", max(hidden_init, hidden_last)
        fix, when = suggest.init_scale(e.facts, e.fans), "already at init"
    elif hidden_last >= SATURATED:
        where, share = f"hidden {e.facts.activation}", hidden_last
        fix, when = lower_lr(e), f"{pct(hidden_init)} at init; the steps pushed them there"
    else:
        return None
    return Finding(
        "saturated_activation",
        0.85,
        f"{pct(share)} of {where} inputs are past the knee (derivative < 1e-2) ({when}); "
        f"gradients through them vanish",
        fix,
        {"saturated_hidden": hidden_last, "saturated_hidden_at_init": hidden_init,
         "saturated_output_at_init": output_init, "step_ratio": e.step},
    )  # fmt: skip


def exploding_gradient(e: Evidence) -> Finding | None:
    ratio, growth = e.init.first_last_grad_ratio, e.growth
    deep = e.depth >= 3 and growth >= GROWTH and (e.diverged or e.step > STEP_HIGH)
    if not (deep or ratio > EXPLODING):
        return None
    rms = list(e.init.preact_rms.values())
    where = f"; non-finite first in {e.nonfinite_layer}" if e.nonfinite_layer else ""
    return Finding(
        "exploding_gradient",
        0.88,
        f"pre-activations grow {growth:.2g}x per layer at init ({rms[0]:.3g} -> {rms[-1]:.3g} "
        f"over {len(rms)} layers), steps are {e.step:.2g}x the weights{where}",
        suggest.init_scale(e.facts, e.fans),
        {
            "growth_per_layer": growth,
            "first_last_grad_ratio": ratio,
            "step_ratio": e.step,
            "nonfinite_layer": e.nonfinite_layer,
        },
    )


def vanishing_gradient(e: Evidence) -> Finding | None:
    ratio = e.init.first_last_grad_ratio
    if e.depth < 3 or not ratio < VANISHING or (e.last.dead_relu or 0.0) >= DEAD:
        return None
    squashing = e.facts.activation in ("Sigmoid", "Tanh")
    fix = "activation=relu" if squashing else suggest.init_scale(e.facts, e.fans)
    return Finding(
        "vanishing_gradient",
        0.85,
        f"the first layer's gradient is {ratio:.2g}x the last layer's at init through "
        f"{e.depth} weight layers of {e.facts.activation}: the early layers barely move",
        fix,
        {"first_last_grad_ratio": ratio, "depth": e.depth},
    )


RULES = (
    unnormalized_input,
    loss_output_mismatch,
    all_positive_init,
    dead_relu,
    saturated_activation,
    exploding_gradient,
    vanishing_gradient,
    training.bad_init_scale,
    training.batch_too_small_for_lr,
    training.learning_rate_too_high,
    training.learning_rate_too_low,
    training.too_few_epochs,
    training.output_collapse,
)
