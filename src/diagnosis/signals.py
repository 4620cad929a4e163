"""Cheap, vectorized measurements of a model on the probe batch, as plain JSON-able numbers.

The measure stage of the diagnosis. A `Snapshot` condenses one run's share of a
`src.probe.probe` pass (`Probe.run(i)`; forward + backward, no update): loss, per-layer gradient
norms and update ratios, dead ReLU and saturated sigmoid/tanh shares, pre-activation scales and
all-positive weight matrices. Names follow `src.probe`: '1.Dense:W' for parameters, '2.ReLU' for
the input of activation layer 2; what a layer does is read from its class attributes
(`src.activation.Activation`), not its name.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from src.activation import Activation
from src.arrays import Array
from src.model.sequential import Sequential
from src.probe import Probe, is_activation, norm, probe, ratio
from src.trainer import Loss

if TYPE_CHECKING:  # evidence.py reads Snapshot from here
    from src.diagnosis.evidence import Facts

Inputs = list[tuple[Activation, Array]]  # activation layers with their probed inputs (N, ...)
NOISE_BATCHES = 4  # sub-batches of the run's batch size, for the gradient noise at that size


@dataclass(frozen=True)
class Snapshot:
    """One probe pass; `epoch` 0 is the untrained net, k the state after epoch k."""

    epoch: int
    loss: float
    accuracy: float
    grad_norms: dict[str, float]  # weight matrices only ('1.Dense:W'), first to last
    update_ratios: dict[str, float]  # lr * step_scale * ||g|| / ||w|| at the probe batch
    preact_rms: dict[str, float]  # hidden '2.ReLU' -> RMS of its input (the output: logit_rms)
    dead_relu: float | None  # share of hidden ReLU units (a Dense unit, a conv filter) never > 0
    saturated: float | None  # share of hidden sigmoid/tanh inputs past the knee
    output_saturated: float | None  # the same for a sigmoid/tanh output layer
    positive_weights: list[str]  # weight matrices with every entry >= 0

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def first_last_grad_ratio(self) -> float:
        """||g|| of the first weight matrix / ||g|| of the last (nan for a single layer)."""
        norms = list(self.grad_norms.values())
        if len(norms) < 2:
            return math.nan
        with np.errstate(all="ignore"):
            return float(np.float64(norms[0]) / np.float64(norms[-1]))

    @property
    def max_update_ratio(self) -> float:
        values = [v for v in self.update_ratios.values() if not math.isnan(v)]
        return max(values, default=math.nan)


def measure(state: Probe, model: Sequential, epoch: int, facts: Facts) -> Snapshot:
    """Condense one run's probe values (`Probe.run(i)`, taken with lr = facts.lr)."""
    weights = [name for name in state.weights if name.endswith(":W")]
    layers = [layer for layer in model.layers if is_activation(layer)]  # as `probe` records them
    named = {k: (layer, z) for (k, z), layer in zip(state.preactivations.items(), layers)}
    output = model.layers[-1]  # an activation only when the loss takes no logits
    hidden = {k: pair for k, pair in named.items() if pair[0] is not output}
    outs = [pair for pair in named.values() if pair[0] is output]
    return Snapshot(
        epoch=epoch,
        loss=float(state.loss),
        accuracy=state.accuracy,
        grad_norms={name: state.grad_norms[name] for name in weights},
        update_ratios={name: step_ratio(state, name, facts) for name in weights},
        preact_rms={k: rms(z) for k, (_, z) in hidden.items()},
        dead_relu=dead_share(list(hidden.values())),
        saturated=saturated_share(list(hidden.values())),
        output_saturated=saturated_share(outs),
        positive_weights=[n for n in weights if state.weights[n].min(initial=np.inf) >= 0],
    )


def step_ratio(state: Probe, name: str, facts: Facts) -> float:
    """||step|| / ||w|| of one update: lr*||g|| for SGD, lr/(1-mu)*||g|| for momentum at its
    steady state, lr*sqrt(size) for Adam (whose first steps move every weight by ~lr)."""
    if facts.normalizes_gradient:
        w = state.weights[name]
        return ratio(facts.lr * math.sqrt(w.size), state.weight_norms[name])
    return state.update_ratios[name] * facts.step_scale


def rms(z: Array) -> float:
    """Root mean square of one run's array."""
    return float(norm(z[None])[0]) / math.sqrt(max(z.size, 1))


def dead_share(inputs: Inputs) -> float | None:
    """Share of units that can die (ReLU) never active on the batch; a unit is the last axis
    (Dense unit or conv filter, over every position), pooled over those layers."""
    dead = total = 0
    for layer, z in inputs:
        if not layer.can_die:
            continue
        alive = (z > 0).reshape(-1, z.shape[-1]).any(axis=0)  # (units,)
        dead += int(alive.size - np.count_nonzero(alive))
        total += alive.size
    return dead / total if total else None


def saturated_share(inputs: Inputs) -> float | None:
    """Share of inputs to saturating layers (sigmoid, tanh) whose derivative is below 1e-2
    (|z| past the layer's knee)."""
    hits = total = 0
    for layer, z in inputs:
        knee = layer.saturation_knee
        if knee is None:
            continue
        with np.errstate(invalid="ignore"):
            hits += int(np.count_nonzero(np.abs(z) >= knee))  # nan counts as not saturated
        total += z.size
    return hits / total if total else None


def noise_factor(model: Sequential, loss: Loss, x: Array, y: Array, batch: int) -> Array:
    """Per run (K,): median over sub-batches of size `batch` of ||g_batch|| / ||g_probe||
    (largest layer step): how much larger a step at the run's batch size is than at the probe
    batch; nan for a run with no gradient at all (every ReLU dead)."""
    if batch >= len(y):
        return np.ones(model.runs)
    full = _weight_grad_norms(probe(model, loss, x, y, 1.0))  # (layers, K)
    live = full > 0  # a layer with no gradient has no noise to scale
    factors = []
    with np.errstate(all="ignore"):
        for i in range(min(NOISE_BATCHES, len(y) // batch)):
            part = slice(i * batch, (i + 1) * batch)
            small = _weight_grad_norms(probe(model, loss, x[part], y[part], 1.0))
            factors.append(np.where(live, small / full, -np.inf).max(axis=0))  # (K,)
    median = np.median(np.array(factors), axis=0)
    return np.where(live.any(axis=0), median, np.nan)


def _weight_grad_norms(state: Probe) -> Array:
    return np.array([v for k, v in state.grad_norms.items() if k.endswith(":W")])


def logit_rms(model: Sequential, x: Array) -> Array:
    """Per run (K,): RMS of the last layer's pre-activation output on `x` (the logits, before a
    sigmoid, tanh or softmax output layer): the output scale the init produced."""
    layers = model.layers[:-1] if is_activation(model.layers[-1]) else model.layers
    out = x[None]
    with np.errstate(all="ignore"):
        for layer in layers:
            out = layer.forward(out)
    return norm(out) / math.sqrt(max(out[0].size, 1))


def fans(model: Sequential) -> list[tuple[int, int]]:
    """(fan_in, fan_out) of every weight matrix, as the initializers compute them."""
    out = []
    for name, w in model.named_parameters().items():
        if name.endswith(":W"):
            shape = w.shape[1:]  # one run's
            receptive = math.prod(shape[:-2])  # kh*kw for a conv kernel, 1 for Dense
            out.append((math.prod(shape[:-1]), receptive * shape[-1]))
    return out


def input_stats(x_train: Array, x_probe: Array) -> dict[str, float | bool]:
    """Scale of the training inputs: max |x|, whether the probe batch is integer pixels."""
    max_abs = float(max(x_train.max(initial=0.0), -x_train.min(initial=0.0)))
    integers = bool(max_abs > 1 and np.array_equal(x_probe, np.round(x_probe)))
    return {"max_abs": max_abs, "integer_valued": integers, "std": float(x_probe.std())}


def first_nonfinite_layer(model: Sequential, loss: Loss, x: Array, y: Array) -> str | None:
    """'3.Dense': the first layer whose output on `x` is not all finite, for a one-run model;
    'loss' when only the loss overflows (e.g. squared errors beyond the float32 range); None
    when all is finite."""
    out = x[None]
    with np.errstate(all="ignore"):
        for i, layer in enumerate(model.layers):
            out = layer.forward(out)
            if not np.isfinite(out).all():
                return f"{i}.{type(layer).__name__}"
        return None if np.isfinite(loss.forward(out, y[None])).all() else "loss"


def nonfinite_parameters(model: Sequential) -> list[str]:
    """Parameters holding a nan or inf ('1.Dense:W'), first to last."""
    return [n for n, w in model.named_parameters().items() if not np.isfinite(w).all()]
