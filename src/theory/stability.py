"""What the sharpness says about a learning rate, in the words a diagnosis uses.

Gradient descent on a quadratic with top curvature λ is stable for lr < 2/λ (lr·λ/2 < 1); above
it the loss first spikes and, up to a few times 2/λ, can recover (the catapult phase of
Lewkowycz et al. 2020) before training fails outright.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Stability:
    """lr against the edge 2/λ measured at init."""

    lr: float
    sharpness: float  # λ, top Hessian eigenvalue at init at the run's batch size

    @property
    def edge(self) -> float:
        return 2.0 / self.sharpness

    @property
    def ratio(self) -> float:
        """lr·λ/2: below 1 the quadratic model of the loss is stable."""
        return self.lr * self.sharpness / 2.0

    def text(self) -> str:
        return (
            f"; lr·λ/2 = {self.ratio:.2g} (λ = {self.sharpness:.3g} at init: 2/λ = {self.edge:.2g})"
        )

    def evidence(self) -> dict[str, float]:
        return {"sharpness": self.sharpness, "lr_sharpness_half": self.ratio}


def stability(lr: float, metrics: dict[str, Any]) -> Stability | None:
    """The run's Stability, or None when its metrics hold no positive finite λ."""
    lam = metrics.get("sharpness_init")
    if not isinstance(lam, (int, float)) or not math.isfinite(lam) or lam <= 0:
        return None
    return Stability(lr, float(lam))
