"""Look up one cause among everything diagnosed, by name: tests never say where a rule lives.

The default evidence (tests/diagnosis/factories.py) is a healthy digits run: probe step ratio
0.026, noise factor 1.25, 900 steps, two weight layers, loss falling 2.56 -> 0.29.
"""

from __future__ import annotations

from src.diagnosis.rules import diagnose
from tests.diagnosis.factories import evidence

HURT = {"dead_relu": 1.0}
RAW = {"max_abs": 255.0, "integer_valued": True, "std": 90.0}
RISING = [2.0 + 0.5 * i for i in range(20)]
POS = {"init": {"_target_": "src.init.uniform", "low": 0.0, "high": 0.1}}
NORMAL = {"init": {"_target_": "src.init.normal", "std": 1.0}}
MSE = {"_target_": "src.loss.MSE", "targets": "onehot"}
TANH = {"activation": "Tanh", "rectifier": False, "keeps_scale": True, "saturates": True}
ADAM = {"normalizes_gradient": True}


def finding(e, cause):
    """The finding for `cause` among everything diagnosed, or None."""
    return next((f for f in diagnose(e) if f.cause == cause), None)


def speaks(cause, **kwargs) -> bool:
    return finding(evidence(**kwargs), cause) is not None


def step(ratio: float) -> dict:
    """Evidence fields giving probe step ratio `ratio` and noise factor 1 (step = ratio)."""
    return {"init": {"update_ratios": {"a:W": ratio}}, "noise": 1.0}


def mse(output: str = "identity", targets: str = "onehot") -> dict:
    """Facts of an MSE loss on 10 classes after output activation `output`."""
    gap = 2.0 if targets == "pm1" else 1.0
    return {"takes_logits": False, "baseline_loss": 0.45 * gap**2, "targets": targets,
            "output_activation": output, "loss_node": {**MSE, "targets": targets}}  # fmt: skip
