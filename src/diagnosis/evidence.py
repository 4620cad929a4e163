"""Everything the rules read about one run, and the quantities derived from it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from src.diagnosis.facts import Facts
from src.diagnosis.signals import Snapshot

SCALE_KEEPING = ("ReLU", "LeakyReLU", "Tanh")  # pass a small signal on at its own scale


@dataclass
class Evidence:
    """The measured run; `snapshots[0]` is the untrained net, the last one the final state."""

    facts: Facts
    inputs: dict[str, Any]  # max_abs, integer_valued, std (see signals.input_stats)
    snapshots: list[Snapshot]
    noise: float  # step at the run's batch size / step at the probe batch, at init
    fans: list[tuple[int, int]]  # (fan_in, fan_out) per weight matrix, first to last
    logit_rms: float  # RMS of the logits (pre-output-activation) on the probe batch at init
    epoch_losses: list[float]
    metrics: dict[str, Any]  # outcome, test_accuracy, chance, predicted_class_share, ...
    nonfinite_layer: str | None = None  # first layer (or the loss) that is not finite
    nonfinite_params: list[str] = field(default_factory=list)

    @property
    def init(self) -> Snapshot:
        return self.snapshots[0]

    @property
    def last(self) -> Snapshot:
        return self.snapshots[-1]

    @property
    def outcome(self) -> str:
        return str(self.metrics.get("outcome"))

    @property
    def diverged(self) -> bool:
        return self.metrics.get("first_nonfinite_step") is not None

    @property
    def ratio(self) -> float:
        """Largest per-layer step / weight ratio at init, on the probe batch (mean gradient)."""
        value = self.init.max_update_ratio
        return 0.0 if math.isnan(value) else value

    @property
    def step(self) -> float:
        """`ratio` at the run's own batch size: what one update really does to the weights."""
        return self.ratio * (1.0 if math.isnan(self.noise) else max(self.noise, 1.0))

    @property
    def movement(self) -> float:
        """steps x ratio: how far the weights can travel in the whole run, relative to their
        size; on this project's digits grid every run below ~2 fails to converge."""
        return self.metrics.get("steps", 0) * self.ratio

    @property
    def depth(self) -> int:
        return len(self.fans)

    @property
    def growth(self) -> float:
        """Geometric mean factor of the pre-activation RMS from one hidden layer to the next
        at init, for ReLU and tanh nets (tanh is ~linear near 0; a sigmoid's 0.5 offset
        resets the scale every layer); nan below 2 hidden layers."""
        values = list(self.init.preact_rms.values())
        hidden = [v for k, v in self.init.preact_rms.items() if k.endswith(SCALE_KEEPING)]
        if len(hidden) < 2 or len(hidden) != len(values) or min(hidden) <= 0:
            return math.nan
        return float((hidden[-1] / hidden[0]) ** (1 / (len(hidden) - 1)))

    @property
    def baseline_loss(self) -> float:
        """Loss of the best constant output: ln K for cross-entropy; for MSE with off/on
        targets a, b: 0.5 * (K-1)/K * (b-a)^2 (predicting the class prior everywhere)."""
        k = self.facts.n_classes
        if self.facts.loss != "MSE":
            return math.log(k)
        gap = 2.0 if self.facts.targets == "pm1" else 1.0
        return 0.5 * (k - 1) / k * gap**2

    @property
    def losses(self) -> list[float]:
        """Loss at init (probe batch) followed by the mean training loss of every epoch."""
        return [self.init.loss, *self.epoch_losses]

    def rose(self, by: float = 0.02) -> bool:
        """Whether the training loss went up by more than `by` (relative) at some epoch."""
        steps = np.diff(self.epoch_losses) / np.maximum(np.abs(self.epoch_losses[:-1]), 1e-12)
        return bool(np.any(steps > by))

    def trajectory(self) -> str:
        """'diverged', 'rising', 'oscillating', 'flat' or 'falling' (see docs/diagnosis.md)."""
        if self.diverged or not all(map(math.isfinite, self.losses)):
            return "diverged"
        first, last = self.losses[0], self.losses[-1]
        change = (last - first) / max(abs(first), 1e-12)
        steps = np.diff(self.epoch_losses) / np.maximum(np.abs(self.epoch_losses[:-1]), 1e-12)
        ups = float(np.mean(steps > 0.02)) if len(steps) >= 3 else 0.0
        if change > 0.1:
            return "rising"
        if ups >= 0.3:
            return "oscillating"
        return "flat" if abs(change) < 0.02 else "falling"

    def summary(self) -> dict[str, Any]:
        """The measurements for metrics.json (non-finite numbers become strings)."""
        series = [
            {"epoch": s.epoch, "loss": s.loss, "dead_relu": s.dead_relu,
             "saturated": s.saturated, "max_update_ratio": s.max_update_ratio,
             "first_last_grad_ratio": s.first_last_grad_ratio}
            for s in self.snapshots
        ]  # fmt: skip
        return plain(
            {
                "inputs": self.inputs,
                "noise_factor": self.noise,
                "step_ratio": self.step,
                "movement": self.movement,
                "growth": self.growth,
                "baseline_loss": self.baseline_loss,
                "logit_rms": self.logit_rms,
                "trajectory": self.trajectory(),
                "init": self.init.as_dict(),
                "last": self.last.as_dict(),
                "epochs": series,
                "nonfinite_layer": self.nonfinite_layer,
                "nonfinite_params": self.nonfinite_params,
            }
        )


def plain(value: Any) -> Any:
    """JSON-safe copy: floats rounded to 4 significant digits, nan/inf as strings."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float):
        return float(f"{value:.4g}") if math.isfinite(value) else str(value)
    return value
