"""Rules: a run's evidence -> named causes, each with its numbers and an override to try.

Each rule checks one cause and returns a `Finding` or None; `diagnose` runs them on a run that
did not converge and orders the findings by confidence. Confidence comes in tiers (why: see
docs/diagnosis.md), one module per tier: `config` 0.9-0.95, a config defect that explains the
failure; `mechanism` 0.8-0.9, a measured mechanism (dead or saturated units, exploding or
vanishing gradients, init scale); `hyperparameters` 0.7-0.8, a training hyperparameter with
nothing more specific to show, then bare fallbacks below 0.5. Shared thresholds: `common`.
"""

from __future__ import annotations

from src.diagnosis.evidence import Evidence
from src.diagnosis.rules import config, hyperparameters, mechanism
from src.diagnosis.rules.common import Finding

RULES = (
    config.unnormalized_input,
    config.loss_output_mismatch,
    config.all_positive_init,
    mechanism.dead_relu,
    mechanism.saturated_activation,
    mechanism.exploding_gradient,
    mechanism.vanishing_gradient,
    mechanism.bad_init_scale,
    hyperparameters.batch_too_small_for_lr,
    hyperparameters.learning_rate_too_high,
    hyperparameters.learning_rate_too_low,
    hyperparameters.too_few_updates,
    hyperparameters.too_few_epochs,
    hyperparameters.output_collapse,
)


def diagnose(e: Evidence) -> list[Finding]:
    """Every cause that applies, most confident first; none for a converged run."""
    if e.outcome == "converged":
        return []
    findings = [f for rule in RULES if (f := rule(e)) is not None]
    return sorted(findings, key=lambda f: -f.confidence)  # stable: ties keep RULES order
