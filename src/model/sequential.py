"""A stack of layers run in order, with one list of (param, grad) pairs for the optimizer."""

from __future__ import annotations

from src.arrays import Array
from src.layers.base import Layer


class Sequential:
    """forward runs the layers in order, backward in reverse; K runs at once (axis 0)."""

    def __init__(self, layers: list[Layer]) -> None:
        self.layers = layers
        # Below the first layer with parameters, backward has nothing to fill (unless dx is asked).
        self.first = next((i for i, layer in enumerate(layers) if layer.params), 0)

    @property
    def runs(self) -> int:
        """K, the number of runs stacked."""
        return len(self.layers[self.first].params["W"])

    def forward(self, x: Array) -> Array:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dy: Array, input_grad: bool = False) -> Array | None:
        """Fill every layer's grads; return d loss / d input only when `input_grad`.

        Training never needs the input gradient, and for the first Dense or Conv2D it would
        cost as much as that layer's forward pass.
        """
        if input_grad:
            for layer in reversed(self.layers):
                dy = layer.backward(dy)
            return dy
        for layer in reversed(self.layers[self.first + 1 :]):
            dy = layer.backward(dy)
        self.layers[self.first].param_backward(dy)
        return None

    def select(self, runs: Array) -> None:
        """Keep only runs `runs` (new arrays: refresh `parameters()` afterwards)."""
        for layer in self.layers:
            layer.select(runs)

    def take(self, runs: Array) -> Sequential:
        """A new model holding copies of runs `runs`; this one is unchanged."""
        return Sequential([layer.take(runs) for layer in self.layers])

    def parameters(self) -> list[tuple[Array, Array]]:
        """(param, grad) pairs; optimizers update the params in place."""
        return [(layer.params[k], layer.grads[k]) for layer in self.layers for k in layer.params]

    def storage(self) -> list[tuple[Array, Array]]:
        """(array, grad) pairs owning the parameters' memory (Layer.storage): what the
        optimizer updates in place and the trainer checks for non-finite values."""
        return [pair for layer in self.layers for pair in layer.storage()]

    def named_parameters(self) -> dict[str, Array]:
        """Parameters (K, ...) by 'index.kind:key' (e.g. '1.Dense:W'), for logs and diagnostics."""
        return {
            f"{i}.{type(layer).__name__}:{k}": v
            for i, layer in enumerate(self.layers)
            for k, v in layer.params.items()
        }
