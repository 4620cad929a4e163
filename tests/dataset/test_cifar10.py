"""CIFAR-10 from batches pickled the way the official (Python 2) files are."""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

from src.dataset.cifar10 import cifar10
from src.errors import DataError
from tests.dataset.files import cifar_batch_bytes, cifar_rows, write_cifar


def naive_decode(row: np.ndarray) -> np.ndarray:
    """Reference: pixel (r, c) of channel ch is value 1024 * ch + 32 * r + c of the row."""
    image = np.zeros((32, 32, 3), np.uint8)
    for r in range(32):
        for c in range(32):
            for ch in range(3):
                image[r, c, ch] = row[1024 * ch + 32 * r + c]
    return image


@pytest.fixture
def folder(tmp_path) -> Path:
    write_cifar(tmp_path / "cifar-10-batches-py")
    return tmp_path / "cifar-10-batches-py"


def test_decodes_channel_planes_to_nhwc(folder):
    data = cifar10(path=str(folder), normalize="none")
    assert data.x_train.shape == (10, 32, 32, 3) and data.x_test.shape == (3, 32, 32, 3)
    x = data.x_test  # rows shifted by 100 + n: red k, green k // 4, blue 255 - k (mod 256)
    assert x[0, 0, 0, 0] == 100 and x[0, 0, 1, 0] == 101 and x[0, 1, 0, 0] == (100 + 32) % 256
    assert x[2, 31, 31, 0] == (102 + 1023) % 256
    assert x[1, 5, 17, 1] == (101 + (5 * 32 + 17) // 4) % 256
    assert x[0, 31, 0, 2] == (100 + 255 - (31 * 32) % 256) % 256
    for n in range(3):
        np.testing.assert_array_equal(x[n], naive_decode(cifar_rows(3, 100)[n]))


def test_batches_in_order_with_labels(folder):
    data = cifar10(path=str(folder), normalize="none")
    # Batch b starts with the row shifted by 10 * b and labels b, b + 1.
    assert data.x_train[::2, 0, 0, 0].tolist() == [10, 20, 30, 40, 50]
    assert data.y_train.tolist() == [1, 2, 2, 3, 3, 4, 4, 5, 5, 6]
    assert data.y_test.tolist() == [0, 1, 2] and data.y_train.dtype == np.int64


def test_unit_normalization_and_limits(folder):
    data = cifar10(path=str(folder), limit_train=3, limit_test=1)
    assert data.x_train.shape == (3, 32, 32, 3) and data.x_test.shape == (1, 32, 32, 3)
    assert data.x_train.max() == 1.0 and data.x_train.min() == 0.0
    assert data.target_accuracy == 0.40 and data.n_classes == 10


def test_reads_numpy2_module_name(folder):
    batch = {b"data": cifar_rows(3, 100), b"labels": [0, 1, 2]}
    (folder / "test_batch").write_bytes(cifar_batch_bytes(batch, "numpy._core.multiarray"))
    assert cifar10(path=str(folder)).x_test.shape == (3, 32, 32, 3)


def test_official_loader_reads_our_files(folder):
    with (folder / "data_batch_1").open("rb") as f:
        batch = pickle.load(f, encoding="bytes")
    assert set(batch) == {b"batch_label", b"labels", b"data", b"filenames"}
    assert batch[b"data"].dtype == np.uint8 and batch[b"data"].shape == (2, 3072)


def test_missing_folder(tmp_path):
    path = tmp_path / "cifar"
    with pytest.raises(DataError) as err:
        cifar10(path=str(path))
    assert str(err.value) == (
        f"data_batch_1 not found in {path} (no such folder); download and extract "
        f"'CIFAR-10 python version' into {path}, or set dataset.path"
    )


def test_missing_test_batch(folder):
    (folder / "test_batch").unlink()
    with pytest.raises(DataError, match=f"test_batch not found in {re.escape(str(folder))};"):
        cifar10(path=str(folder))


def test_refuses_code_in_pickle(folder, tmp_path):
    marker = tmp_path / "ran"

    class Gadget:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    (folder / "data_batch_3").write_bytes(cifar_batch_bytes({b"data": Gadget()}))
    with pytest.raises(DataError) as err:
        cifar10(path=str(folder))
    assert str(err.value) == (
        f"{folder}/data_batch_3: cannot unpickle a CIFAR-10 batch "
        f"(refused to load global {os.mkdir.__module__}.mkdir)"
    )
    assert not marker.exists()


@pytest.mark.parametrize("content", [b"garbage", b"", pickle.dumps({b"data": 1})[:-5]])
def test_not_a_pickle(folder, content):
    (folder / "data_batch_2").write_bytes(content)
    with pytest.raises(DataError, match="data_batch_2: cannot unpickle a CIFAR-10 batch"):
        cifar10(path=str(folder))


@pytest.mark.parametrize(
    ("batch", "problem"),
    [
        ([1, 2], "holds a list, not a dict"),
        ({b"labels": [1]}, "needs keys b'data' and b'labels', has b'labels'"),
        ({b"data": [[1, 2]], b"labels": [1]}, "b'data' must be a 2-d uint8 numpy array"),
        ({b"data": np.zeros((1, 3072)), b"labels": [1]}, "found a float64 array of shape"),
        ({b"data": np.zeros((1, 3000), np.uint8), b"labels": [1]}, "hold 3000 values, expected"),
        ({b"data": cifar_rows(2), b"labels": [1]}, "2 images in b'data' but 1 labels in b'labels'"),
        ({b"data": cifar_rows(2), b"labels": [1, b"x"]}, "b'labels' must be a list of ints"),
        ({b"data": cifar_rows(2), b"labels": [3, 10]}, "label 10 at index 1 is outside 0..9"),
        ({b"data": cifar_rows(2), b"labels": [-1, 0]}, "label -1 at index 0 is outside 0..9"),
    ],
)
def test_malformed_batch_names_file(folder, batch, problem):
    path = folder / "test_batch"
    path.write_bytes(cifar_batch_bytes(batch))
    with pytest.raises(DataError) as err:
        cifar10(path=str(folder))
    assert str(err.value).startswith(f"{path}: ")
    assert problem in str(err.value)


def test_python3_str_keys_are_named(folder):
    path = folder / "test_batch"
    path.write_bytes(pickle.dumps({"data": cifar_rows(1), "labels": [1]}, protocol=4))
    with pytest.raises(DataError) as err:
        cifar10(path=str(folder))
    assert str(err.value) == (
        f"{path}: not a CIFAR-10 batch: needs keys b'data' and b'labels', has 'data', 'labels'"
    )
