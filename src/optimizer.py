"""Optimizers (config group `optimizer`), with PyTorch's update rules.

Each YAML binds the class with `_partial_: true`; the trainer passes the model's
(param, grad) pairs. Updates are in place and reuse the grad arrays as scratch space, so a
step allocates nothing weight-sized (batch size 1 is memory-bound on exactly that).

Two attributes say how a step relates to the gradient, for the diagnosis: `step_scale`, how many
gradients one steady-state step moves (lr * step_scale * g), and `normalizes_gradient`, true when
the step is divided by the gradient's own scale (then it is ~lr per weight, whatever the batch).
"""

from __future__ import annotations

import math
from typing import Annotated

import numpy as np

from src.arrays import Array
from src.checks import Interval

LearningRate = Annotated[float, Interval(0, math.inf, low_open=True, high_open=True)]
Decay = Annotated[float, Interval(0, 1, high_open=True)]
Epsilon = Annotated[float, Interval(0, math.inf, low_open=True, high_open=True)]
Pairs = list[tuple[Array, Array]]


class SGD:
    """w <- w - lr * g."""

    step_scale = 1.0
    normalizes_gradient = False

    def __init__(self, params: Pairs, lr: LearningRate = 0.1) -> None:
        self.params, self.lr = params, lr

    def step(self) -> None:
        for w, g in self.params:
            g *= self.lr
            w -= g


class Momentum:
    """v <- mu * v + g;  w <- w - lr * v  (PyTorch's SGD with momentum, no dampening)."""

    normalizes_gradient = False

    def __init__(self, params: Pairs, lr: LearningRate = 0.01, momentum: Decay = 0.9) -> None:
        self.params, self.lr, self.momentum = params, lr, momentum
        self.velocity = [np.zeros_like(w) for w, _ in params]

    @property
    def step_scale(self) -> float:
        """1 / (1 - mu): the velocity's steady state under a constant gradient."""
        return 1.0 / (1.0 - self.momentum)

    def step(self) -> None:
        for (w, g), v in zip(self.params, self.velocity):
            v *= self.momentum
            v += g
            np.multiply(v, self.lr, out=g)
            w -= g


class Adam:
    """Adam (Kingma & Ba) with bias correction, as torch.optim.Adam computes it."""

    step_scale = 1.0
    normalizes_gradient = True  # m / sqrt(v): each weight moves by ~lr

    def __init__(
        self,
        params: Pairs,
        lr: LearningRate = 0.001,
        beta1: Decay = 0.9,
        beta2: Decay = 0.999,
        eps: Epsilon = 1e-8,
    ) -> None:
        self.params, self.lr, self.beta1, self.beta2, self.eps = params, lr, beta1, beta2, eps
        self.m = [np.zeros_like(w) for w, _ in params]
        self.v = [np.zeros_like(w) for w, _ in params]
        self.t = 0

    def step(self) -> None:
        self.t += 1
        step_size = self.lr / (1 - self.beta1**self.t)
        root_correction = math.sqrt(1 - self.beta2**self.t)
        # g is the scratch space: scaled once, then squared, so no weight-sized temporary.
        square_scale = (1 - self.beta2) / (1 - self.beta1) ** 2
        for (w, g), m, v in zip(self.params, self.m, self.v):
            g *= 1 - self.beta1
            m *= self.beta1
            m += g  # m <- beta1 m + (1 - beta1) g
            g *= g
            g *= square_scale
            v *= self.beta2
            v += g  # v <- beta2 v + (1 - beta2) g^2
            # w -= step_size * m / (sqrt(v) / root_correction + eps), built in g's buffer
            np.sqrt(v, out=g)
            g /= root_correction
            g += self.eps
            np.divide(m, g, out=g)
            g *= step_size
            w -= g
