"""CIFAR-10 from the official "python version" folder (cifar-10-batches-py).

Each of data_batch_1..5 and test_batch is a pickled dict: b"data" a uint8 array (N, 3072)
whose rows hold the 1024 red, then 1024 green, then 1024 blue values of a 32x32 image in
row-major order, and b"labels" a list of N ints 0-9. A relative `path` is relative to the
current working directory.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from src.arrays import Array
from src.dataset.base import Accuracy, Dataset, Limit, Normalize, check_labels, prepare
from src.dataset.idx import find_files
from src.errors import DataError

try:
    from numpy._core.multiarray import _reconstruct
except ImportError:  # numpy < 2
    from numpy.core.multiarray import _reconstruct

TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
SIDE = 32
ROW = 3 * SIDE * SIDE
N_CLASSES = 10

# Pickle runs whatever callable a file names. The batches are the user's own files, loaded the
# way the official loader does, but only the globals a numpy array needs may be looked up, so
# a tampered file fails instead of running code. Files written with numpy < 2 (the official
# ones) name numpy.core; numpy 2 names numpy._core: both map to the same function here.
ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


def cifar10(
    path: str = "data/cifar-10-batches-py",
    normalize: Normalize = "unit",
    limit_train: Limit = None,
    limit_test: Limit = None,
    target_accuracy: Accuracy = 0.40,
) -> Dataset:
    """32x32 colour images of 10 classes as (N, 32, 32, 3), the official 50k/10k split.

    Raises:
        DataError: a batch is missing, refused, or not in the official layout.
    """
    hint = f"download and extract 'CIFAR-10 python version' into {path}, or set dataset.path"
    files = find_files([*TRAIN_BATCHES, TEST_BATCH], [Path(path).absolute()], hint, ("",))
    train = [_read_batch(file) for file in files[:-1]]
    x_test, y_test = _read_batch(files[-1])
    x_train = np.concatenate([x for x, _ in train])  # (50000, 32, 32, 3)
    y_train = np.concatenate([y for _, y in train])
    return prepare(
        x_train, y_train, x_test, y_test, N_CLASSES, 255.0,
        normalize, limit_train, limit_test, target_accuracy,
    )  # fmt: skip


class _BatchUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals in ALLOWED."""

    def find_class(self, module: str, name: str) -> Any:
        found = ALLOWED.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"refused to load global {module}.{name}")
        return found


def _read_batch(path: Path) -> tuple[Array, Array]:
    """Images (N, 32, 32, 3) uint8 and labels (N,) int64 from one batch file.

    Raises:
        DataError: the file cannot be unpickled or lacks the expected keys, shapes or labels.
    """
    batch = _unpickle(path)
    data, labels = batch.get(b"data"), batch.get(b"labels")
    if data is None or labels is None:
        keys = ", ".join(map(repr, batch)) or "none"
        raise DataError(
            f"{path}: not a CIFAR-10 batch: needs keys b'data' and b'labels', has {keys}"
        )
    images = _decode(path, data)
    return images, _labels(path, labels, len(images))


def _unpickle(path: Path) -> dict[Any, Any]:
    # A corrupt or foreign pickle can fail with almost any exception type, hence the broad catch.
    try:
        with path.open("rb") as f:
            batch = _BatchUnpickler(f, encoding="bytes").load()
    except Exception as err:
        raise DataError(f"{path}: cannot unpickle a CIFAR-10 batch ({err})") from None
    if not isinstance(batch, dict):
        raise DataError(f"{path}: not a CIFAR-10 batch: holds a {type(batch).__name__}, not a dict")
    return batch


def _decode(path: Path, data: Any) -> Array:
    """(N, 3072) rows of R, G, B planes -> (N, 32, 32, 3) channel-last images."""
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2:
        raise DataError(f"{path}: b'data' must be a 2-d uint8 numpy array, found {_kind(data)}")
    if data.shape[1] != ROW:
        raise DataError(
            f"{path}: rows of b'data' hold {data.shape[1]} values, expected {ROW} "
            "(1024 red, 1024 green, 1024 blue)"
        )
    planes = data.reshape(-1, 3, SIDE, SIDE)  # (N, C, H, W)
    # Contiguous, so that later copies (float casts, im2col) walk memory in order.
    return np.ascontiguousarray(planes.transpose(0, 2, 3, 1))  # (N, H, W, C)


def _labels(path: Path, labels: Any, n: int) -> Array:
    """The labels as int64 (N,), checked against the image count and 0-9."""
    try:
        array = np.asarray(labels) if isinstance(labels, (list, np.ndarray)) else None
    except ValueError:  # ragged nested lists
        array = None
    if array is None or array.dtype.kind not in "iu" or array.ndim != 1:
        raise DataError(f"{path}: b'labels' must be a list of ints, found {_kind(labels)}")
    if len(array) != n:
        raise DataError(f"{path}: {n} images in b'data' but {len(array)} labels in b'labels'")
    check_labels(array, N_CLASSES, path)
    return array.astype(np.int64)


def _kind(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    return f"a {type(value).__name__}"
