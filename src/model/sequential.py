"""A stack of layers run in order, with one list of (param, grad) pairs for the optimizer."""

from __future__ import annotations

from src.arrays import Array
from src.layers.base import Layer


class Sequential:
    """forward runs the layers in order, backward in reverse."""

    def __init__(self, layers: list[Layer]) -> None:
        self.layers = layers

    def forward(self, x: Array) -> Array:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dy: Array) -> Array:
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
        return dy

    def parameters(self) -> list[tuple[Array, Array]]:
        """(param, grad) pairs; optimizers update the params in place."""
        return [(layer.params[k], layer.grads[k]) for layer in self.layers for k in layer.params]

    def named_parameters(self) -> dict[str, Array]:
        """Parameters by 'index.kind:key' (e.g. '1.Dense:W'), for logs and diagnostics."""
        return {
            f"{i}.{type(layer).__name__}:{k}": v
            for i, layer in enumerate(self.layers)
            for k, v in layer.params.items()
        }
