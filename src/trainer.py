"""The training loop: mini-batch SGD for K stacked runs; a run that turns non-finite leaves.

Every run keeps its own shuffle rng, its own sample order and its own History; the stack does
one batched forward, backward and update per step for all runs still training.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Literal, Protocol

import numpy as np

from src.arrays import Array, Rng
from src.checks import Interval
from src.model.sequential import Sequential

EVAL_CHUNK = 1024  # test samples per forward pass: bounds memory for wide CNN activations
GATHER_BYTES = 64 * 2**20  # one (K, N, ...) gather per epoch up to this size, else per batch


@dataclass(frozen=True)
class Settings:
    """Trainer options (config group `trainer`)."""

    epochs: Annotated[int, Interval(1)] = 20
    batch_size: Annotated[int, Interval(1)] = 32
    seed: int = 0
    dtype: Literal["float32", "float64"] = "float32"
    stall_margin: Annotated[float, Interval(0, 1)] = 0.05
    probe_size: Annotated[int, Interval(1)] = 128  # first training samples probed per epoch


class Loss(Protocol):
    def forward(self, out: Array, y: Array) -> Array: ...
    def backward(self) -> Array: ...


class Optimizer(Protocol):
    def step(self) -> None: ...
    def select(self, runs: Array, params: list[tuple[Array, Array]]) -> None: ...


@dataclass
class History:
    """What happened to one run during training, filled in as it goes."""

    steps: int = 0  # completed parameter updates
    epochs_completed: int = 0
    first_nonfinite_step: int | None = None
    epoch_losses: list[float] = field(default_factory=list)  # mean train loss per epoch
    test_accuracies: list[float] = field(default_factory=list)
    test_losses: list[float] = field(default_factory=list)  # mean loss on the test set
    test_predictions: Array | None = None  # (N_test,) from the last evaluation


def _nothing(*args: object) -> None:
    return None


@dataclass
class Hooks:
    """Calls out of `fit`; `runs` lists the run indices (into the rngs given) still training,
    in stack order, so values[i] belongs to run runs[i]."""

    on_step: Callable[[int, Array, list[int]], None] = _nothing  # (step, losses (K,), runs)
    on_epoch: Callable[[int, list[int], list[History]], None] = _nothing  # after evaluation
    on_leave: Callable[[int, Sequential], None] = _nothing  # (run, its model as it diverged)


class Stack:
    """The runs still training: model, optimizer, finite guard, rngs and histories."""

    def __init__(self, model: Sequential, optimizer: Optimizer, rngs: list[Rng]) -> None:
        self.model, self.optimizer, self.rngs = model, optimizer, list(rngs)
        self.runs = list(range(len(rngs)))
        self.histories = [History() for _ in rngs]
        self.guard = FiniteGuard([p for p, _ in model.storage()])
        self.steps = 0

    def leave(self, bad: Array, on_leave: Callable[[int, Sequential], None]) -> Array:
        """Record runs `bad` (a mask over the stack) as non-finite now and drop them; returns
        the indices kept."""
        for i in np.flatnonzero(bad):
            history = self.histories[self.runs[i]]
            history.first_nonfinite_step = history.steps = self.steps
            on_leave(self.runs[i], self.model.take(np.array([i])))
        keep = np.flatnonzero(~bad)
        self.runs = [self.runs[i] for i in keep]
        self.rngs = [self.rngs[i] for i in keep]
        if self.runs:
            self.model.select(keep)
            self.optimizer.select(keep, self.model.storage())
            self.guard = FiniteGuard([p for p, _ in self.model.storage()])
        return keep


def fit(
    model: Sequential,
    loss: Loss,
    optimizer: Optimizer,
    data: tuple[Array, Array, Array, Array],
    settings: Settings,
    rngs: list[Rng],
    hooks: Hooks | None = None,
) -> list[History]:
    """Train K = len(rngs) runs until `settings.epochs` are done; run k shuffles with rngs[k]
    and leaves the stack at its first non-finite loss or parameter. One History per run."""
    hooks = hooks or Hooks()
    x_train, y_train, x_test, y_test = data
    stack = Stack(model, optimizer, rngs)
    # Overflow warnings are expected on divergent runs; the guard records them instead.
    with np.errstate(all="ignore"):
        for epoch in range(settings.epochs):
            epoch_losses = _run_epoch(stack, loss, x_train, y_train, settings, hooks)
            if not stack.runs:
                break
            predictions, test_losses = evaluate(stack.model, loss, x_test, y_test)
            for i, run in enumerate(stack.runs):
                history = stack.histories[run]
                history.steps = stack.steps
                history.epochs_completed += 1
                history.epoch_losses.append(float(epoch_losses[i]))
                history.test_predictions = predictions[i]
                history.test_losses.append(float(test_losses[i]))
                history.test_accuracies.append(float(np.mean(predictions[i] == y_test)))
            hooks.on_epoch(epoch, stack.runs, stack.histories)
    return stack.histories


class Shuffled:
    """One epoch's sample order per run (K, N) with the batches it gives, for the runs left."""

    def __init__(self, x: Array, y: Array, rngs: list[Rng]) -> None:
        self.x, self.orders = x, np.stack([rng.permutation(len(y)) for rng in rngs])  # (K, N)
        # One gather per epoch, then contiguous slices: cheaper than fancy-indexing every
        # batch, unless (K, N, ...) is large.
        self.xs = x[self.orders] if self.orders.size * x[0].nbytes <= GATHER_BYTES else None
        self.ys = y[self.orders]  # (K, N)
        self.losses: list[Array] = []  # (K,) per batch: no per-step arithmetic in the hot loop
        self.sizes: list[int] = []

    def batch(self, rows: slice) -> tuple[Array, Array]:
        """(K, B, ...) inputs and (K, B) labels."""
        xb = self.xs[:, rows] if self.xs is not None else self.x[self.orders[:, rows]]
        return xb, self.ys[:, rows]

    def select(self, keep: Array) -> None:
        self.orders, self.ys = self.orders[keep], self.ys[keep]
        self.xs = self.xs[keep] if self.xs is not None else None
        self.losses = [values[keep] for values in self.losses]

    def mean_loss(self) -> Array:
        """(K,) mean over the epoch's samples of each run's batch losses, weighted by batch
        size. Each run's sum runs along one contiguous row: the same for any K, bit for bit."""
        weighted = np.ascontiguousarray(np.array(self.losses).T)  # (K, batches)
        weighted *= self.sizes
        return np.add.reduce(weighted, axis=1) / self.orders.shape[1]


def _run_epoch(stack: Stack, loss: Loss, x: Array, y: Array, settings: Settings,
               hooks: Hooks) -> Array:  # fmt: skip
    """One shuffled pass per run; returns the mean batch loss (K,) of the runs still training."""
    epoch = Shuffled(x, y, stack.rngs)
    for start in range(0, len(y), settings.batch_size):
        rows = slice(start, start + settings.batch_size)
        xb, yb = epoch.batch(rows)
        values = loss.forward(stack.model.forward(xb), yb)  # (K,)
        # One reduction on the fast path: a sum of finite losses is finite (they are far
        # below the float64 range); only a non-finite sum looks at runs one by one.
        if not math.isfinite(np.add.reduce(values)):
            epoch.select(stack.leave(~np.isfinite(values), hooks.on_leave))
            if not stack.runs:
                return np.zeros(0)
            xb, yb = epoch.batch(rows)
            values = loss.forward(stack.model.forward(xb), yb)  # the same values, per run
        stack.model.backward(loss.backward())
        stack.optimizer.step()
        stack.steps += 1
        hooks.on_step(stack.steps, values, stack.runs)
        if not stack.guard.all_finite():
            keep = stack.leave(~stack.guard.finite(), hooks.on_leave)
            if not stack.runs:
                return np.zeros(0)
            epoch.select(keep)
            values = values[keep]
        epoch.losses.append(values)
        epoch.sizes.append(yb.shape[1])
    return epoch.mean_loss()


def evaluate(model: Sequential, loss: Loss, x: Array, y: Array) -> tuple[Array, Array]:
    """Predicted class per run and sample (K, N) and each run's mean loss (K,), in chunked
    forward passes of the one test batch shared by all runs."""
    predictions, total = [], 0.0
    for i in range(0, len(x), EVAL_CHUNK):
        out = model.forward(x[None, i : i + EVAL_CHUNK])  # (K, chunk, C)
        predictions.append(out.argmax(axis=2))
        labels = np.broadcast_to(y[i : i + EVAL_CHUNK], out.shape[:2])  # (K, chunk)
        total = total + loss.forward(out, labels) * out.shape[1]
    return np.concatenate(predictions, axis=1), total / len(x)


class FiniteGuard:
    """Exact per-run test that every parameter is finite, reading each parameter once.

    Products with zeros are 0 when all entries are finite and nan otherwise (0 * inf = nan),
    and unlike a sum or norm they cannot overflow on large finite weights. Each parameter is
    viewed as a matrix (K, values per run), so one matrix-vector product with zeros gives one
    0-or-nan per run and parameter. A sum of such values is exactly 0 or nan in any order: one
    sum over all of them answers "all finite?" (the hot loop's question), sums over each run's
    answer "which run?". (Not `np.dot`, nor BLAS for the sums: with an inner size of 1 they
    skip products with zero, nan included.) One long row per run, not one per weight row: a
    product's cost is mostly per row (a (K*101, 10) matrix takes 3x the time of (K, 1010)).
    """

    def __init__(self, params: list[Array]) -> None:
        # Views of the live arrays: each run's values must be one contiguous block (a storage
        # array, or a view of one such as Conv2D's kernel); reshape raises otherwise.
        self.matrices = [p.reshape(len(p), -1, copy=False) for p in params]
        self.zero_cols = [np.zeros(m.shape[1], m.dtype) for m in self.matrices]
        runs = len(params[0])
        # All products land in one preallocated (parameters, K) array, a row per parameter:
        # the check runs every step, so it allocates nothing.
        self.products = np.empty((len(params), runs), params[0].dtype)

    def _products(self) -> Array:
        for m, zc, out in zip(self.matrices, self.zero_cols, self.products):
            np.matmul(m, zc, out=out)
        return self.products

    def all_finite(self) -> bool:
        """Every parameter of every run is finite."""
        return np.add.reduce(self._products(), axis=None) == 0

    def finite(self) -> Array:
        """(K,) bool: run k's parameters are all finite."""
        return np.add.reduce(self._products(), axis=0) == 0
