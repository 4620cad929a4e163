"""The embedded default: 1,797 real 8x8 handwritten digits (0-16 gray levels).

The file ships inside scikit-learn (sklearn/datasets/data/digits.csv.gz, from UCI). It is read
directly, without importing sklearn: that import alone costs ~1.5 s per sweep worker.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np

from src.arrays import Array
from src.dataset.base import Accuracy, Dataset, Limit, Normalize, prepare
from src.errors import DataError

SPLIT_SEED = 0  # fixed: every run sees the same 80/20 split
TEST_SHARE = 0.2


def digits(
    normalize: Normalize = "unit",
    limit_train: Limit = None,
    limit_test: Limit = None,
    target_accuracy: Accuracy = 0.90,
) -> Dataset:
    """Digits as (N, 8, 8, 1) images, split 80/20 with a fixed seed."""
    x, y = _read()
    order = np.random.default_rng(SPLIT_SEED).permutation(len(y))
    n_test = int(round(TEST_SHARE * len(y)))
    test, train = order[:n_test], order[n_test:]
    return prepare(
        x[train], y[train], x[test], y[test], 10, 16.0,
        normalize, limit_train, limit_test, target_accuracy,
    )  # fmt: skip


@functools.cache
def _read() -> tuple[Array, Array]:
    """Pixels (1797, 8, 8, 1) uint8 and labels (1797,), cached per process."""
    path = _csv_path()
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: cannot read the digits table ({err})") from None
    return table[:, :64].reshape(-1, 8, 8, 1), table[:, 64]


def _csv_path() -> Path:
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            "dataset=digits needs scikit-learn's embedded copy: pip install scikit-learn"
        )
    return Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
