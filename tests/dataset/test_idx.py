"""IDX reading (plain and gzipped) and data-file lookup."""

from __future__ import annotations

import gzip
import re

import numpy as np
import pytest

from src.dataset.idx import find_file, find_files, read_idx
from src.errors import DataError
from tests.dataset.files import write_idx


@pytest.mark.parametrize("name", ["a-idx3-ubyte", "a-idx3-ubyte.gz"])
@pytest.mark.parametrize(
    "array",
    [
        np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4),
        np.array([[-5, 70000], [2**31 - 1, -(2**31)]], dtype=np.int32),
        np.array([0.5, -1e300, np.pi]),
    ],
)
def test_round_trip_plain_and_gzipped(tmp_path, name, array):
    out = read_idx(write_idx(tmp_path / name, array))
    assert out.dtype == array.dtype and out.dtype.isnative
    np.testing.assert_array_equal(out, array)


def test_known_bytes_decode_big_endian(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(bytes([0, 0, 0x0C, 1, 0, 0, 0, 2, 0, 0, 1, 0, 0xFF, 0xFF, 0xFF, 0xFE]))
    np.testing.assert_array_equal(read_idx(path), [256, -2])


def test_gzip_detected_by_content_not_suffix(tmp_path):
    array = np.arange(6, dtype=np.uint8).reshape(2, 3)
    plain_named_gz = write_idx(tmp_path / "x", array).rename(tmp_path / "x.gz")
    gz_named_plain = tmp_path / "y"
    gz_named_plain.write_bytes(gzip.compress(plain_named_gz.read_bytes()))
    np.testing.assert_array_equal(read_idx(plain_named_gz), array)
    np.testing.assert_array_equal(read_idx(gz_named_plain), array)


def test_expected_magic_mismatch_names_both(tmp_path):
    path = write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros(3, np.uint8))
    with pytest.raises(DataError) as err:
        read_idx(path, magic=0x803)
    message = str(err.value)
    assert str(path) in message
    assert "magic 00 00 08 01 (uint8, 1-d), expected 00 00 08 03 (uint8, 3-d)" in message


@pytest.mark.parametrize(
    ("content", "shown"),
    [(b"PK\x03\x04rest", "50 4b 03 04"), (b"\x00\x00\x07\x01", "00 00 07 01"), (b"", "empty")],
)
def test_not_idx_names_file_and_magic(tmp_path, content, shown):
    path = tmp_path / "data.idx"
    path.write_bytes(content)
    with pytest.raises(
        DataError, match=f"{re.escape(str(path))}: not the expected IDX file: magic .*{shown}"
    ):
        read_idx(path)


def test_truncated_payload(tmp_path):
    path = write_idx(tmp_path / "img", np.zeros((3, 28, 28), np.uint8))
    path.write_bytes(path.read_bytes()[:-352])
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert str(err.value) == (
        f"{path}: truncated: expected 2352 bytes of pixel data for shape (3, 28, 28), found 2000"
    )


def test_truncated_header_and_trailing_bytes(tmp_path):
    path = write_idx(tmp_path / "lab", np.zeros(4, np.uint8))
    path.write_bytes(path.read_bytes()[:6])
    with pytest.raises(DataError, match="truncated: the header needs 8 bytes, found 6"):
        read_idx(path)
    path = write_idx(tmp_path / "lab", np.zeros(4, np.uint8))
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(DataError, match="trailing bytes: expected 4 bytes of label data"):
        read_idx(path)


@pytest.mark.parametrize("cut", ["truncate", "flip", "crc"])
def test_corrupt_gzip(tmp_path, cut):
    path = write_idx(tmp_path / "img.gz", np.arange(4000, dtype=np.int32))
    blob = path.read_bytes()
    broken = {
        "truncate": blob[: len(blob) // 2],
        "flip": blob[:20] + bytes([blob[20] ^ 0xFF]) + blob[21:],
        "crc": blob[:-8] + bytes(8),
    }[cut]
    path.write_bytes(broken)
    with pytest.raises(DataError, match=f"{re.escape(str(path))}: corrupt gzip stream"):
        read_idx(path)


def test_unreadable_path(tmp_path):
    with pytest.raises(DataError, match=f"{re.escape(str(tmp_path))}: cannot read"):
        read_idx(tmp_path)


def test_find_file_prefers_plain_then_gz_then_later_folders(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (second / "f").touch()
    assert find_file("f", [first, second], "hint") == second / "f"
    (first / "f.gz").touch()
    assert find_file("f", [first, second], "hint") == first / "f.gz"
    (first / "f").touch()
    assert find_file("f", [first, second], "hint") == first / "f"


def test_find_file_error_lists_folders_and_hint(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(DataError) as err:
        find_file("f", [tmp_path, missing], "get it from X")
    assert str(err.value) == (
        f"f (or .gz) not found in {tmp_path}, {missing} (no such folder); get it from X"
    )


def test_find_files_never_mixes_folders(tmp_path):
    partial, full = tmp_path / "partial", tmp_path / "full"
    partial.mkdir()
    full.mkdir()
    (partial / "a").touch()
    for name in ("a", "b"):
        (full / name).touch()
    with pytest.raises(
        DataError, match=f"b \\(or .gz\\) not found in {re.escape(str(partial))}; hint"
    ):
        find_files(["a", "b"], [partial, full], "hint")
    assert find_files(["a", "b"], [tmp_path / "empty", full], "h") == [full / "a", full / "b"]
