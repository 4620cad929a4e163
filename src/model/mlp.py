"""Multi-layer perceptron: [Flatten] -> (Dense -> activation) * len(hidden) -> Dense [-> output]."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Literal

import numpy as np

from src.activation import OUTPUTS
from src.arrays import Array, Rng
from src.checks import Interval
from src.errors import ConfigError
from src.init import stacked
from src.layers.base import Layer
from src.layers.dense import Dense
from src.layers.flatten import Flatten
from src.model.sequential import Sequential

Width = Annotated[int, Interval(1)]
OutputName = Literal["identity", "sigmoid", "tanh", "softmax"]


def mlp(
    input_shape: tuple[int, ...],
    n_classes: int,
    activation: Callable[[], Layer],
    inits: Sequence[Callable[..., Array]],
    rngs: Sequence[Rng],
    dtype: np.dtype,
    takes_logits: bool,
    hidden: list[Width] = (100,),
    output_activation: OutputName = "identity",
) -> Sequential:
    """Build the MLP for K = len(rngs) runs, run k initialized by inits[k] from rngs[k];
    `output_activation` applies only when the loss does not take logits."""
    init = stacked(inits, rngs)
    layers: list[Layer] = [Flatten()] if len(input_shape) > 1 else []
    widths = [int(np.prod(input_shape)), *hidden]
    for d_in, d_out in zip(widths, widths[1:]):
        layers += [Dense(d_in, d_out, init, dtype), activation()]
    layers.append(Dense(widths[-1], n_classes, init, dtype))
    return Sequential(layers + output_layers(output_activation, takes_logits))


def output_layers(output_activation: OutputName, takes_logits: bool) -> list[Layer]:
    """The output activation, none for a loss that takes logits (it cannot use one).

    Raises:
        ConfigError: an output activation other than identity with a loss that takes logits.
    """
    if not takes_logits:
        return [OUTPUTS[output_activation]()]
    if output_activation != "identity":
        raise ConfigError(
            f"model.output_activation={output_activation}: the loss takes logits and applies "
            "its own softmax; use model.output_activation=identity, or loss=mse"
        )
    return []
