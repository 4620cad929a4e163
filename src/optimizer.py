"""Optimizers (config group `optimizer`), with PyTorch's update rules, for K runs at once.

Each YAML binds the class with `_partial_: true`; the trainer passes the model's (param, grad)
storage pairs (`Sequential.storage()`), shaped (K, ...). Hyper-parameters are per run: a scalar
(the same for all K) or a sequence of K values. Each is kept as one (K, 1, ...) array per parameter
in the parameter's dtype, so run k's arithmetic is exactly the scalar version's. Updates are in
place and reuse the grad arrays as scratch space, so a step allocates nothing weight-sized
(batch size 1 is memory-bound on exactly that): after step(), grads hold the update.

Two attributes say how a step relates to the gradient, for the diagnosis: `step_scale`, how many
gradients one steady-state step moves (lr * step_scale * g), and `normalizes_gradient`, true when
the step is divided by the gradient's own scale (then it is ~lr per weight, whatever the batch).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated

import numpy as np

from src.arrays import Array
from src.checks import Interval

LearningRate = Annotated[float, Interval(0, math.inf, low_open=True, high_open=True)]
Decay = Annotated[float, Interval(0, 1, high_open=True)]
Epsilon = Annotated[float, Interval(0, math.inf, low_open=True, high_open=True)]
Pairs = list[tuple[Array, Array]]
PerRun = float | Sequence[float]


class Optimizer:
    """Per-run hyper-parameters and per-parameter state, both with the run axis first."""

    state: tuple[str, ...] = ()  # attributes holding one state array per parameter

    def __init__(self, params: Pairs, **hyper: PerRun) -> None:
        runs = len(params[0][0])
        self.hyper = {k: np.broadcast_to(np.asarray(v, np.float64), (runs,)).copy()
                      for k, v in hyper.items()}  # fmt: skip
        self._bind(params)

    def _bind(self, params: Pairs) -> None:
        self.params = params
        self.per_param = {name: [as_param(v, w) for w, _ in params]
                          for name, v in self.hyper.items()}  # fmt: skip

    def select(self, runs: Array, params: Pairs) -> None:
        """Keep runs `runs` only; `params` are the model's pairs after its own select."""
        self.hyper = {k: v[runs] for k, v in self.hyper.items()}
        for name in self.state:
            setattr(self, name, [s[runs] for s in getattr(self, name)])
        self._bind(params)

    @property
    def lr(self) -> Array:
        """(K,) learning rates, float64."""
        return self.hyper["lr"]

    def step(self) -> None:
        raise NotImplementedError


def as_param(values: Array, w: Array) -> Array:
    """(K,) float64 values as (K, 1, ...) in w's dtype, to broadcast over run k's slice."""
    return values.astype(w.dtype).reshape((len(values),) + (1,) * (w.ndim - 1))


class SGD(Optimizer):
    """w <- w - lr * g."""

    step_scale = 1.0
    normalizes_gradient = False

    def __init__(self, params: Pairs, lr: LearningRate = 0.1) -> None:
        super().__init__(params, lr=lr)

    def step(self) -> None:
        for (w, g), lr in zip(self.params, self.per_param["lr"]):
            g *= lr
            w -= g


class Momentum(Optimizer):
    """v <- mu * v + g;  w <- w - lr * v  (PyTorch's SGD with momentum, no dampening)."""

    normalizes_gradient = False
    state = ("velocity",)

    def __init__(self, params: Pairs, lr: LearningRate = 0.01, momentum: Decay = 0.9) -> None:
        super().__init__(params, lr=lr, momentum=momentum)
        self.velocity = [np.zeros_like(w) for w, _ in params]

    @property
    def step_scale(self) -> Array:
        """(K,) 1 / (1 - mu): the velocity's steady state under a constant gradient."""
        return 1.0 / (1.0 - self.hyper["momentum"])

    def step(self) -> None:
        per = self.per_param
        for (w, g), v, lr, mu in zip(self.params, self.velocity, per["lr"], per["momentum"]):
            v *= mu
            v += g
            np.multiply(v, lr, out=g)
            w -= g


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction, as torch.optim.Adam computes it."""

    step_scale = 1.0
    normalizes_gradient = True  # m / sqrt(v): each weight moves by ~lr
    state = ("m", "v")

    def __init__(
        self,
        params: Pairs,
        lr: LearningRate = 0.001,
        beta1: Decay = 0.9,
        beta2: Decay = 0.999,
        eps: Epsilon = 1e-8,
    ) -> None:
        b1, b2 = np.asarray(beta1, np.float64), np.asarray(beta2, np.float64)
        super().__init__(params, lr=lr, beta1=b1, beta2=b2, eps=eps,
                         keep1=1 - b1, square_scale=(1 - b2) / (1 - b1) ** 2)  # fmt: skip
        self.m = [np.zeros_like(w) for w, _ in params]
        self.v = [np.zeros_like(w) for w, _ in params]
        self.t = 0

    def step(self) -> None:
        self.t += 1
        h = self.hyper
        step_size = h["lr"] / (1 - h["beta1"] ** self.t)  # (K,) float64
        root_correction = np.sqrt(1 - h["beta2"] ** self.t)
        per = self.per_param
        # g is the scratch space: scaled once, then squared, so no weight-sized temporary.
        for i, ((w, g), m, v) in enumerate(zip(self.params, self.m, self.v)):
            g *= per["keep1"][i]
            m *= per["beta1"][i]
            m += g  # m <- beta1 m + (1 - beta1) g
            g *= g
            g *= per["square_scale"][i]
            v *= per["beta2"][i]
            v += g  # v <- beta2 v + (1 - beta2) g^2
            # w -= step_size * m / (sqrt(v) / root_correction + eps), built in g's buffer
            np.sqrt(v, out=g)
            g /= as_param(root_correction, w)
            g += per["eps"][i]
            np.divide(m, g, out=g)
            g *= as_param(step_size, w)
            w -= g
