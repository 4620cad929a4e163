"""The one place that knows the model's API: a float64 net seen as a flat parameter vector.

Everything else in `src.theory` (power iteration, Hessian-vector products, noise scale) only
calls `FlatNet.set`, `FlatNet.get`, `FlatNet.loss_grad` and, for a stack of runs,
`FlatNet.squared_grad_norms`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from omegaconf import DictConfig

from src.arrays import Array
from src.build import build

FLOAT64 = np.dtype("float64")


class FlatNet:
    """A model and its loss, read and written as one flat float64 vector of parameters per run
    (`get`, `set` and `loss_grad`: a one-run net; `squared_grad_norms`: every run of a stack)."""

    def __init__(self, model: Any, loss: Any) -> None:
        self.model, self.loss = model, loss
        self.pairs = model.parameters()  # [(param, grad)], live arrays (K, ...)
        self.runs = model.runs
        self.size = sum(p.size for p, _ in self.pairs) // self.runs  # parameters of one run
        self.squares = np.empty((self.runs, self.size), dtype=FLOAT64)  # squared_grad_norms'

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
        """Mean loss on the batch (x, y) and its gradient (size,) at the current parameters."""
        value = self._backprop(x, y)[0]
        return float(value), np.concatenate([g.ravel() for _, g in self.pairs])

    def squared_grad_norms(self, x: Array, y: Array) -> Array:
        """|g|² of each run's gradient (K,) on the batch (x, y), shared by all runs: the squares
        laid out in `get`'s order and summed along each run's row as `np.sum` sums one vector,
        so a run's value is bit for bit that of its one-run net, whatever the stack."""
        self._backprop(x, y)
        start = 0
        for _, g in self.pairs:
            flat = g.reshape(self.runs, -1)  # (K, size of this parameter)
            np.multiply(flat, flat, out=self.squares[:, start : start + flat.shape[1]])
            start += flat.shape[1]
        return np.add.reduce(self.squares, axis=1)  # (K,)

    def _backprop(self, x: Array, y: Array) -> Array:
        """Each run's mean loss (K,) on (x, y), its gradients left in `pairs`; `x` is cast to
        float64 here, batch by batch, so no float64 copy of a data set is kept."""
        out = self.model.forward(x.astype(FLOAT64, copy=False)[None])  # (K, N, C)
        values = self.loss.forward(out, np.broadcast_to(y, (self.runs, len(y))))  # (K,)
        self.model.backward(self.loss.backward())
        return values


def float64_net(cfg: DictConfig, data: Any, seed: int) -> FlatNet:
    """The run's network in float64 with the weights `train` initialises it with for `seed`."""
    init_rng, _ = np.random.default_rng(seed).spawn(2)  # as train() spawns them
    model, loss, _ = build([cfg], data, FLOAT64, [init_rng])  # a stack of one run
    return FlatNet(model, loss)


def float64_stack(cfg: DictConfig, data: Any, model: Any) -> FlatNet:
    """A float64 net holding the weights of `model`, a trained stack of runs of `cfg`'s network
    (any run's config), cast to float64."""
    one, loss, _ = build([cfg], data, FLOAT64, [np.random.default_rng(0)])  # weights overwritten
    net = FlatNet(one.take(np.zeros(model.runs, dtype=np.intp)), loss)  # K copies: one build
    for (p, _), (trained, _) in zip(net.pairs, model.parameters(), strict=True):
        p[...] = trained
    return net


def flat_params(model: Any) -> Array:
    """A trained one-run model's parameters as one float64 vector, in `FlatNet.get`'s order."""
    return np.concatenate([p.ravel() for p, _ in model.parameters()]).astype(FLOAT64)
