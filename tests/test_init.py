from __future__ import annotations

import math

import numpy as np
import pytest

from src import init

SHAPE = (400, 300)  # fan_in 400, fan_out 300


def draw(fn, **kwargs):
    rng = np.random.default_rng(0)
    return fn(shape=SHAPE, fan_in=400, fan_out=300, rng=rng, dtype=np.dtype(np.float32), **kwargs)


@pytest.mark.parametrize(
    ("fn", "kwargs", "std"),
    [
        (init.normal, {"std": 0.01}, 0.01),
        (init.uniform, {"low": -0.3, "high": 0.3}, 0.6 / math.sqrt(12)),
        (init.xavier_uniform, {}, math.sqrt(6 / 700) / math.sqrt(3)),
        (init.xavier_normal, {}, math.sqrt(2 / 700)),
        (init.he_normal, {}, math.sqrt(2 / 400)),
        (init.he_uniform, {}, math.sqrt(6 / 400) / math.sqrt(3)),
    ],
)
def test_init_scale_shape_and_dtype(fn, kwargs, std):
    w = draw(fn, **kwargs)
    assert w.shape == SHAPE and w.dtype == np.float32
    assert w.std() == pytest.approx(std, rel=0.02)
    assert abs(w.mean()) < 0.02 * std * 10


def test_uniform_with_nonnegative_low_is_all_positive():
    assert (draw(init.uniform, low=0.0, high=0.1) >= 0).all()
