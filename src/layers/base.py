"""The layer contract every block follows (numpy-ml style), with a leading run axis."""

from __future__ import annotations

import copy

from src.arrays import Array


class Layer:
    """A differentiable op with its parameters and their gradients under the same keys.

    What holds for every layer, activation and model here:
    - Shapes: axis 0 is the run axis K (independent training runs stacked; one run is K = 1),
      axis 1 the batch. Parameters are (K, ...), inputs (K, N, ...). An input may also be
      (1, N, ...), one batch shared by all runs (evaluation, probes); outputs are then (K, ...)
      from the first layer with parameters on. Every op is independent per run: run k's
      output and gradients depend only on slice k, bit for bit as if it were trained alone.
    - forward(x) stores only what backward needs (its input, a mask, its output) and may hand
      out an array it keeps: callers must not modify the result in place.
    - backward(dy) fills `grads` (preallocated, same keys and shapes as `params`, overwritten,
      never accumulated) and returns dx. It may overwrite dy: callers hand over a gradient they
      no longer need. It uses what the latest forward stored, so pair each backward with the
      forward just before it.
    - param_backward(dy) fills `grads` only and returns nothing: the shortcut for the first
      layer with parameters, whose input (the data) needs no gradient; by default it is
      backward with dx thrown away, layers override it when dx is expensive.
    - storage() gives the (array, grad) pairs the optimizer and the finite check work on: the
      params/grads pairs themselves, or arrays they are views of (Dense and Conv2D keep W and
      b in one), so a step makes one call per array, not per parameter.
    - Optimizers update `params` in place and use `grads` as scratch space: after step(),
      grads hold the update (e.g. lr * g), not the gradient. Nothing reads grads between a
      step and the next backward, which is why a probe (forward + backward on another batch,
      no step) may run between steps: it overwrites grads and the cached activations, and the
      next training step's forward and backward overwrite both again before the optimizer
      reads them. Optimizer state (momentum, Adam moments) lives in the optimizer.
    - select(runs) keeps runs `runs` (an index array over axis 0) in new arrays; the old ones
      are left untouched, so a shallow copy of a layer plus select is an independent layer.
    """

    def __init__(self) -> None:
        self.params: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}

    def forward(self, x: Array) -> Array:
        raise NotImplementedError

    def backward(self, dy: Array) -> Array:
        raise NotImplementedError

    def param_backward(self, dy: Array) -> None:
        """Fill `grads` only: for the first layer, whose input (the data) needs no gradient."""
        self.backward(dy)

    def storage(self) -> list[tuple[Array, Array]]:
        """(array, grad) pairs that own the parameters' memory, for in-place updates: the
        params/grads pairs, or fewer, larger arrays that the params are views of."""
        return [(self.params[k], self.grads[k]) for k in self.params]

    def select(self, runs: Array) -> None:
        """Keep only runs `runs` (axis 0 of every parameter), in new arrays."""
        self.params = {k: v[runs] for k, v in self.params.items()}
        self.grads = {k: v[runs] for k, v in self.grads.items()}

    def take(self, runs: Array) -> Layer:
        """A new layer holding copies of runs `runs`; this one is unchanged."""
        clone = copy.copy(self)
        clone.select(runs)
        return clone
