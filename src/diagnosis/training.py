"""Rules about how the run was trained: init scale, learning rate, batch size, run length.

They speak when no config defect or measured mechanism (see `rules`) explains the failure
better; their confidence is lower, so they follow such findings in the report.
"""

from __future__ import annotations

from src.diagnosis import suggest
from src.diagnosis.evidence import Evidence
from src.diagnosis.findings import (
    BATCH_TARGET,
    COLLAPSE,
    LOGITS_HIGH,
    MOVEMENT_LOW,
    MOVEMENT_TARGET,
    SHRINK,
    STEP_HIGH,
    STEP_TARGET,
    Finding,
    lower_lr,
    pct,
)
from src.theory.stability import stability

UNSTABLE = ("diverged", "rising", "oscillating")


def bad_init_scale(e: Evidence) -> Finding | None:
    growth, loss0, base = e.growth, e.init.loss, e.baseline_loss
    too_small = e.depth >= 3 and growth < SHRINK
    too_large = e.logit_rms > LOGITS_HIGH
    if not (too_small or too_large):
        return None
    if too_small:
        text = (
            f"the signal shrinks {1 / growth:.2g}x per layer at init (pre-activation RMS "
            f"{_rms_span(e)}): the output is near constant and every gradient tiny"
        )
    else:
        text = (
            f"the logits have RMS {e.logit_rms:.3g} at init (healthy ~1): loss {loss0:.3g} "
            f"vs {base:.3g} for a constant output"
        )
    # Large logits alone rarely fail a run (N(0, 3^2) and N(0, 10^2) digits nets converge:
    # cross-entropy's gradient does not vanish): a note, below the fallbacks.
    confidence = 0.8 if too_small else 0.35
    return Finding(
        "bad_init_scale", confidence, text, suggest.init_scale(e.facts, e.fans),
        {"logit_rms": e.logit_rms, "init_loss": loss0, "baseline_loss": base,
         "growth_per_layer": growth},
    )  # fmt: skip


def _rms_span(e: Evidence) -> str:
    values = list(e.init.preact_rms.values())
    return f"{values[0]:.3g} -> {values[-1]:.3g}"


def batch_too_small_for_lr(e: Evidence) -> Finding | None:
    f = e.facts
    if f.optimizer == "Adam" or f.batch_size >= f.n_train:
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
    if not (e.ratio > STEP_HIGH or e.diverged):
        return None
    if e.diverged and e.ratio <= STEP_HIGH < e.step:
        return None  # the batch, not the rate: batch_too_small_for_lr speaks
    trajectory = e.trajectory()
    step = e.metrics.get("first_nonfinite_step")
    names = {None: "a batch other than the probe", "loss": "the loss"}
    where = names.get(e.nonfinite_layer, e.nonfinite_layer)
    blew = f"; non-finite at step {step} in {where}" if e.diverged else ""
    edge = stability(e.facts.lr, e.metrics)  # λ measured at init (src/theory), when there is one
    beyond = edge is not None and edge.ratio > 1
    return Finding(
        "learning_rate_too_high",
        0.8 if trajectory in UNSTABLE else 0.75,
        f"one step moves the weights by {e.step:.2g}x their size at init (healthy <= "
        f"{STEP_HIGH}); loss {trajectory} from {e.init.loss:.3g}{blew}"
        f"{edge.text() if edge else ''}",
        suggest.learning_rate(e.facts, edge.edge / e.facts.lr) if beyond else lower_lr(e),
        {
            "step_ratio": e.step,
            "trajectory": trajectory,
            "first_nonfinite_step": step,
            "nonfinite_layer": e.nonfinite_layer,
            **(edge.evidence() if edge else {}),
        },
    )


def learning_rate_too_low(e: Evidence) -> Finding | None:
    trajectory = e.trajectory()
    if e.diverged or e.movement >= MOVEMENT_LOW or trajectory in UNSTABLE:
        return None
    if e.step > STEP_HIGH or e.rose():
        return None  # a loss that went up at some epoch says the rate is at its edge already
    factor = min(MOVEMENT_TARGET / max(e.movement, 1e-12), STEP_TARGET / max(e.step, 1e-12))
    if factor < 2:
        return None  # no room to raise it safely: the run needs more steps, not larger ones
    steps = e.metrics.get("steps", 0)
    return Finding(
        "learning_rate_too_low",
        0.7,
        f"{steps} steps of {e.ratio:.2g}x the weights' size add up to {e.movement:.2g} (runs "
        f"here converge from ~{MOVEMENT_LOW:g}); loss {trajectory}, {e.init.loss:.3g} -> "
        f"{e.losses[-1]:.3g}",
        suggest.learning_rate(e.facts, factor),
        {
            "movement": e.movement,
            "probe_step_ratio": e.ratio,
            "steps": steps,
            "trajectory": trajectory,
        },
    )


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
    flat = abs(e.losses[-1] - e.baseline_loss) / e.baseline_loss < 0.1
    why = f"; the loss sits at the constant-output {e.baseline_loss:.3g}" if flat else ""
    if e.facts.loss == "MSE":
        fix = suggest.switch("loss", "cross_entropy", e.facts.loss_node)  # no prior plateau
    elif e.trajectory() in UNSTABLE or e.step > STEP_HIGH:
        fix = lower_lr(e)
    else:
        fix = f"trainer.epochs={3 * e.facts.epochs}"
    return Finding(
        "output_collapse", 0.3, f"{pct(share)} of test samples get the same class{why}",
        fix, {"predicted_class_share": share, "final_loss": e.losses[-1]},
    )  # fmt: skip
