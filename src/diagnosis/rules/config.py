"""Config defects that explain a failure (confidence 0.9-0.95): raw inputs, a loss that does
not fit the output, a one-signed init. Each also needs a measured consequence, because each is
harmless in some setting (raw 0-16 digits at batch size 32 converge).
"""

from __future__ import annotations

import math

from src.diagnosis import suggest
from src.diagnosis.evidence import Evidence
from src.diagnosis.rules.common import (
    DEAD,
    RAW_MAX,
    SATURATED,
    STEP_HIGH,
    VANISHING,
    Finding,
)
from src.diagnosis.signals import Snapshot


def unnormalized_input(e: Evidence) -> Finding | None:
    x = e.inputs
    raw = x["integer_valued"] or x["max_abs"] > RAW_MAX
    if e.facts.normalize != "none" or not raw:
        return None
    dead, saturated = e.last.dead_relu or 0.0, max(_saturation(e.init), e.last.saturated or 0.0)
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
    numbers = {"final_train_loss": final, "baseline_loss": e.facts.baseline_loss}
    if f.takes_logits:
        return None  # no output activation to mismatch
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
    nodes = {k: n for k, n in e.facts.inits.items() if float(n.get("low", -1)) >= 0}
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


def _saturation(s: Snapshot) -> float:
    return max((v for v in (s.saturated, s.output_saturated) if v is not None), default=0.0)
