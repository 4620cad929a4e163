"""The one place that knows the model's API: a float64 net seen as flat parameter vectors.

Everything else in `src.theory` (power iteration, Hessian-vector products, noise scale) only
calls `FlatNet.get`, `FlatNet.set`, `FlatNet.loss_grads` and `FlatNet.squared_grad_norms`,
which hold one row per run of a stack (a net of one run has one row).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from omegaconf import DictConfig

from src.arrays import Array
from src.build import build

FLOAT64 = np.dtype("float64")


class FlatNet:
    """A stack of K runs of a model with its loss, read and written as one flat float64 vector
    of parameters per run: rows (K, size), each in the same order, each run's row the vector a
    net of that run alone has, bit for bit."""

    def __init__(self, model: Any, loss: Any) -> None:
        self.model, self.loss = model, loss
        self.pairs = model.parameters()  # [(param, grad)], live arrays (K, ...)
        self.runs = model.runs
        self.size = sum(p.size for p, _ in self.pairs) // self.runs  # parameters of one run
        self.squares = np.empty((self.runs, self.size), dtype=FLOAT64)  # squared_grad_norms'

    def take(self, runs: list[int]) -> FlatNet:
        """A net of copies of runs `runs` (their current parameters); this one is unchanged."""
        return FlatNet(self.model.take(np.array(runs)), self.loss)

    def get(self) -> Array:
        """Every parameter of each run, flattened and concatenated (K, size)."""
        return self._rows(p for p, _ in self.pairs)

    def set(self, thetas: Array) -> None:
        """Write `thetas` (K, size) into the parameters, in `get`'s order."""
        start = 0
        for p, _ in self.pairs:
            width = p.size // self.runs
            p[...] = thetas[:, start : start + width].reshape(p.shape)
            start += width

    def loss_grads(self, x: Array, y: Array) -> tuple[Array, Array]:
        """Each run's mean loss on the batch (x, y) (K,) and its gradient (K, size) at the
        current parameters."""
        values = self._backprop(x, y)
        return values, self._rows(g for _, g in self.pairs)

    def _rows(self, arrays: Iterable[Array]) -> Array:
        """Arrays (K, ...) in `pairs`' order as one row per run (K, size): `get`'s layout."""
        return np.concatenate([a.reshape(self.runs, -1) for a in arrays], axis=1)

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


def float64_net(cfgs: list[DictConfig], data: Any, seeds: list[int]) -> FlatNet:
    """The runs' networks in float64, one stack, with the weights `train` initialises run k's
    with for `seeds[k]` (`cfgs`: the runs' configs, as for `build`)."""
    init_rngs = [np.random.default_rng(seed).spawn(2)[0] for seed in seeds]  # as train()'s
    model, loss, _ = build(cfgs, data, FLOAT64, init_rngs)
    return FlatNet(model, loss)


def float64_stack(cfg: DictConfig, data: Any, model: Any) -> FlatNet:
    """A float64 net holding the weights of `model`, a trained stack of runs of `cfg`'s network
    (any run's config), cast to float64."""
    one, loss, _ = build([cfg], data, FLOAT64, [np.random.default_rng(0)])  # weights overwritten
    net = FlatNet(one.take(np.zeros(model.runs, dtype=np.intp)), loss)  # K copies: one build
    for (p, _), (trained, _) in zip(net.pairs, model.parameters(), strict=True):
        p[...] = trained
    return net
