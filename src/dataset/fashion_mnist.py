"""Fashion-MNIST: Zalando's clothing images in MNIST's IDX format, read by the same reader."""

from __future__ import annotations

from pathlib import Path

from src.dataset.base import Accuracy, Dataset, Limit, Normalize
from src.dataset.mnist import load_idx_set

# Debian's dataset-fashion-mnist package installs the four .gz files here.
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


def fashion_mnist(
    path: str = "data/fashion-mnist",
    normalize: Normalize = "unit",
    limit_train: Limit = None,
    limit_test: Limit = None,
    target_accuracy: Accuracy = 0.80,
) -> Dataset:
    """Zalando's clothing images as (N, 28, 28, 1); falls back to Debian's copy.

    Raises:
        DataError: a file is missing, malformed, or disagrees with its partner file.
    """
    hint = (
        f"apt-get install dataset-fashion-mnist, or put the four IDX files into {path}, "
        "or set dataset.path"
    )
    return load_idx_set(
        [Path(path), DEBIAN_FASHION], hint, normalize, limit_train, limit_test, target_accuracy
    )
