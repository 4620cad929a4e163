"""Measure a stack of models on one fixed batch: what the logs show and what diagnoses read.

`probe` runs one forward and one backward pass of all K runs on the same batch and updates
nothing. The backward pass overwrites the model's gradient buffers and cached activations.
That is safe between training steps (see the contract in `src.layers.base`): optimizers use
the grads as scratch, so between steps they hold the last update, which nothing reads; the
next step's forward and backward overwrite caches and grads before the optimizer reads them,
and optimizer state (momentum, Adam moments) lives in the optimizer. Non-finite values never
raise; they show up as nan/inf.

Names: parameters use `Sequential.named_parameters()` keys ('1.Dense:W'); pre-activations use
'index.Kind' of the activation layer whose input they are ('2.ReLU' is the input of layer 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from threadpoolctl import ThreadpoolController

from src import activation
from src.arrays import Array
from src.layers.base import Layer
from src.model.sequential import Sequential
from src.trainer import Loss


@dataclass(frozen=True)
class Probe:
    """The state on the probe batch. From `probe`: every value has the run axis first (numbers
    (K,), arrays (K, ...)); `run(i)` gives run i's alone (floats, arrays without K). Arrays are
    copies, safe to keep across steps."""

    loss: Array  # mean loss on the batch
    accuracy: Array  # share of the batch whose arg-max output is the label
    preactivations: dict[str, Array]  # '2.ReLU' -> (K, N, ...) input of that activation layer
    weights: dict[str, Array]  # '1.Dense:W' -> the parameter
    grads: dict[str, Array]  # '1.Dense:W' -> d loss / d parameter on the batch
    grad_norms: dict[str, Array]  # ||g||_2
    weight_norms: dict[str, Array]  # ||w||_2
    update_ratios: dict[str, Array]  # lr * ||g|| / ||w||: relative size of a plain SGD step

    def run(self, i: int) -> Probe:
        """Run i's values: floats for numbers, its slice for arrays."""
        return Probe(
            float(self.loss[i]),
            float(self.accuracy[i]),
            *(
                {k: v[i] for k, v in d.items()}
                for d in (self.preactivations, self.weights, self.grads)
            ),  # fmt: skip
            *(
                {k: float(v[i]) for k, v in d.items()}
                for d in (self.grad_norms, self.weight_norms, self.update_ratios)
            ),  # fmt: skip
        )


@cache
def blas_controller() -> ThreadpoolController:
    """One per process (building it scans the loaded libraries, ~1-2 ms); probes run with it
    limited to one BLAS thread: probe-sized matmuls gain little from a second one, and on a busy
    machine each call waits for it."""
    return ThreadpoolController()


def is_activation(layer: Layer) -> bool:
    """A nonlinearity from src/activation.py (Identity does nothing, so it is not one)."""
    return type(layer).__module__ == activation.__name__ and not isinstance(
        layer, activation.Identity
    )


def probe(model: Sequential, loss: Loss, x: Array, y: Array, lr: Array) -> Probe:
    """Forward + backward of every run on (x (N, ...), y (N,)) without an update; `lr` (K,)
    or a number scales the ratios."""
    with np.errstate(all="ignore"):
        preactivations = {}
        out = x[None]  # (1, N, ...): one batch shared by the K runs
        for i, layer in enumerate(model.layers):
            if is_activation(layer):
                # A copy: a layer may reuse or overwrite its input in a later pass.
                preactivations[f"{i}.{type(layer).__name__}"] = out.copy()
            out = layer.forward(out)  # (K, N, ...) -> next layer's input
        labels = np.broadcast_to(y, out.shape[:2])  # (K, N)
        value = loss.forward(out, labels)
        accuracy = np.mean(out.argmax(axis=2) == labels, axis=1)  # out: (K, N, C)
        model.backward(loss.backward())
        named = model.named_parameters()
        weights = {name: w.copy() for name, w in named.items()}
        # parameters() and named_parameters() walk the layers in the same order.
        grads = {name: g.copy() for name, (_, g) in zip(named, model.parameters())}
        grad_norms = {name: norm(g) for name, g in grads.items()}
        weight_norms = {name: norm(w) for name, w in weights.items()}
        lr = np.asarray(lr, np.float64)
        ratios = {name: ratio(lr * grad_norms[name], weight_norms[name]) for name in named}
    return Probe(value, accuracy, preactivations, weights, grads, grad_norms, weight_norms,
                 ratios)  # fmt: skip


def norm(a: Array) -> Array:
    """Euclidean norm of each run's slice (K,), in float64 so large float32 entries do not
    overflow; nan/inf propagate. Summed along the contiguous last axis: per run, bit for bit."""
    flat = a.reshape(len(a), -1).astype(np.float64)
    with np.errstate(all="ignore"):
        flat *= flat
        return np.sqrt(np.add.reduce(flat, axis=1))


def ratio(numerator: Array | float, denominator: Array | float) -> Array:
    """numerator / denominator in float64, inf or nan (no ZeroDivisionError) for a zero."""
    with np.errstate(all="ignore"):
        return np.float64(numerator) / np.float64(denominator)
