"""Small CNN: Conv2D -> activation -> MaxPool2D -> Flatten -> Dense [-> output]."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated

import numpy as np

from src.arrays import Array, Rng
from src.checks import Interval, requires
from src.errors import ConfigError
from src.init import stacked
from src.layers.base import Layer
from src.layers.conv import Conv2D
from src.layers.dense import Dense
from src.layers.flatten import Flatten
from src.layers.im2col import output_size
from src.layers.pool import MaxPool2D
from src.model.mlp import OutputName, output_layers
from src.model.sequential import Sequential

Count = Annotated[int, Interval(1)]
Padding = Annotated[int, Interval(0)]
# In YAML a nested `{_target_: src.init..., _partial_: true}` node; Hydra binds it first.
InitOrNone = Callable[..., Array] | None


@requires(
    lambda kernel, padding: padding < kernel,
    "padding must be below kernel (else a window can hold only padding)",
)
def cnn(
    input_shape: tuple[int, ...],
    n_classes: int,
    activation: Callable[[], Layer],
    inits: Sequence[Callable[..., Array]],
    rngs: Sequence[Rng],
    dtype: np.dtype,
    takes_logits: bool,
    filters: Count = 16,
    kernel: Count = 3,
    stride: Count = 1,
    padding: Padding = 0,
    pool: Count = 2,
    conv_init: InitOrNone = None,
    dense_init: InitOrNone = None,
    output_activation: OutputName = "identity",
) -> Sequential:
    """Build the CNN for (H, W, C) inputs and K = len(rngs) runs; `conv_init`/`dense_init`
    (the same for every run) fall back to each run's own `inits[k]`.

    Raises:
        ConfigError: the input is not an image, too small for the kernel or the pool, or an
            output activation comes with a loss that takes logits.
    """
    h, w, c = _image(input_shape)
    oh, ow = _fit(input_shape, h, w, kernel, stride, padding, "model.kernel")
    ph, pw = _fit(input_shape, oh, ow, pool, pool, 0, "model.pool")
    conv = stacked(inits if conv_init is None else [conv_init] * len(rngs), rngs)
    dense = stacked(inits if dense_init is None else [dense_init] * len(rngs), rngs)
    layers: list[Layer] = [
        Conv2D(c, filters, kernel, stride, padding, conv, dtype),  # (K, N, OH, OW, F)
        activation(),
        MaxPool2D(pool, pool),  # (K, N, PH, PW, F)
        Flatten(),  # (K, N, PH*PW*F)
        Dense(ph * pw * filters, n_classes, dense, dtype),  # (K, N, classes)
    ]
    return Sequential(layers + output_layers(output_activation, takes_logits))


def _image(input_shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(H, W, C) of one sample, or ConfigError for vector inputs."""
    if len(input_shape) != 3:
        raise ConfigError(
            f"model=cnn needs (H, W, C) image inputs; the input shape is {input_shape}"
        )
    h, w, c = input_shape
    return h, w, c


def _fit(
    input_shape: tuple[int, ...], h: int, w: int, kernel: int, stride: int, padding: int, key: str
) -> tuple[int, int]:
    """Output (height, width) of a window op on an h x w map, or ConfigError naming `key`."""
    oh, ow = output_size(h, kernel, stride, padding), output_size(w, kernel, stride, padding)
    if oh < 1 or ow < 1:
        raise ConfigError(
            f"{key}={kernel} does not fit the {h}x{w} map it slides over (padding {padding}) "
            f"for input shape {input_shape}; use at most {min(h, w) + 2 * padding}"
        )
    return oh, ow
