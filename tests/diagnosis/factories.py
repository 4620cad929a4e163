"""Hand-made evidence for rule tests: a healthy default run, changed one field at a time."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from src.diagnosis.evidence import Evidence, Facts
from src.diagnosis.signals import Snapshot

FACTS = Facts(
    lr=0.1, batch_size=32, n_train=1438, n_classes=10, epochs=20, normalize="unit",
    step_scale=1.0, normalizes_gradient=False, activation="ReLU", rectifier=True,
    keeps_scale=True, saturates=False, takes_logits=True, baseline_loss=math.log(10),
    targets="class", output_activation="",
    inits={"init": {"_target_": "src.init.he_normal"}},
    loss_node={"_target_": "src.loss.CrossEntropy"},
)  # fmt: skip
SIGMOID = {"activation": "Sigmoid", "rectifier": False, "keeps_scale": False, "saturates": True,
           "gain": 0.25}  # fmt: skip
MSE = {"takes_logits": False, "baseline_loss": 0.45}  # one-hot targets, 10 classes


def snapshot(epoch: int = 0, **changes: Any) -> Snapshot:
    """The default digits net's probe numbers (as measured), with `changes` applied."""
    base = Snapshot(
        epoch=epoch, loss=2.56, accuracy=0.07,
        grad_norms={"1.Dense:W": 0.83, "3.Dense:W": 1.18},
        update_ratios={"1.Dense:W": 0.0059, "3.Dense:W": 0.026},
        preact_rms={"2.ReLU": 0.70}, dead_relu=0.03, saturated=None, output_saturated=None,
        positive_weights=[],
    )  # fmt: skip
    return replace(base, **changes)


def evidence(
    outcome: str = "stalled", init: dict | None = None, last: dict | None = None, **changes: Any
) -> Evidence:
    """Evidence of a 20-epoch run; `init`/`last` change the first/last snapshot, `facts` (a
    dict) changes the config facts, anything else an Evidence field."""
    facts = replace(FACTS, **changes.pop("facts", {}))
    metrics = {"outcome": outcome, "steps": 900, "first_nonfinite_step": None,
               "predicted_class_share": 0.12, **changes.pop("metrics", {})}  # fmt: skip
    fields = dict(
        facts=facts, inputs={"max_abs": 1.0, "integer_valued": False, "std": 0.37},
        snapshots=[snapshot(0, **(init or {})), snapshot(20, **(last or {}))], noise=1.25,
        fans=[(64, 100), (100, 10)], logit_rms=0.78,
        epoch_losses=[2.0 - 0.09 * i for i in range(20)], metrics=metrics,
    )  # fmt: skip
    fields.update(changes)
    return Evidence(**fields)
