"""Measure a model's state on a fixed batch: what the logs show and what diagnoses read.

`probe` runs one forward and one backward pass on the batch and updates nothing. The backward
pass overwrites the model's gradient buffers, which is safe between training steps: the next
step's backward overwrites them again before the optimizer reads them (optimizers keep their
own state, e.g. momentum, elsewhere). Non-finite values never raise; they show up as nan/inf.

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
    """A model's state on the probe batch; arrays are copies, safe to keep across steps."""

    loss: float  # mean loss on the batch
    accuracy: float  # share of the batch whose arg-max output is the label
    preactivations: dict[str, Array]  # '2.ReLU' -> (N, ...) input of that activation layer
    weights: dict[str, Array]  # '1.Dense:W' -> the parameter
    grads: dict[str, Array]  # '1.Dense:W' -> d loss / d parameter on the batch
    grad_norms: dict[str, float]  # ||g||_2
    weight_norms: dict[str, float]  # ||w||_2
    update_ratios: dict[str, float]  # lr * ||g|| / ||w||: relative size of a plain SGD step


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


def probe(model: Sequential, loss: Loss, x: Array, y: Array, lr: float) -> Probe:
    """Forward + backward on (x (N, ...), y (N,)) without an update; `lr` scales the ratios."""
    with np.errstate(all="ignore"):
        preactivations = {}
        out = x
        for i, layer in enumerate(model.layers):
            if is_activation(layer):
                # A copy: a layer may reuse or overwrite its input in a later pass.
                preactivations[f"{i}.{type(layer).__name__}"] = out.copy()
            out = layer.forward(out)  # (N, ...) -> next layer's input
        value = loss.forward(out, y)
        accuracy = float(np.mean(out.argmax(axis=1) == y))  # out: (N, K)
        model.backward(loss.backward())
        named = model.named_parameters()
        weights = {name: w.copy() for name, w in named.items()}
        # parameters() and named_parameters() walk the layers in the same order.
        grads = {name: g.copy() for name, (_, g) in zip(named, model.parameters())}
        grad_norms = {name: norm(g) for name, g in grads.items()}
        weight_norms = {name: norm(w) for name, w in weights.items()}
        ratios = {name: ratio(lr * grad_norms[name], weight_norms[name]) for name in named}
    return Probe(value, accuracy, preactivations, weights, grads, grad_norms, weight_norms,
                 ratios)  # fmt: skip


def norm(a: Array) -> float:
    """Euclidean norm in float64, so large float32 entries do not overflow; nan/inf propagate."""
    flat = a.reshape(-1).astype(np.float64, copy=False)
    with np.errstate(all="ignore"):
        # einsum's own loop, not BLAS: a threaded BLAS dot waits for a busy second core.
        return float(np.sqrt(np.einsum("i,i->", flat, flat)))


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, with inf or nan (not ZeroDivisionError) for a zero denominator."""
    with np.errstate(all="ignore"):
        return float(np.float64(numerator) / np.float64(denominator))
