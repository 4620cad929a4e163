"""What every rule returns (`Finding`) and the thresholds the rule families share.

Every threshold is explained, with the runs it was calibrated on, in docs/diagnosis.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from src.diagnosis.evidence import json_safe

DEAD = 0.7  # share of hidden ReLUs that never fire (AUTOTRAINER / DeepDiagnosis)
SATURATED = 0.5  # share of sigmoid/tanh inputs with derivative < 1e-2 (DeepDiagnosis)
VANISHING = 0.04  # first/last gradient norm ratio at init; nets here stall from ~1e-2
EXPLODING = 1e3  # the same ratio, the other way
GROWTH, SHRINK = 2.0, 0.5  # pre-activation RMS factor per ReLU or tanh layer at init
STEP_HIGH = 0.5  # ||step|| / ||w||: the digits grid converges up to 0.38, stalls from 0.58
SPIKE = 1.5  # an epoch's loss / init loss past 2/λ: the catapult (digits sigmoid: 10x)
LOGITS_HIGH = 5.0  # logit RMS at init: softmax near one-hot, sigmoid/tanh past the knee
COLLAPSE = 0.9  # share of test samples given the most predicted class
RAW_MAX = 10.0  # max |x| above this (or integer pixels > 1) counts as unnormalized
UNSTABLE = ("diverged", "rising", "oscillating")  # loss trajectories of a rate at its edge


@dataclass(frozen=True)
class Finding:
    """One named cause: how sure, what was measured, what to try."""

    cause: str
    confidence: float
    summary: str  # one line, with the numbers
    suggestion: str  # overrides to add to the run's command line
    evidence: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "cause": self.cause,
            "confidence": round(self.confidence, 3),
            "summary": self.summary,
            "evidence": json_safe(self.evidence),
            "suggestion": self.suggestion,
        }


def pct(x: float) -> str:
    return f"{x:.0%}"
