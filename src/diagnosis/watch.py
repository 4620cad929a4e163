"""Record one run's diagnosis signals while it trains: at init, after epochs, after divergence.

`diagnosis=on` builds a `Watch` per run, `diagnosis=off` a `NoWatch`. The stack (see
`src.observe`) probes all runs at once on one fixed batch and hands each watch its run's share:
`start` with the untrained state, `on_epoch` after epochs, `finish` at the end.
"""

from __future__ import annotations

import math
from typing import Any

from src.arrays import Array
from src.diagnosis import signals as sig
from src.diagnosis.evidence import Evidence, Facts
from src.diagnosis.rules import diagnose
from src.model.sequential import Sequential
from src.probe import Probe
from src.trainer import History, Loss

MAX_SNAPSHOTS = 40  # longer runs are probed every k-th epoch (and after the last one)


class NoWatch:
    """`diagnosis=off`: measures nothing, asks for no probe."""

    measures = False

    def __init__(self, facts: Facts) -> None:
        self.facts = facts

    def wants(self, done: int) -> bool:
        """Whether the state after `done` epochs is wanted."""
        return False

    def finish(self, history: History, metrics: dict[str, Any], **post_mortem: Any) -> dict:
        return {"diagnosis": [], "cause": None}


class Watch(NoWatch):
    """`diagnosis=on`: snapshots of one run; `finish` returns its diagnosis."""

    measures = True

    def __init__(self, facts: Facts) -> None:
        super().__init__(facts)
        self.every = max(1, math.ceil(facts.epochs / MAX_SNAPSHOTS))
        self.snapshots: list[sig.Snapshot] = []

    def start(self, state: Probe, model: Sequential, init: dict[str, Any]) -> None:
        """The untrained state; `init` holds inputs, fans, logit_rms and noise at init."""
        self.init = init
        self.snapshots = [sig.measure(state, model, 0, self.facts)]

    def wants(self, done: int) -> bool:
        return done % self.every == 0 or done == self.facts.epochs

    def on_epoch(self, done: int, state: Probe, model: Sequential) -> None:
        """After `done` epochs, when `wants(done)`."""
        self.snapshots.append(sig.measure(state, model, done, self.facts))

    def finish(
        self,
        history: History,
        metrics: dict[str, Any],
        model: Sequential | None = None,
        loss: Loss | None = None,
        probe_batch: tuple[Array, Array] | None = None,
    ) -> dict:
        """{'diagnosis': [...], 'cause': name or None, 'signals': {...}} for metrics.json;
        `model` is the one-run model as it diverged (None when it did not)."""
        evidence = Evidence(
            facts=self.facts,
            snapshots=self.snapshots,
            epoch_losses=list(history.epoch_losses),
            metrics=metrics,
            nonfinite_layer=None,
            nonfinite_params=[],
            **self.init,
        )
        if model is not None:
            evidence.nonfinite_layer = sig.first_nonfinite_layer(model, loss, *probe_batch)
            evidence.nonfinite_params = sig.nonfinite_parameters(model)
        findings = diagnose(evidence)
        return {
            "diagnosis": [f.as_dict() for f in findings],
            "cause": findings[0].cause if findings else None,
            "signals": evidence.summary(),
        }
