"""Record the diagnosis signals while a run trains: at init, after epochs, after divergence.

`train` builds a `Watch` once the model exists, chains its `on_epoch` into `fit`, and asks it
for the diagnosis at the end. Every measurement is a probe pass on the first `PROBE_SIZE`
training samples, between training steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from omegaconf import DictConfig

from src.arrays import Array
from src.diagnosis import signals as sig
from src.diagnosis.evidence import Evidence, Facts, read_facts
from src.diagnosis.rules import diagnose
from src.model.sequential import Sequential
from src.probe import blas_controller, probe
from src.trainer import History, Loss

PROBE_SIZE = 128  # the first training samples; 256 cost 9-15% of a default run, 128 half
MAX_SNAPSHOTS = 40  # longer runs are probed every k-th epoch (and after the last one)

OnEpoch = Callable[[int, History], None]


class Watch:
    """Probes the model at init (here) and after epochs; `finish` returns the diagnosis."""

    def __init__(self, model: Sequential, loss: Loss, data: tuple[Array, ...], facts: Facts):
        self.model, self.loss, self.facts = model, loss, facts
        x_train, y_train = data[0], data[1]
        self.x, self.y = x_train[:PROBE_SIZE], y_train[:PROBE_SIZE]
        self.every = max(1, math.ceil(facts.epochs / MAX_SNAPSHOTS))
        self.inputs = sig.input_stats(x_train, self.x)
        self.fans = sig.fans(model)
        # Probe-sized matmuls can start BLAS threads (training's 32-row ones do not); on a busy
        # machine those threads made a 256-row probe 3x slower, so the watch keeps to one.
        self.blas = blas_controller()
        with self.blas.limit(limits=1):
            self.snapshots = [self._snapshot(0)]
            self.logit_rms = sig.logit_rms(model, self.x)
            # Adam divides by the gradient's own scale: batch noise does not enlarge its steps.
            adam = facts.normalizes_gradient
            batch = facts.batch_size
            self.noise = 1.0 if adam else sig.noise_factor(model, loss, self.x, self.y, batch)

    @classmethod
    def start(
        cls, cfg: DictConfig, model: Sequential, loss: Loss, data: tuple[Array, ...], batch: int
    ) -> Watch:
        """Probe the untrained `model`; `batch` is the batch size trained with (after clamping)."""
        n_classes = _output_width(model, data[0][:1])
        return cls(model, loss, data, read_facts(cfg, batch, len(data[1]), n_classes))

    def _snapshot(self, epoch: int) -> sig.Snapshot:
        state = probe(self.model, self.loss, self.x, self.y, self.facts.lr)
        return sig.measure(state, self.model, epoch, self.facts)

    def on_epoch(self, epoch: int, history: History) -> None:
        done = epoch + 1
        if done % self.every == 0 or done == self.facts.epochs:
            with self.blas.limit(limits=1):
                self.snapshots.append(self._snapshot(done))

    def chain(self, on_epoch: OnEpoch) -> OnEpoch:
        """`on_epoch` followed by this watch's own, for `fit`."""

        def both(epoch: int, history: History) -> None:
            on_epoch(epoch, history)
            self.on_epoch(epoch, history)

        return both

    def finish(self, history: History, metrics: dict[str, Any]) -> dict[str, Any]:
        """{'diagnosis': [...], 'cause': name or None, 'signals': {...}} for metrics.json."""
        evidence = Evidence(
            facts=self.facts,
            inputs=self.inputs,
            snapshots=self.snapshots,
            noise=self.noise,
            fans=self.fans,
            logit_rms=self.logit_rms,
            epoch_losses=list(history.epoch_losses),
            metrics=metrics,
            nonfinite_layer=None,
            nonfinite_params=[],
        )
        if history.first_nonfinite_step is not None:
            evidence.nonfinite_layer = sig.first_nonfinite_layer(
                self.model, self.loss, self.x, self.y
            )
            evidence.nonfinite_params = sig.nonfinite_parameters(self.model)
        findings = diagnose(evidence)
        return {
            "diagnosis": [f.as_dict() for f in findings],
            "cause": findings[0].cause if findings else None,
            "signals": evidence.summary(),
        }


def _output_width(model: Sequential, x: Array) -> int:
    """Number of classes the model predicts (its output width), from one sample."""
    return int(model.forward(x).shape[1])
