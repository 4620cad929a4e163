"""Activations (config group `activation`): parameter-free layers, elementwise unless noted.

Each YAML binds the class with `_partial_: true`; the model calls it once per hidden layer.
What the diagnosis needs to know about an activation is a class attribute of `Activation`.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np

from src.arrays import Array
from src.checks import Interval
from src.layers.base import Layer


class Activation(Layer):
    """A nonlinearity; its class attributes describe how it treats a signal and its gradient."""

    saturation_knee: float | None = None  # |z| past which the derivative is < 1e-2; None: never
    keeps_scale = False  # ~linear near 0 with no offset: a small signal keeps its scale
    can_die = False  # zero gradient for every z < 0: a unit that never fires stops learning
    rectifier = False  # passes one sign only (or nearly): He init keeps the variance


class Identity(Layer):
    """y = x (the raw output for MSE regression targets)."""

    def forward(self, x: Array) -> Array:
        return x

    def backward(self, dy: Array) -> Array:
        return dy


class ReLU(Activation):
    """y = max(x, 0), as x * (x > 0): NaN and -inf give NaN, so an overflow counts as divergence."""

    keeps_scale = can_die = rectifier = True

    def forward(self, x: Array) -> Array:
        self.active = x > 0  # bool: a quarter of a float32 mask's memory traffic
        return x * self.active  # faster than np.maximum, which checks for NaN

    def backward(self, dy: Array) -> Array:
        return np.multiply(dy, self.active, out=dy)  # in place: one pass, nothing allocated


class LeakyReLU(Activation):
    """y = x for x > 0, slope * x otherwise."""

    keeps_scale = rectifier = True

    def __init__(self, slope: Annotated[float, Interval(0, 1, False, True)] = 0.01) -> None:
        super().__init__()
        self.slope = slope

    def forward(self, x: Array) -> Array:
        one, slope = x.dtype.type(1), x.dtype.type(self.slope)  # keep float32 float32
        self.scale = np.where(x > 0, one, slope)
        return x * self.scale

    def backward(self, dy: Array) -> Array:
        return np.multiply(dy, self.scale, out=dy)


class Sigmoid(Activation):
    """y = 1 / (1 + e^-x), computed as (1 + tanh(x/2)) / 2 so it never overflows."""

    saturation_knee = 4.6  # sigmoid'(4.6) = 0.0099; the 0.5 offset resets the scale each layer

    def forward(self, x: Array) -> Array:
        y = np.tanh(0.5 * x)
        y += 1.0
        y *= 0.5
        self.y = y
        return y

    def backward(self, dy: Array) -> Array:
        dy *= self.y
        dy *= 1.0 - self.y  # one temporary instead of three
        return dy


class Tanh(Activation):
    """y = tanh(x)."""

    saturation_knee = 3.0  # tanh'(3.0) = 0.0099
    keeps_scale = True

    def forward(self, x: Array) -> Array:
        self.y = np.tanh(x)
        return self.y

    def backward(self, dy: Array) -> Array:
        slope = self.y * self.y
        np.subtract(1.0, slope, out=slope)  # tanh' = 1 - y^2, built in one temporary
        dy *= slope
        return dy


class Softmax(Activation):
    """Softmax over classes (K, N, C); only as an MSE output (cross-entropy fuses it)."""

    def forward(self, x: Array) -> Array:
        z = x - x.max(axis=-1, keepdims=True)  # reductions over the last axis: per run, per row
        e = np.exp(z)
        self.y = e / e.sum(axis=-1, keepdims=True)
        return self.y

    def backward(self, dy: Array) -> Array:
        # Jacobian-vector product: dx_i = y_i (dy_i - sum_j dy_j y_j).
        return self.y * (dy - np.sum(dy * self.y, axis=-1, keepdims=True))


OUTPUTS: dict[str, type[Layer]] = {
    "identity": Identity,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "softmax": Softmax,
}
