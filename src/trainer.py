"""The training loop: mini-batch SGD over a Sequential, stopping at the first non-finite value."""

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


@dataclass(frozen=True)
class Settings:
    """Trainer options (config group `trainer`)."""

    epochs: Annotated[int, Interval(1)] = 20
    batch_size: Annotated[int, Interval(1)] = 32
    seed: int = 0
    dtype: Literal["float32", "float64"] = "float32"
    stall_margin: Annotated[float, Interval(0, 1)] = 0.05


class Loss(Protocol):
    def forward(self, out: Array, y: Array) -> float: ...
    def backward(self) -> Array: ...


class Optimizer(Protocol):
    def step(self) -> None: ...


@dataclass
class History:
    """What happened during training, filled in as it goes."""

    steps: int = 0  # completed parameter updates
    epochs_completed: int = 0
    first_nonfinite_step: int | None = None
    epoch_losses: list[float] = field(default_factory=list)  # mean train loss per epoch
    test_accuracies: list[float] = field(default_factory=list)
    test_losses: list[float] = field(default_factory=list)  # mean loss on the test set
    test_predictions: Array | None = None  # (N_test,) from the last evaluation


def fit(
    model: Sequential,
    loss: Loss,
    optimizer: Optimizer,
    data: tuple[Array, Array, Array, Array],
    settings: Settings,
    rng: Rng,
    on_epoch: Callable[[int, History], None] = lambda epoch, history: None,
    on_step: Callable[[int, float], None] = lambda step, loss: None,
) -> History:
    """Train until `settings.epochs` are done or a loss or parameter turns non-finite.

    `on_step(step, loss)` runs after each completed update (step counts updates, loss is that
    batch's loss); it is the only call the hot loop makes, so it must be cheap.
    """
    x_train, y_train, x_test, y_test = data
    history = History()
    guard = FiniteGuard([p for p, _ in model.parameters()])
    # Overflow warnings are expected on divergent runs; the guard records them instead.
    with np.errstate(all="ignore"):
        for epoch in range(settings.epochs):
            epoch_loss = _run_epoch(model, loss, optimizer, x_train, y_train, settings, rng,
                                    history, guard, on_step)  # fmt: skip
            if history.first_nonfinite_step is not None:
                break
            history.epochs_completed += 1
            history.epoch_losses.append(epoch_loss)
            history.test_predictions, test_loss = evaluate(model, loss, x_test, y_test)
            history.test_losses.append(test_loss)
            history.test_accuracies.append(float(np.mean(history.test_predictions == y_test)))
            on_epoch(epoch, history)
    return history


def _run_epoch(model, loss, optimizer, x, y, settings, rng, history, guard, on_step) -> float:
    """One shuffled pass; returns the mean batch loss, or nan if it diverged."""
    order = rng.permutation(len(y))
    # One gather per epoch, then contiguous slices: cheaper than fancy-indexing every batch.
    x, y = x[order], y[order]
    total = 0.0
    for start in range(0, len(y), settings.batch_size):
        xb, yb = x[start : start + settings.batch_size], y[start : start + settings.batch_size]
        value = loss.forward(model.forward(xb), yb)
        if not math.isfinite(value):
            history.first_nonfinite_step = history.steps
            return math.nan
        model.backward(loss.backward())
        optimizer.step()
        history.steps += 1
        on_step(history.steps, value)
        if not guard.all_finite():
            history.first_nonfinite_step = history.steps
            return math.nan
        total += value * len(yb)
    return total / len(y)


def evaluate(model: Sequential, loss: Loss, x: Array, y: Array) -> tuple[Array, float]:
    """Predicted class per sample (N,) and the mean loss, in one chunked forward pass."""
    predictions, total = [], 0.0
    for i in range(0, len(x), EVAL_CHUNK):
        out = model.forward(x[i : i + EVAL_CHUNK])  # (chunk, K)
        predictions.append(out.argmax(axis=1))
        total += loss.forward(out, y[i : i + EVAL_CHUNK]) * len(out)
    return np.concatenate(predictions), total / len(x)


class FiniteGuard:
    """Exact test that every parameter is finite, reading each parameter once.

    Products with zeros are 0 when all entries are finite and nan otherwise (0 * inf = nan),
    and unlike a sum or norm they cannot overflow on large finite weights. Each parameter is
    viewed as a matrix M (rows, cols): zeros_rows . (M @ zeros_cols) reads M once and needs only
    two short zero vectors, not a weight-sized one.
    """

    def __init__(self, params: list[Array]) -> None:
        self.matrices = [p.reshape(-1, p.shape[-1]) for p in params]  # views of the live arrays
        self.zero_cols = [np.zeros(m.shape[1], m.dtype) for m in self.matrices]
        self.zero_rows = [np.zeros(m.shape[0], m.dtype) for m in self.matrices]

    def all_finite(self) -> bool:
        return all(
            np.dot(zr, m @ zc) == 0
            for m, zc, zr in zip(self.matrices, self.zero_cols, self.zero_rows)
        )
