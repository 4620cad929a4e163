"""Small CNN: Conv2D -> activation -> MaxPool2D -> Flatten -> Dense [-> output]."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import numpy as np

from src.arrays import Array, Rng
from src.checks import Interval, requires
from src.errors import ConfigError
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
    init: Callable[..., Array],
    rng: Rng,
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
    """Build the CNN for (H, W, C) inputs; `conv_init`/`dense_init` fall back to `init`.

    Raises:
        ConfigError: the input is not an image, too small for the kernel or the pool, or an
            output activation comes with a loss that takes logits.
    """
    h, w, c = _image(input_shape)
    oh, ow = _fit(input_shape, h, w, kernel, stride, padding, "model.kernel")
    ph, pw = _fit(input_shape, oh, ow, pool, pool, 0, "model.pool")
    conv_init = init if conv_init is None else conv_init
    dense_init = init if dense_init is None else dense_init
    layers: list[Layer] = [
        Conv2D(c, filters, kernel, stride, padding, conv_init, rng, dtype),  # (N, OH, OW, F)
        activation(),
        MaxPool2D(pool, pool),  # (N, PH, PW, F)
        Flatten(),  # (N, PH*PW*F)
        Dense(ph * pw * filters, n_classes, dense_init, rng, dtype),  # (N, K)
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
