"""Choosing the phase map's rows and columns, and placing cells on them."""

from __future__ import annotations

import pytest

from src.errors import ConfigError
from src.sweep.layout import choose_axes, format_value, sorted_values

SWEPT = ["activation", "optimizer.lr", "trainer.batch_size"]


@pytest.mark.parametrize(
    ("swept", "rows", "cols", "expected"),
    [
        (SWEPT, None, None, ("trainer.batch_size", "optimizer.lr")),
        (["activation", "loss"], None, None, ("activation", "loss")),
        (["optimizer.lr"], None, None, (None, "optimizer.lr")),
        ([], None, None, (None, None)),
        (SWEPT, "activation", None, ("activation", "optimizer.lr")),
        (SWEPT, None, "trainer.batch_size", ("activation", "trainer.batch_size")),
        (SWEPT, "optimizer.lr", "activation", ("optimizer.lr", "activation")),
        (["optimizer.lr", "trainer.seed"], None, None, (None, "optimizer.lr")),  # seeds fold
        (["trainer.seed", "activation", "loss"], None, None, ("activation", "loss")),
        (["optimizer.lr", "trainer.seed"], "trainer.seed", None, ("trainer.seed", "optimizer.lr")),
        (["trainer.seed"], None, None, (None, "trainer.seed")),  # nothing else to show
    ],
)
def test_axes_default_to_batch_size_by_lr(swept, rows, cols, expected):
    assert choose_axes(swept, rows, cols) == expected


def test_an_unswept_axis_is_a_config_error_listing_the_swept_keys():
    message = "rows=loss: not a swept key; swept keys: activation, optimizer.lr, trainer.batch_size"
    with pytest.raises(ConfigError, match=message):
        choose_axes(SWEPT, "loss", None)
    with pytest.raises(ConfigError, match="both optimizer.lr"):
        choose_axes(SWEPT, "optimizer.lr", "optimizer.lr")


def test_values_sort_numerically_then_as_text():
    values = [10, 0.5, 2, 2, "relu", None, "adam"]
    assert sorted_values(values) == [0.5, 2, 10, "adam", "relu", None]
    assert [format_value(v) for v in (1e-4, 1e-5, 16, 0.1, None)] == [
        "0.0001", "1e-05", "16", "0.1", "(unset)",
    ]  # fmt: skip
