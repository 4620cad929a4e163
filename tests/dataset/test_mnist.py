"""MNIST and Fashion-MNIST from the four IDX files."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from src.dataset import fashion_mnist as fashion_module
from src.dataset.fashion_mnist import fashion_mnist
from src.dataset.mnist import mnist
from src.errors import DataError
from tests.dataset.files import write_idx, write_mnist

DEBIAN = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(autouse=True)
def no_debian_copy(tmp_path, monkeypatch):
    """Keep the installed Debian copy out of the fast tests."""
    monkeypatch.setattr(fashion_module, "DEBIAN_FASHION", tmp_path / "debian")


@pytest.mark.parametrize("gz", [True, False])
def test_decodes_four_files(tmp_path, gz):
    content = write_mnist(tmp_path / "m", gz=gz)
    data = mnist(path=str(tmp_path / "m"), normalize="none")
    assert data.x_train.shape == (5, 28, 28, 1) and data.x_test.shape == (3, 28, 28, 1)
    np.testing.assert_array_equal(data.x_train[..., 0], content["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(data.y_test, content["t10k-labels-idx1-ubyte"])
    assert data.y_train.dtype == np.int64 and data.n_classes == 10
    assert data.target_accuracy == 0.95


def test_unit_normalization_and_limits(tmp_path):
    images = np.zeros((5, 28, 28), np.uint8)
    images[1, 3, 4] = 255
    write_mnist(tmp_path, train_images_idx3_ubyte=images)
    data = mnist(path=str(tmp_path), limit_train=2, limit_test=1)
    assert data.x_train.shape == (2, 28, 28, 1) and len(data.x_test) == 1
    assert data.x_train[1, 3, 4, 0] == 1.0 and data.x_train.sum() == 1.0


def test_relative_path_is_from_working_directory(tmp_path, monkeypatch):
    write_mnist(tmp_path / "data" / "mnist")
    monkeypatch.chdir(tmp_path)
    assert mnist().x_train.shape == (5, 28, 28, 1)


def test_fashion_falls_back_to_debian_folder(tmp_path, monkeypatch):
    content = write_mnist(tmp_path / "debian")
    data = fashion_mnist(path=str(tmp_path / "absent"))
    np.testing.assert_array_equal(data.y_train, content["train-labels-idx1-ubyte"])
    assert data.target_accuracy == 0.80


def test_fashion_never_completes_a_partial_local_folder(tmp_path):
    write_mnist(tmp_path / "debian")
    local = tmp_path / "local"
    local.mkdir()
    write_idx(local / "train-images-idx3-ubyte.gz", np.zeros((5, 28, 28), np.uint8))
    with pytest.raises(DataError, match=f"train-labels-idx1-ubyte .*in {re.escape(str(local))};"):
        fashion_mnist(path=str(local))


def test_missing_mnist_names_file_folder_and_hint(tmp_path):
    folder = tmp_path / "nope"
    with pytest.raises(DataError) as err:
        mnist(path=str(folder))
    assert str(err.value) == (
        f"train-images-idx3-ubyte (or .gz) not found in {folder} (no such folder); "
        f"download the four files from the MNIST page into {folder}, or set dataset.path"
    )


def test_missing_fashion_lists_both_folders(tmp_path):
    with pytest.raises(DataError) as err:
        fashion_mnist(path=str(tmp_path))
    message = str(err.value)
    assert str(tmp_path / "debian") in message and str(tmp_path) in message
    assert "apt-get install dataset-fashion-mnist" in message


def test_labels_file_in_place_of_images(tmp_path):
    write_mnist(tmp_path, t10k_images_idx3_ubyte=np.zeros(3, np.uint8))
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz: not the expected IDX file"):
        mnist(path=str(tmp_path))


def test_count_mismatch_names_both_files(tmp_path):
    write_mnist(tmp_path, train_labels_idx1_ubyte=np.zeros(4, np.uint8))
    with pytest.raises(DataError) as err:
        mnist(path=str(tmp_path))
    assert str(err.value) == (
        f"{tmp_path}/train-images-idx3-ubyte.gz holds 5 images but "
        f"{tmp_path}/train-labels-idx1-ubyte.gz holds 4 labels; both must come from the same split"
    )


def test_label_out_of_range(tmp_path):
    write_mnist(tmp_path, t10k_labels_idx1_ubyte=np.array([1, 10, 2], np.uint8))
    with pytest.raises(DataError) as err:
        mnist(path=str(tmp_path))
    assert str(err.value) == (
        f"{tmp_path}/t10k-labels-idx1-ubyte.gz: label 10 at index 1 is outside 0..9"
    )


def test_wrong_image_size(tmp_path):
    write_mnist(tmp_path, train_images_idx3_ubyte=np.zeros((5, 32, 32), np.uint8))
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz: images are 32x32, expected"):
        mnist(path=str(tmp_path))


def test_truncated_download(tmp_path):
    write_mnist(tmp_path, gz=False)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match=f"{re.escape(str(path))}: truncated: expected 3920 bytes"):
        mnist(path=str(tmp_path))


@pytest.mark.slow
def test_real_fashion_mnist_from_debian(monkeypatch, tmp_path):
    if not (DEBIAN / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"no Fashion-MNIST in {DEBIAN}: apt-get install dataset-fashion-mnist")
    monkeypatch.setattr(fashion_module, "DEBIAN_FASHION", DEBIAN)
    data = fashion_mnist(path=str(tmp_path / "absent"))
    assert data.x_train.shape == (60000, 28, 28, 1) and data.x_test.shape == (10000, 28, 28, 1)
    assert data.y_train.shape == (60000,) and data.y_test.shape == (10000,)
    assert set(np.unique(data.y_train)) == set(range(10)) == set(np.unique(data.y_test))
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0
    assert np.bincount(data.y_train).tolist() == [6000] * 10
