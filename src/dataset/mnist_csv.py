"""MNIST as two CSV tables: one image per row, the label then 784 pixel values 0-255.

Common copies (e.g. mnist_train.csv / mnist_test.csv) come with or without a header row. A
relative file name is relative to the current working directory.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from src.arrays import Array
from src.dataset.base import Accuracy, Dataset, Limit, Normalize, prepare
from src.dataset.idx import find_file
from src.errors import DataError

SIDE = 28
COLUMNS = 1 + SIDE * SIDE
N_CLASSES = 10
CHUNK = 1000  # lines numpy parses at once while looking for a malformed one


def mnist_csv(
    train_file: str = "data/mnist_train.csv",
    test_file: str = "data/mnist_test.csv",
    normalize: Normalize = "unit",
    limit_train: Limit = None,
    limit_test: Limit = None,
    target_accuracy: Accuracy = 0.95,
) -> Dataset:
    """Handwritten digits as (N, 28, 28, 1) images from CSV tables; rows past a limit are unread.

    Raises:
        DataError: a file is missing or a line is malformed (the message names file and line).
    """
    x_train, y_train = _read_csv(train_file, "train_file", limit_train)
    x_test, y_test = _read_csv(test_file, "test_file", limit_test)
    return prepare(
        x_train, y_train, x_test, y_test, N_CLASSES, 255.0,
        normalize, limit_train, limit_test, target_accuracy,
    )  # fmt: skip


def _read_csv(file: str, key: str, limit: int | None) -> tuple[Array, Array]:
    """Images (N, 28, 28, 1) uint8 and labels (N,) int64 from the first `limit` rows.

    Raises:
        DataError: a missing file, or the first malformed line (by number) and what is wrong.
    """
    path = Path(file).absolute()
    hint = f"save an MNIST CSV table (label, then 784 pixels per row) there, or set dataset.{key}"
    find_file(path.name, [path.parent], hint, suffixes=("",))
    try:
        skip = 1 if _has_header(path) else 0
        table = _parse(path, skip, limit)
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror or err})") from None
    if table is None:
        raise DataError(_diagnose(path, skip))
    images = table[:, 1:].astype(np.uint8).reshape(-1, SIDE, SIDE, 1)  # (N, 28, 28, 1)
    return images, table[:, 0].astype(np.int64)


def _parse(source: Path | list[str], skip: int = 0, limit: int | None = None) -> Array | None:
    """The (N, 785) int16 table, or None when a value, row length or range is wrong."""
    try:
        with warnings.catch_warnings():
            # An empty table warns; _diagnose reports it as an error instead.
            warnings.simplefilter("ignore", UserWarning)
            table = np.loadtxt(
                source, delimiter=",", dtype=np.int16, skiprows=skip, max_rows=limit,
                ndmin=2, encoding="utf-8-sig",
            )  # fmt: skip
    except ValueError:
        return None
    return table if table.shape[1] == COLUMNS and _in_range(table) else None


def _has_header(path: Path) -> bool:
    """Whether line 1 is a header: its label field is not a number (e.g. "label,1x1,...").

    Judged on the label alone, so a data row with one corrupt pixel is reported, not skipped.
    """
    with path.open(encoding="utf-8-sig", errors="replace") as f:
        first = f.readline()
    return first.strip() != "" and not _is_number(first.split(",")[0])


def _in_range(table: Array) -> bool:
    labels, pixels = table[:, 0], table[:, 1:]  # (N,), (N, 784)
    if len(table) == 0:
        return False
    labels_ok = labels.min() >= 0 and labels.max() < N_CLASSES
    pixels_ok = pixels.min() >= 0 and pixels.max() <= 255
    return bool(labels_ok and pixels_ok)


def _diagnose(path: Path, skip: int) -> str:
    """A message naming the first malformed line; run only after the fast load failed."""
    with path.open(encoding="utf-8-sig", errors="replace") as f:
        rows = [(n, line) for n, line in enumerate(f, start=1) if n > skip and line.strip()]
    if not rows:
        return f"{path}: no data rows; expected a label then 784 pixel values per row"
    # numpy vets whole chunks fast; only a failing chunk is checked line by line in Python.
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        if _parse([line for _, line in chunk]) is not None:
            continue
        for number, line in chunk:
            problem = _line_problem(line)
            if problem:
                return f"{path}, line {number}: {problem}"
    return f"{path}: not an MNIST CSV table (a label then 784 integer pixel values per row)"


def _line_problem(line: str) -> str | None:
    fields = line.split(",")
    if len(fields) != COLUMNS:
        return f"{len(fields)} values, expected {COLUMNS} (a label, then 784 pixels)"
    for column, field in enumerate(fields, start=1):
        what, high = ("label", N_CLASSES - 1) if column == 1 else ("pixel", 255)
        problem = _value_problem(field.strip(), high)
        if problem:
            return f"column {column} ({what}): {problem}"
    return None


def _value_problem(text: str, high: int) -> str | None:
    if not text:
        return "empty value"
    try:
        value = int(text)
    except ValueError:
        if text.lower() == "nan":
            return "NaN"
        return f"{text!r} is {'not an integer' if _is_number(text) else 'not a number'}"
    return None if 0 <= value <= high else f"{value} is outside 0..{high}"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
