"""Training hyperparameters with nothing more specific to show (confidence 0.7-0.8): the
learning rate and the batch size; then the fallbacks (< 0.5): too few epochs, one class for all.
"""

from __future__ import annotations

import math

from src.diagnosis import suggest
from src.diagnosis.evidence import Evidence
from src.diagnosis.rules.common import COLLAPSE, SPIKE, STEP_HIGH, UNSTABLE, Finding, pct
from src.diagnosis.suggest import BATCH_TARGET, MOVEMENT_LOW, MOVEMENT_TARGET, STEP_TARGET
from src.theory.stability import stability


def batch_too_small_for_lr(e: Evidence) -> Finding | None:
    f = e.facts
    if f.normalizes_gradient or f.batch_size >= f.n_train:
        return None
    if not (e.step > STEP_HIGH >= e.ratio):
        return None
    confidence = 0.8 if e.trajectory() in UNSTABLE else 0.75
    return Finding(
        "batch_too_small_for_lr",
        confidence,
        f"at batch size {f.batch_size} one step moves the weights by {e.step:.2g}x their size "
        f"(gradient noise x{e.noise:.2g}); averaged over the probe batch only {e.ratio:.2g}: "
        f"a larger batch tames the same learning rate",
        suggest.batch_size(f, e.noise, e.ratio, min(max(BATCH_TARGET, 1.25 * e.ratio), STEP_HIGH)),
        {
            "step_ratio": e.step,
            "probe_step_ratio": e.ratio,
            "noise_factor": e.noise,
            "batch_size": f.batch_size,
            "trajectory": e.trajectory(),
        },
    )


def learning_rate_too_high(e: Evidence) -> Finding | None:
    edge = stability(e.facts.lr, e.metrics)  # λ measured at init (src/theory), when there is one
    spike = _spike(e) if edge is not None and edge.ratio > 1 else 0.0
    if not (e.ratio > STEP_HIGH or e.diverged or spike >= SPIKE):
        return None
    if e.diverged and e.ratio <= STEP_HIGH < e.step:
        return None  # the batch, not the rate: batch_too_small_for_lr speaks
    trajectory = e.trajectory()
    step = e.metrics.get("first_nonfinite_step")
    names = {None: "a batch other than the probe", "loss": "the loss"}
    where = names.get(e.nonfinite_layer, e.nonfinite_layer)
    blew = f"; non-finite at step {step} in {where}" if e.diverged else ""
    blew += f"; an epoch's loss reached {spike:.2g}x the init loss" if spike >= SPIKE else ""
    fix = (  # just below 2/λ when the rate is past it, else a step of STEP_TARGET
        suggest.learning_rate(e.facts, edge.edge / e.facts.lr, e.pace, e.step)
        if edge is not None and edge.ratio > 1
        else suggest.lower_learning_rate(e.facts, e.pace, e.step)
    )
    return Finding(
        "learning_rate_too_high",
        0.8 if trajectory in UNSTABLE else 0.75,
        f"one step moves the weights by {e.step:.2g}x their size at init (healthy <= "
        f"{STEP_HIGH}); loss {trajectory} from {e.init.loss:.3g}{blew}"
        f"{edge.text() if edge else ''}",
        fix,
        {
            "step_ratio": e.step,
            "trajectory": trajectory,
            "first_nonfinite_step": step,
            "nonfinite_layer": e.nonfinite_layer,
            **(edge.evidence() if edge else {}),
        },
    )


def _spike(e: Evidence) -> float:
    """The largest epoch's training loss over the loss at init (finite values only)."""
    finite = [x for x in e.epoch_losses if math.isfinite(x)]
    return max(finite, default=0.0) / e.init.loss if e.init.loss > 0 else 0.0


def learning_rate_too_low(e: Evidence) -> Finding | None:
    trajectory = e.trajectory()
    if e.diverged or e.movement >= MOVEMENT_LOW or trajectory in UNSTABLE:
        return None
    if e.step > STEP_HIGH or e.rose():
        return None  # a loss that went up at some epoch says the rate is at its edge already
    factor = _lr_room(e)
    if factor < 2:
        return None  # no room to raise it safely: too_few_updates speaks
    steps = e.metrics.get("steps", 0)
    return Finding(
        "learning_rate_too_low",
        0.7,
        f"{steps} steps of {e.pace:.2g}x the weights' size add up to {e.movement:.2g} (runs "
        f"here converge from ~{MOVEMENT_LOW:g}); loss {trajectory}, {e.init.loss:.3g} -> "
        f"{e.losses[-1]:.3g}",
        suggest.learning_rate(e.facts, factor, e.pace, e.step),
        {
            "movement": e.movement,
            "probe_step_ratio": e.ratio,
            "steps": steps,
            "trajectory": trajectory,
        },
    )


def too_few_updates(e: Evidence) -> Finding | None:
    """Steps already as large as is safe, or a loss at the rate's edge, and too few of them."""
    trajectory = e.trajectory()
    if e.diverged or e.movement >= MOVEMENT_LOW or trajectory == "rising" or e.step > STEP_HIGH:
        return None
    if e.ratio <= 0:
        return None  # no gradient: more updates would not move the weights either
    if trajectory not in UNSTABLE and not e.rose() and _lr_room(e) >= 2:
        return None  # a larger rate is safe: learning_rate_too_low speaks
    steps = e.metrics.get("steps", 0)
    return Finding(
        "too_few_updates",
        0.7,
        f"{steps} updates of {e.pace:.2g}x the weights' size add up to {e.movement:.2g} (runs "
        f"here converge from ~{MOVEMENT_LOW:g}), and the steps cannot safely grow (loss "
        f"{trajectory}, step {e.step:.2g}x at batch size {e.facts.batch_size})",
        suggest.more_updates(e.facts, e.pace, e.step),
        {"movement": e.movement, "steps": steps, "step_ratio": e.step, "trajectory": trajectory},
    )


def _lr_room(e: Evidence) -> float:
    """How far the lr can grow: to the movement target, with the step at most STEP_TARGET."""
    return min(MOVEMENT_TARGET / max(e.movement, 1e-12), STEP_TARGET / max(e.step, 1e-12))


def too_few_epochs(e: Evidence) -> Finding | None:
    if e.diverged or e.trajectory() != "falling":
        return None
    before, after = e.losses[-2], e.losses[-1]  # with one epoch: init -> epoch 1
    drop = (before - after) / max(abs(before), 1e-12)
    if drop < 0.01:
        return None
    return Finding(
        "too_few_epochs", 0.4,
        f"the loss was still falling ({pct(drop)} in the last epoch) when the run ended",
        f"trainer.epochs={3 * e.facts.epochs}", {"last_epoch_drop": drop},
    )  # fmt: skip


def output_collapse(e: Evidence) -> Finding | None:
    share = e.metrics.get("predicted_class_share")
    if share is None or share < COLLAPSE:
        return None
    flat = abs(e.losses[-1] - e.facts.baseline_loss) / e.facts.baseline_loss < 0.1
    why = f"; the loss sits at the constant-output {e.facts.baseline_loss:.3g}" if flat else ""
    if not e.facts.takes_logits:
        fix = suggest.switch("loss", "cross_entropy", e.facts.loss_node)  # no prior plateau
    elif e.trajectory() in UNSTABLE or e.step > STEP_HIGH:
        fix = suggest.lower_learning_rate(e.facts, e.pace, e.step)
    else:
        fix = f"trainer.epochs={3 * e.facts.epochs}"
    return Finding(
        "output_collapse", 0.3, f"{pct(share)} of test samples get the same class{why}",
        fix, {"predicted_class_share": share, "final_loss": e.losses[-1]},
    )  # fmt: skip
