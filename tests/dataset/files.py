"""Writers for tiny data files in the exact official formats, and the arrays they hold."""

from __future__ import annotations

import gzip
import io
import pickle
import struct
from pathlib import Path

import numpy as np

from src.dataset.mnist import FILES

IDX_TYPES = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C, np.dtype(np.float64): 0x0E}


def write_idx(path: Path, array: np.ndarray) -> Path:
    """An IDX file (gzipped when `path` ends in .gz): magic, big-endian sizes, big-endian data."""
    header = bytes([0, 0, IDX_TYPES[array.dtype], array.ndim])
    header += struct.pack(f">{array.ndim}I", *array.shape)
    blob = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.write_bytes(gzip.compress(blob) if path.suffix == ".gz" else blob)
    return path


def mnist_arrays(n_train: int = 5, n_test: int = 3) -> dict[str, np.ndarray]:
    """Distinct images and labels for each of the four MNIST files, keyed by file name."""
    rng = np.random.default_rng(0)
    sizes = [n_train, n_train, n_test, n_test]
    return {
        name: rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        if "images" in name
        else rng.integers(0, 10, n, dtype=np.uint8)
        for name, n in zip(FILES, sizes)
    }


def write_mnist(folder: Path, gz: bool = True, **arrays: np.ndarray) -> dict[str, np.ndarray]:
    """The four IDX files in `folder`; `arrays` replaces some by file name (with - as _)."""
    folder.mkdir(parents=True, exist_ok=True)
    content = mnist_arrays()
    content.update({name.replace("_", "-"): a for name, a in arrays.items()})
    for name, array in content.items():
        write_idx(folder / (f"{name}.gz" if gz else name), array)
    return content


class Py2Pickler(pickle._Pickler):
    """Pickles like Python 2's cPickle, which wrote the official CIFAR-10 batches.

    Python 2 `str` (every key, the dtype code and the raw array bytes) is BINSTRING, which
    `encoding="bytes"` loads back as bytes; Python 3 would write `_codecs.encode` calls.
    """

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj: bytes | str) -> None:
        data = obj if isinstance(obj, bytes) else obj.encode("latin-1")
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str
    dispatch[str] = save_py2_str


def cifar_batch_bytes(batch: dict, numpy_module: str = "numpy.core.multiarray") -> bytes:
    """A pickled batch as the official files hold it (numpy < 2 named numpy.core)."""
    buffer = io.BytesIO()
    Py2Pickler(buffer, protocol=2).dump(batch)
    # GLOBAL names are newline-terminated text, so renaming the module keeps the stream valid.
    return buffer.getvalue().replace(b"cnumpy._core.multiarray\n", f"c{numpy_module}\n".encode())


def cifar_rows(n: int, offset: int = 0) -> np.ndarray:
    """(n, 3072) uint8 rows: red k % 256, green k // 4, blue 255 - k % 256, plus row + offset."""
    k = np.arange(1024)
    planes = np.stack([k % 256, k // 4, 255 - k % 256])  # (3, 1024)
    shift = (np.arange(n) + offset)[:, None, None]  # (n, 1, 1)
    return ((planes[None] + shift) % 256).reshape(n, 3072).astype(np.uint8)


def write_cifar_batch(path: Path, data: np.ndarray, labels: list[int]) -> Path:
    """One batch dict with the four keys of the official files."""
    batch = {
        b"batch_label": f"batch {path.name}".encode(),
        b"labels": labels,
        b"data": data,
        b"filenames": [f"image_{i:06d}.png".encode() for i in range(len(data))],
    }
    path.write_bytes(cifar_batch_bytes(batch))
    return path


def write_cifar(folder: Path, n_train: int = 2, n_test: int = 3) -> None:
    """All six batches; batch b holds rows shifted by 10 * b, test_batch by 100."""
    folder.mkdir(parents=True, exist_ok=True)
    for b in range(1, 6):
        labels = [(b + i) % 10 for i in range(n_train)]
        write_cifar_batch(folder / f"data_batch_{b}", cifar_rows(n_train, 10 * b), labels)
    labels = [i % 10 for i in range(n_test)]
    write_cifar_batch(folder / "test_batch", cifar_rows(n_test, 100), labels)
