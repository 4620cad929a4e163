"""Weight initializers (config group `init`); biases always start at zero.

Each is bound with `_partial_: true`, called as init(shape, fan_in, fan_out, rng, dtype) ->
weights of `shape`; `stacked` turns one per run into the (K, *shape) initializer layers call.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Annotated

import numpy as np

from src.arrays import Array, Rng
from src.checks import Interval, requires

Positive = Annotated[float, Interval(0, math.inf, low_open=True, high_open=True)]
Finite = Annotated[float, Interval(-math.inf, math.inf, True, True)]
Shape = tuple[int, ...]


def stacked(inits: Sequence[Callable[..., Array]], rngs: Sequence[Rng]) -> Callable[..., Array]:
    """One initializer for K runs: run k draws with its own init and its own rng, in the order
    the layers are built, exactly as if it were built alone; returns (K, *shape)."""

    def init(shape: Shape, fan_in: int, fan_out: int, dtype: np.dtype) -> Array:
        runs = zip(inits, rngs)
        return np.stack([f(shape=shape, fan_in=fan_in, fan_out=fan_out, rng=rng, dtype=dtype)
                         for f, rng in runs])  # fmt: skip

    return init


def normal(
    shape: Shape, fan_in: int, fan_out: int, rng: Rng, dtype: np.dtype, std: Positive = 0.01
) -> Array:
    """N(0, std²): the classic small-random init; too small or too large is a known failure."""
    return rng.normal(0.0, std, size=shape).astype(dtype)


@requires(lambda low, high: low < high, "low must be below high")
def uniform(
    shape: Shape,
    fan_in: int,
    fan_out: int,
    rng: Rng,
    dtype: np.dtype,
    low: Finite = -0.05,
    high: Finite = 0.05,
) -> Array:
    """U(low, high); low >= 0 gives the all-positive init that makes every unit alike."""
    return rng.uniform(low, high, size=shape).astype(dtype)


def xavier_uniform(shape: Shape, fan_in: int, fan_out: int, rng: Rng, dtype: np.dtype) -> Array:
    """U(-a, a) with a = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010)."""
    a = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=shape).astype(dtype)


def xavier_normal(shape: Shape, fan_in: int, fan_out: int, rng: Rng, dtype: np.dtype) -> Array:
    """N(0, 2 / (fan_in + fan_out))."""
    return rng.normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), size=shape).astype(dtype)


def he_normal(shape: Shape, fan_in: int, fan_out: int, rng: Rng, dtype: np.dtype) -> Array:
    """N(0, 2 / fan_in): keeps ReLU activations at unit scale (He et al. 2015)."""
    return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape).astype(dtype)


def he_uniform(shape: Shape, fan_in: int, fan_out: int, rng: Rng, dtype: np.dtype) -> Array:
    """U(-a, a) with a = sqrt(6 / fan_in)."""
    a = math.sqrt(6.0 / fan_in)
    return rng.uniform(-a, a, size=shape).astype(dtype)
