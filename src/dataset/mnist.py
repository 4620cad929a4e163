"""MNIST from its four official IDX files (plain or .gz), and the reader Fashion-MNIST shares.

Both sets share one format: 28x28 uint8 images and uint8 labels 0-9, 60,000 for training
and 10,000 for testing. A relative `path` is relative to the current working directory.
"""

from __future__ import annotations

from pathlib import Path

from src.arrays import Array
from src.dataset.base import Accuracy, Dataset, Limit, Normalize, check_labels, prepare
from src.dataset.idx import find_files, read_idx
from src.errors import DataError

IMAGES_MAGIC = 0x00000803  # uint8, 3-d (N, 28, 28)
LABELS_MAGIC = 0x00000801  # uint8, 1-d (N,)
FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
SIDE = 28
N_CLASSES = 10


def mnist(
    path: str = "data/mnist",
    normalize: Normalize = "unit",
    limit_train: Limit = None,
    limit_test: Limit = None,
    target_accuracy: Accuracy = 0.95,
) -> Dataset:
    """Handwritten digits as (N, 28, 28, 1) images, the official 60k/10k split.

    Raises:
        DataError: a file is missing, malformed, or disagrees with its partner file.
    """
    hint = f"download the four files from the MNIST page into {path}, or set dataset.path"
    return load_idx_set([Path(path)], hint, normalize, limit_train, limit_test, target_accuracy)


def load_idx_set(
    folders: list[Path],
    hint: str,
    normalize: Normalize,
    limit_train: int | None,
    limit_test: int | None,
    target_accuracy: float,
) -> Dataset:
    """Read the four files from the first of `folders` that has any, then `prepare` them."""
    files = find_files(FILES, [f.absolute() for f in folders], hint)
    x_train, y_train = _read_split(files[0], files[1])
    x_test, y_test = _read_split(files[2], files[3])
    return prepare(
        x_train, y_train, x_test, y_test, N_CLASSES, 255.0,
        normalize, limit_train, limit_test, target_accuracy,
    )  # fmt: skip


def _read_split(images_path: Path, labels_path: Path) -> tuple[Array, Array]:
    """Images (N, 28, 28, 1) and labels (N,), both uint8.

    Raises:
        DataError: malformed files, counts that differ, or a label outside 0-9.
    """
    images = read_idx(images_path, IMAGES_MAGIC)  # (N, H, W)
    labels = read_idx(labels_path, LABELS_MAGIC)  # (N,)
    if images.shape[1:] != (SIDE, SIDE):
        size = "x".join(map(str, images.shape[1:]))
        raise DataError(f"{images_path}: images are {size}, expected {SIDE}x{SIDE}")
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} holds {len(images)} images but {labels_path} holds "
            f"{len(labels)} labels; both must come from the same split"
        )
    check_labels(labels, N_CLASSES, labels_path)
    return images[..., None], labels
