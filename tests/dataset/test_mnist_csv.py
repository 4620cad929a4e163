"""MNIST from CSV tables, with and without a header row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from src.dataset.mnist_csv import mnist_csv
from src.errors import DataError

HEADER = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))


def rows(n: int, offset: int = 0) -> list[list[int]]:
    """Row i: label (i + offset) % 10, pixel k = (k + i + offset) % 256."""
    return [[(i + offset) % 10] + [(k + i + offset) % 256 for k in range(784)] for i in range(n)]


def write_csv(path: Path, table: list[list[object]], header: str | None = None) -> Path:
    lines = ([header] if header else []) + [",".join(map(str, row)) for row in table]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def files(tmp_path) -> tuple[Path, Path]:
    return write_csv(tmp_path / "train.csv", rows(4)), write_csv(tmp_path / "test.csv", rows(2, 7))


def load(train: Path, test: Path, **kw: object):
    return mnist_csv(train_file=str(train), test_file=str(test), **kw)


@pytest.mark.parametrize("header", [None, HEADER, "\ufefflabel,pixel0"])
def test_decodes_with_or_without_header(tmp_path, files, header):
    train = write_csv(tmp_path / "h.csv", rows(4), header)
    data = load(train, files[1], normalize="none")
    assert data.x_train.shape == (4, 28, 28, 1) and data.x_test.shape == (2, 28, 28, 1)
    assert data.y_train.tolist() == [0, 1, 2, 3] and data.y_test.tolist() == [7, 8]
    assert data.x_train[2, 0, 5, 0] == 7 and data.x_train[3, 1, 0, 0] == 31
    assert data.x_test[1, 27, 27, 0] == (783 + 8) % 256
    assert data.y_train.dtype == np.int64 and data.target_accuracy == 0.95


def test_unit_normalization(files):
    data = load(*files)
    assert data.x_train.max() == 1.0 and data.x_train.min() == 0.0


def test_limit_reads_only_the_rows_used(tmp_path, files):
    table = rows(3) + [["x"] * 785]
    data = load(write_csv(tmp_path / "t.csv", table, HEADER), files[1], limit_train=3)
    assert data.x_train.shape == (3, 28, 28, 1)


def test_missing_file_names_path_and_key(tmp_path, files):
    missing = tmp_path / "data" / "mnist_test.csv"
    with pytest.raises(DataError) as err:
        load(files[0], missing)
    assert str(err.value) == (
        f"mnist_test.csv not found in {missing.parent} (no such folder); save an MNIST CSV table "
        "(label, then 784 pixels per row) there, or set dataset.test_file"
    )


def bad(row: int, column: int, value: object) -> list[list[object]]:
    table: list[list[object]] = [list(r) for r in rows(4)]
    table[row][column] = value
    return table


@pytest.mark.parametrize(
    ("table", "header", "problem"),
    [
        (rows(2) + [rows(1)[0][:-1]], None, "line 3: 784 values, expected 785 (a label"),
        (rows(2) + [rows(1)[0] + [0]], HEADER, "line 4: 786 values, expected 785"),
        (bad(1, 5, "abc"), None, "line 2: column 6 (pixel): 'abc' is not a number"),
        (bad(3, 9, "4.5"), HEADER, "line 5: column 10 (pixel): '4.5' is not an integer"),
        (bad(0, 2, "nan"), None, "line 1: column 3 (pixel): NaN"),
        (bad(2, 784, ""), None, "line 3: column 785 (pixel): empty value"),
        (bad(1, 0, 10), HEADER, "line 3: column 1 (label): 10 is outside 0..9"),
        (bad(0, 0, -1), None, "line 1: column 1 (label): -1 is outside 0..9"),
        (bad(3, 100, 256), None, "line 4: column 101 (pixel): 256 is outside 0..255"),
        (bad(3, 100, 99999), None, "line 4: column 101 (pixel): 99999 is outside 0..255"),
        (bad(2, 1, -3), HEADER, "line 4: column 2 (pixel): -3 is outside 0..255"),
        ([], None, "no data rows"),
        ([], HEADER, "no data rows"),
    ],
)
def test_malformed_table_names_file_and_line(tmp_path, files, table, header, problem):
    path = write_csv(tmp_path / "bad.csv", table, header)
    with pytest.raises(DataError) as err:
        load(files[0], path)
    assert str(err.value).startswith(f"{path}")
    assert problem in str(err.value)


def test_blank_lines_keep_line_numbers(tmp_path, files):
    path = tmp_path / "gaps.csv"
    good = ",".join(map(str, rows(1)[0]))
    path.write_text(f"{good}\n\n{good}\n{good},7\n")
    with pytest.raises(DataError, match="gaps.csv, line 4: 786 values"):
        load(files[0], path)
    path.write_text(f"{good}\n\n{good}\n")
    assert load(files[0], path).x_test.shape == (2, 28, 28, 1)
