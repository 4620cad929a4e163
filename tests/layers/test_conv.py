"""Conv2D and the im2col module against finite differences and a naive loop reference."""

from __future__ import annotations

import functools
import tracemalloc

import numpy as np
import pytest

from src.arrays import Array
from src.init import normal, stacked
from src.layers.conv import Conv2D
from src.layers.im2col import col2im, im2col, output_size
from tests.gradcheck import check_layer, check_runs_alone

INIT = functools.partial(normal, std=0.5)
# (kernel, stride, padding); H=7/W=6 with stride 2 leaves a column no window covers (floor).
COMBOS = [(3, 1, 0), (3, 2, 1), (2, 2, 0), (3, 1, 2), (2, 3, 1), (3, 2, 0)]


def naive_conv(x: Array, w: Array, b: Array, stride: int, padding: int) -> Array:
    """Reference forward: one dot product per (sample, output pixel)."""
    p, k = padding, w.shape[0]
    xp = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    n, hp, wp, _ = xp.shape
    oh, ow = (hp - k) // stride + 1, (wp - k) // stride + 1
    y = np.zeros((n, oh, ow, w.shape[3]))
    for s in range(n):
        for i in range(oh):
            for j in range(ow):
                patch = xp[s, i * stride : i * stride + k, j * stride : j * stride + k, :]
                y[s, i, j] = np.tensordot(patch, w, axes=3) + b
    return y


def naive_conv_backward(
    x: Array, w: Array, dy: Array, stride: int, padding: int
) -> tuple[Array, Array, Array]:
    """Reference (dx, dW, db): each output pixel sends its gradient back to its patch."""
    p, k = padding, w.shape[0]
    xp = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    n, oh, ow, _ = dy.shape
    for s in range(n):
        for i in range(oh):
            for j in range(ow):
                rows = slice(i * stride, i * stride + k)
                cols = slice(j * stride, j * stride + k)
                dw += xp[s, rows, cols, :, None] * dy[s, i, j]
                dxp[s, rows, cols, :] += w @ dy[s, i, j]
    dx = dxp[:, p : p + x.shape[1], p : p + x.shape[2], :]
    return dx, dw, dy.sum(axis=(0, 1, 2))


def make(c: int, f: int, kernel: int, stride: int, padding: int, dtype=np.float64,
         runs: int = 2) -> Conv2D:  # fmt: skip
    rng = np.random.default_rng(1)
    init = stacked([INIT] * runs, [rng] * runs)
    layer = Conv2D(c, f, kernel, stride, padding, init, np.dtype(dtype))
    layer.params["b"][:] = rng.standard_normal((runs, f))  # nonzero, so a bias bug shows
    return layer


@pytest.mark.parametrize(("kernel", "stride", "padding"), COMBOS)
def test_gradients_match_finite_differences(kernel: int, stride: int, padding: int) -> None:
    rng = np.random.default_rng(0)
    layer = make(2, 3, kernel, stride, padding)
    check_layer(layer, rng.standard_normal((2, 2, 5, 4, 2)), rng, tol=1e-6)  # (K, N, H, W, C)
    check_layer(layer, rng.standard_normal((1, 2, 5, 4, 2)), rng, tol=1e-6)  # shared input


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("kernel", "stride", "padding"), COMBOS[:2])
def test_a_run_in_a_stack_computes_what_it_computes_alone(kernel, stride, padding, dtype):
    rng = np.random.default_rng(5)
    layer = make(3, 4, kernel, stride, padding, dtype, runs=8)
    check_runs_alone(layer, rng.standard_normal((8, 3, 7, 6, 3)).astype(dtype), rng)
    check_runs_alone(layer, rng.standard_normal((1, 3, 7, 6, 3)).astype(dtype), rng)


@pytest.mark.parametrize(("kernel", "stride", "padding"), COMBOS)
def test_forward_and_backward_match_naive_loops(kernel: int, stride: int, padding: int) -> None:
    rng = np.random.default_rng(2)
    layer = make(3, 4, kernel, stride, padding)
    x = rng.standard_normal((2, 2, 7, 6, 3))
    y = layer.forward(x)
    dy = rng.standard_normal(y.shape)
    dx = layer.backward(dy)
    for k in range(2):  # each run against its own weights
        w, b = layer.params["W"][k], layer.params["b"][k]
        ref_y = naive_conv(x[k], w, b, stride, padding)
        np.testing.assert_allclose(y[k], ref_y, rtol=1e-12, atol=1e-12)
        ref_dx, ref_dw, ref_db = naive_conv_backward(x[k], w, dy[k], stride, padding)
        np.testing.assert_allclose(dx[k], ref_dx, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(layer.grads["W"][k], ref_dw, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(layer.grads["b"][k], ref_db, rtol=1e-12, atol=1e-12)


def test_float32_stays_float32_and_reused_buffers_do_not_leak() -> None:
    rng = np.random.default_rng(3)
    layer = make(2, 3, 3, 1, 1, dtype=np.float32, runs=1)
    x = rng.standard_normal((1, 4, 6, 6, 2)).astype(np.float32)
    first = layer.forward(x).copy()
    layer.forward(rng.standard_normal((1, 3, 6, 6, 2)).astype(np.float32))  # other batch size
    layer.forward(rng.standard_normal((1, 4, 6, 6, 2)).astype(np.float32))  # same, reuses
    y = layer.forward(x)
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == np.float32
    assert all(g.dtype == np.float32 for g in layer.grads.values())
    np.testing.assert_array_equal(y, first)
    w64, b64 = layer.params["W"][0].astype(np.float64), layer.params["b"][0].astype(np.float64)
    ref = naive_conv(x[0].astype(np.float64), w64, b64, 1, 1)
    np.testing.assert_allclose(y[0], ref, atol=1e-5)


def test_select_keeps_runs_and_their_views() -> None:
    layer = make(2, 3, 3, 1, 0, runs=3)
    w2 = layer.params["W"][2].copy()
    layer.select(np.array([2]))
    np.testing.assert_array_equal(layer.params["W"][0], w2)
    layer.params["W"] *= 0  # the optimizer's in-place update must land in the matmul operand
    y = layer.forward(np.ones((1, 1, 4, 4, 2)))
    np.testing.assert_array_equal(y, np.broadcast_to(layer.params["b"][0], y.shape))


def test_col2im_is_the_adjoint_of_im2col() -> None:
    # <im2col(x), c> == <x, col2im(c)> for every x, c: what makes conv backward exact.
    rng = np.random.default_rng(4)
    for kernel, stride, padding in COMBOS:
        x = rng.standard_normal((2, 7, 6, 3))
        patches = im2col(x, kernel, stride, padding)  # (N, OH, OW, KH, KW, C)
        c = rng.standard_normal(patches.shape)
        lhs = np.sum(patches * c)
        rhs = np.sum(x * col2im(c, x.shape, stride, padding))
        assert lhs == pytest.approx(rhs, rel=1e-12)


def test_im2col_copies_nothing() -> None:
    x = np.arange(2 * 5 * 5 * 2, dtype=np.float64).reshape(2, 5, 5, 2)
    patches = im2col(x, 3, 2, 0)
    assert patches.shape == (2, 2, 2, 3, 3, 2)
    assert np.shares_memory(patches, x)
    np.testing.assert_array_equal(patches[1, 1, 0], x[1, 2:5, 0:3, :])


def test_init_gets_the_fans_of_a_kernel_and_sets_the_weights() -> None:
    seen = {}
    weights = np.arange(2 * 2 * 3 * 5, dtype=np.float64).reshape(2, 2, 3, 5)

    def spy(shape, fan_in, fan_out, dtype):
        seen.update(shape=shape, fan_in=fan_in, fan_out=fan_out)
        return weights[None].copy()

    layer = Conv2D(3, 5, 2, 1, 0, spy, np.dtype(np.float64))
    assert seen == {"shape": (2, 2, 3, 5), "fan_in": 2 * 2 * 3, "fan_out": 2 * 2 * 5}
    np.testing.assert_array_equal(layer.params["W"], weights[None])
    np.testing.assert_array_equal(layer.params["b"], np.zeros((1, 5)))


def test_a_repeated_batch_shape_allocates_only_the_output() -> None:
    # The padding and patch buffers are reused: a training step allocates nothing input-sized.
    layer = make(3, 2, 3, 1, 1)
    x = np.random.default_rng(5).standard_normal((2, 4, 16, 16, 3))  # padded copy: 62 KB
    layer.forward(x)
    cols = layer.cols
    tracemalloc.start()
    y = layer.forward(x)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert layer.cols is cols
    assert peak <= y.nbytes + 8192, f"{peak} bytes for a {y.nbytes}-byte output"


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "expected"),
    [(7, 3, 2, 1, 4), (6, 3, 2, 1, 3), (5, 2, 2, 0, 2), (8, 3, 1, 0, 6), (4, 5, 1, 0, 0)],
)
def test_output_size_floors_like_pytorch(size, kernel, stride, padding, expected) -> None:
    # floor((size + 2 padding - kernel) / stride) + 1, as torch.nn.Conv2d documents it
    assert output_size(size, kernel, stride, padding) == expected
    if padding == 0:
        assert output_size(size, kernel, stride) == expected
