"""The one place that knows the model's API: a float64 net seen as a flat parameter vector.

Everything else in `src.theory` (power iteration, Hessian-vector products, noise scale) only
calls `FlatNet.set`, `FlatNet.get` and `FlatNet.loss_grad`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from omegaconf import DictConfig

from src.arrays import Array

FLOAT64 = np.dtype("float64")


class FlatNet:
    """A model and its loss, read and written as one flat float64 vector of parameters."""

    def __init__(self, model: Any, loss: Any) -> None:
        self.model, self.loss = model, loss
        self.pairs = model.parameters()  # [(param, grad)], live arrays
        self.size = sum(p.size for p, _ in self.pairs)

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
        """Mean loss on the batch (x, y) and its gradient (size,) at the current parameters;
        `x` is cast to float64 here, batch by batch, so no float64 copy of a data set is kept."""
        out = self.model.forward(x.astype(FLOAT64, copy=False)[None])  # one run: (1, N, C)
        value = self.loss.forward(out, y[None])[0]
        self.model.backward(self.loss.backward())
        return float(value), np.concatenate([g.ravel() for _, g in self.pairs])


def float64_net(cfg: DictConfig, data: Any, seed: int) -> FlatNet:
    """The run's network in float64 with the weights `train` initialises it with for `seed`."""
    from src.train import build  # deferred: src.train calls into this package

    init_rng, _ = np.random.default_rng(seed).spawn(2)  # as train() spawns them
    model, loss, _ = build([cfg], data, FLOAT64, [init_rng])  # a stack of one run
    return FlatNet(model, loss)


def flat_params(model: Any) -> Array:
    """A trained one-run model's parameters as one float64 vector, in `FlatNet.get`'s order."""
    return np.concatenate([p.ravel() for p, _ in model.parameters()]).astype(FLOAT64)
