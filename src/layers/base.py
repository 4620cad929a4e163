"""The layer contract every block follows (numpy-ml style)."""

from __future__ import annotations

from src.arrays import Array


class Layer:
    """A differentiable op with its parameters and their gradients under the same keys.

    forward(x) stores only what backward needs; backward(dy) fills `grads` and returns dx.
    backward may overwrite dy: callers hand over a gradient they no longer need.
    The batch dimension comes first everywhere.
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
