"""The one place that knows the model's API: a float64 net seen as a flat parameter vector.

Everything else in `src.theory` (power iteration, Hessian-vector products, noise scale) only
calls `FlatNet.set`, `FlatNet.get`, `FlatNet.loss_grad` and, for a stack of runs,
`FlatNet.grads`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from omegaconf import DictConfig

from src.arrays import Array

FLOAT64 = np.dtype("float64")


class FlatNet:
    """A model and its loss, read and written as one flat float64 vector of parameters per run
    (`get`, `set` and `loss_grad`: one run; `grads`: every run of a stack)."""

    def __init__(self, model: Any, loss: Any) -> None:
        self.model, self.loss = model, loss
        self.pairs = model.parameters()  # [(param, grad)], live arrays (K, ...)
        self.runs = model.runs
        self.size = sum(p.size for p, _ in self.pairs) // self.runs  # parameters of one run

    def get(self) -> Array:
        """Every parameter, flattened and concatenated (size,)."""
        return flat_params(self.model)

    def set(self, theta: Array) -> None:
        """Write `theta` (size,) into the parameters, in `get`'s order."""
        start = 0
        for p, _ in self.pairs:
            p[...] = theta[start : start + p.size].reshape(p.shape)
            start += p.size

    def loss_grad(self, x: Array, y: Array) -> tuple[float, Array]:
        """Mean loss on the batch (x, y) and its gradient (size,) at the current parameters of
        a one-run net."""
        values, grads = self.grads(x, y)
        return float(values[0]), grads[0]

    def grads(self, x: Array, y: Array) -> tuple[Array, Array]:
        """Each run's mean loss (K,) and gradient (K, size) on the batch (x, y), shared by all
        runs; a run's row is its parameters' gradients raveled and concatenated in `get`'s
        order. `x` is cast to float64 here, batch by batch, so no float64 copy of a data set
        is kept."""
        out = self.model.forward(x.astype(FLOAT64, copy=False)[None])  # (K, N, C)
        values = self.loss.forward(out, np.broadcast_to(y, (self.runs, len(y))))  # (K,)
        self.model.backward(self.loss.backward())
        flat = [g.reshape(self.runs, -1) for _, g in self.pairs]  # (K, size of each)
        return values, np.concatenate(flat, axis=1)


def float64_net(cfg: DictConfig, data: Any, seed: int) -> FlatNet:
    """The run's network in float64 with the weights `train` initialises it with for `seed`."""
    from src.train import build  # deferred: src.train calls into this package

    init_rng, _ = np.random.default_rng(seed).spawn(2)  # as train() spawns them
    model, loss, _ = build([cfg], data, FLOAT64, [init_rng])  # a stack of one run
    return FlatNet(model, loss)


def float64_stack(cfg: DictConfig, data: Any, model: Any) -> FlatNet:
    """A float64 net holding the weights of `model`, a trained stack of runs of `cfg`'s network
    (any run's config), cast to float64."""
    from src.train import build  # deferred: src.train calls into this package

    one, loss, _ = build([cfg], data, FLOAT64, [np.random.default_rng(0)])  # weights overwritten
    net = FlatNet(one.take(np.zeros(model.runs, dtype=np.intp)), loss)  # K copies: one build
    for (p, _), (trained, _) in zip(net.pairs, model.parameters(), strict=True):
        p[...] = trained
    return net


def flat_params(model: Any) -> Array:
    """A trained one-run model's parameters as one float64 vector, in `FlatNet.get`'s order."""
    return np.concatenate([p.ravel() for p, _ in model.parameters()]).astype(FLOAT64)
