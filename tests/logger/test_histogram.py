"""Histograms written as bytes: the buckets of a one-pass reference, protobuf's serialization."""

from __future__ import annotations

import math

import numpy as np
import pytest

from src.logger import wire
from src.logger.records import import_tensorboardx
from src.logger.tensorboard import histogram_value

import_tensorboardx()
from tensorboardX.proto.summary_pb2 import HistogramProto, Summary  # noqa: E402


def reference(values: np.ndarray, bins: int) -> HistogramProto:
    """The histogram as protobuf objects, clipping indices with np.minimum."""
    v = values.reshape(-1).astype(np.float64)
    lo, hi = float(v.min()), float(v.max())
    width = (hi - lo) / bins
    with np.errstate(all="ignore"):
        if 0 < width < math.inf:
            index = np.minimum(((v - lo) / width).astype(np.int64), bins - 1)
            counts = np.bincount(index, minlength=bins)
            limits = lo + width * np.arange(1, bins + 1)
            limits[-1] = hi
        else:
            counts, limits = np.array([v.size]), np.array([hi])
        total, squares = float(np.add.reduce(v)), float(np.dot(v, v))
    return HistogramProto(min=lo, max=hi, num=v.size, sum=total, sum_squares=squares,
                          bucket_limit=limits.tolist(), bucket=counts.tolist())  # fmt: skip


RNG = np.random.default_rng(0)
CASES = {
    "normal": RNG.normal(size=(64, 100)) * 3,
    "relu inputs with zeros": np.maximum(RNG.normal(size=(128, 100)), 0),
    "integers on bucket edges": np.round(RNG.normal(size=500) * 10),
    "all zero": np.zeros(10),
    "all equal": np.full(7, -0.25),
    "negative zero and zero": np.array([-0.0, 0.0]),
    "one value": np.array([3.0]),
    "float64 range overflows": np.array([-1.7e308, 1.7e308]),
    "sum overflows": np.array([1.7e308, 1.7e308, 1.0]),
    "tiny range": np.array([0.0, 5e-324, 1e-323, 3e-323]),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(CASES))
def test_histogram_bytes_equal_the_reference_serialized(case, dtype):
    with np.errstate(over="ignore", under="ignore"):
        values = CASES[case].astype(dtype)
    if not np.isfinite(values).all():  # a float64 range cast to float32: inf, no histogram
        assert histogram_value("w/1.Dense.W", values, 30) is None
        return
    expected = Summary(value=[Summary.Value(tag="w/1.Dense.W", histo=reference(values, 30))])
    assert histogram_value("w/1.Dense.W", values, 30) == expected.SerializeToString()


@pytest.mark.parametrize("values", [np.array([1.0, np.nan]), np.array([np.inf, 0.0]),
                                    np.array([-np.inf]), np.zeros(0)])  # fmt: skip
def test_no_histogram_without_finite_values(values):
    assert histogram_value("h", values, 30) is None


def test_histogram_fields_equal_protobufs_for_zeros_of_both_signs():
    numbers = (-0.0, 0.0, 3.0, 0.0, 1.5)
    limits, counts = np.array([0.0, -0.0, 2.5]), np.array([0, 2, 1])
    histo = HistogramProto(min=-0.0, max=0.0, num=3.0, sum=0.0, sum_squares=1.5,
                           bucket_limit=limits.tolist(), bucket=counts.tolist())  # fmt: skip
    expected = Summary(value=[Summary.Value(tag="t", histo=histo)]).SerializeToString()
    assert wire.histogram("t", numbers, limits, counts) == expected


def histogram(name: str, values: np.ndarray) -> HistogramProto:
    [value] = Summary.FromString(histogram_value(name, values, 30)).value
    assert value.tag == name
    return value.histo


@pytest.mark.parametrize(
    "values",
    [
        np.zeros(10, dtype=np.float32),  # all equal: one bucket
        np.array([-3e38, 0, 3e38], dtype=np.float32),  # a range that overflows float32
        np.array([-1.7e308, 1.7e308]),  # a range that overflows float64
        np.array([1.7e308, 1.7e308, 1.0]),  # a sum that overflows float64
    ],
)
def test_histogram_of_extreme_finite_values_counts_each_once(values):
    histo = histogram("h", values)
    assert sum(histo.bucket) == histo.num == values.size
    assert histo.min == values.min() and histo.max == values.max()
    assert list(histo.bucket_limit) == sorted(histo.bucket_limit)


def test_histogram_buckets_match_numpy():
    values = np.random.default_rng(0).normal(size=(64, 100)).astype(np.float32)
    histo = histogram("h", values)
    expected, edges = np.histogram(values.astype(np.float64), bins=30)
    assert np.abs(np.array(histo.bucket) - expected).sum() <= 2  # rounding at bucket edges
    np.testing.assert_allclose(histo.bucket_limit, edges[1:])
