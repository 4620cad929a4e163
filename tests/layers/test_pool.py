"""MaxPool2D against finite differences and a naive loop reference."""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf

from src.arrays import Array
from src.checks import check_node
from src.errors import ConfigError
from src.layers.pool import MaxPool2D
from tests.gradcheck import check_layer, check_runs_alone

# (x shape, size, stride): exact tiling, floor (odd H and W), overlapping, stride 1.
# Shapes (K, N, H, W, C): runs first.
CASES = [
    ((2, 2, 4, 6, 3), 2, 2),
    ((1, 2, 5, 7, 3), 2, 2),
    ((2, 2, 7, 6, 2), 3, 2),
    ((2, 2, 4, 5, 2), 2, 1),
    ((3, 3, 6, 6, 2), 3, 3),
]


def distinct(shape: tuple[int, ...], rng: np.random.Generator) -> Array:
    """Values 1 apart: a 1e-6 finite-difference step can never change which entry is the max."""
    return rng.permutation(int(np.prod(shape))).reshape(shape).astype(np.float64)


def naive_pool(x: Array, size: int, stride: int) -> Array:
    """One run's reference: x (N, H, W, C)."""
    n, h, w, c = x.shape
    oh, ow = (h - size) // stride + 1, (w - size) // stride + 1
    y = np.zeros((n, oh, ow, c))
    for s in range(n):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    rows = slice(i * stride, i * stride + size)
                    cols = slice(j * stride, j * stride + size)
                    y[s, i, j, ch] = x[s, rows, cols, ch].max()
    return y


@pytest.mark.parametrize(("shape", "size", "stride"), CASES)
def test_gradients_match_finite_differences(shape, size: int, stride: int) -> None:
    rng = np.random.default_rng(0)
    check_layer(MaxPool2D(size, stride), distinct(shape, rng), rng, tol=1e-6)


@pytest.mark.parametrize(("shape", "size", "stride"), CASES)
def test_forward_matches_naive_loop(shape, size: int, stride: int) -> None:
    x = np.random.default_rng(1).standard_normal(shape)
    y = MaxPool2D(size, stride).forward(x)
    for k in range(len(x)):
        np.testing.assert_array_equal(y[k], naive_pool(x[k], size, stride))


def test_ties_send_the_gradient_to_one_winner_per_window() -> None:
    layer = MaxPool2D(2, 2)
    x = np.zeros((2, 2, 5, 4, 3), dtype=np.float32)  # every window one big tie; row 4 is cut
    y = layer.forward(x)
    dy = np.random.default_rng(2).standard_normal(y.shape).astype(np.float32)
    dx = layer.backward(dy)
    assert y.shape == (2, 2, 2, 2, 3)
    assert y.dtype == dx.dtype == np.float32
    assert dx.shape == x.shape
    assert np.count_nonzero(dx) == dy.size
    np.testing.assert_array_equal(dx[:, :, 0:4:2, 0:4:2], dy)  # the first max: top-left
    assert not dx[:, :, 4].any()  # the floor: pixels outside every window get no gradient


def test_a_run_in_a_stack_computes_what_it_computes_alone() -> None:
    rng = np.random.default_rng(3)
    for size, stride in ((2, 2), (3, 2)):
        check_runs_alone(MaxPool2D(size, stride), rng.standard_normal((8, 3, 7, 6, 2)), rng)


def test_config_accepts_sizes_and_strides_from_one() -> None:
    for key in ("size", "stride"):
        check_node(OmegaConf.create({"_target_": "src.layers.pool.MaxPool2D", key: 1}), "pool")
        with pytest.raises(ConfigError, match=f"pool.{key}=0: expected an integer >= 1"):
            check_node(OmegaConf.create({"_target_": "src.layers.pool.MaxPool2D", key: 0}), "pool")


def test_default_pool_halves_height_and_width() -> None:
    x = np.arange(16.0).reshape(1, 1, 4, 4, 1)
    np.testing.assert_array_equal(MaxPool2D().forward(x)[0, 0, :, :, 0], [[5.0, 7.0], [13.0, 15.0]])
