"""Read IDX files (the MNIST family's format), plain or gzipped, and find data files on disk.

An IDX file is a 4-byte magic 0x00 0x00 TYPE NDIM, then NDIM big-endian uint32 sizes, then
the values in row-major order, big-endian.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from src.arrays import Array
from src.errors import DataError

TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
GZIP_MAGIC = b"\x1f\x8b"
GZ = ("", ".gz")


def read_idx(path: str | Path, magic: int | None = None) -> Array:
    """The array an IDX file holds, in native byte order; `magic` pins type and rank.

    Raises:
        DataError: unreadable file, corrupt gzip stream, bad magic, or a payload whose
            length does not match the sizes in the header.
    """
    path = Path(path)
    data = _read_bytes(path)
    dtype, ndim = _parse_magic(path, data, magic)
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: truncated: the header needs {header} bytes, found {len(data)}")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    expected = math.prod(dims) * dtype.itemsize
    found = len(data) - header
    if found != expected:
        kind = "pixel data" if ndim > 1 else "label data"
        problem = "truncated" if found < expected else "trailing bytes"
        raise DataError(
            f"{path}: {problem}: expected {expected} bytes of {kind} for shape {dims}, "
            f"found {found}"
        )
    array = np.frombuffer(data, dtype, count=math.prod(dims), offset=header)
    return array.reshape(dims).astype(dtype.newbyteorder("="), copy=False)


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when they start with the gzip magic."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror or err})") from None
    # Sniff rather than trust the suffix: browsers often gunzip downloads but keep ".gz".
    if not data.startswith(GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"{path}: corrupt gzip stream ({err}); download the file again") from None


def _parse_magic(path: Path, data: bytes, magic: int | None) -> tuple[np.dtype, int]:
    """The value type and rank the magic announces, or DataError when it is not IDX."""
    found = int.from_bytes(data[:4], "big")
    type_code, ndim = (found >> 8) & 0xFF, found & 0xFF
    is_idx = len(data) >= 4 and found >> 16 == 0 and type_code in TYPES and ndim > 0
    if not is_idx or (magic is not None and found != magic):
        wanted = _explain(magic) if magic is not None else "00 00 TT DD (TT a type code, DD > 0)"
        shown = _explain(found) if is_idx else data[:4].hex(" ") or "an empty file"
        raise DataError(f"{path}: not the expected IDX file: magic {shown}, expected {wanted}")
    return np.dtype(TYPES[type_code]), ndim


def _explain(magic: int) -> str:
    """E.g. '00 00 08 03 (uint8, 3-d)'."""
    dtype = np.dtype(TYPES[(magic >> 8) & 0xFF])
    return f"{magic.to_bytes(4, 'big').hex(' ')} ({dtype.name}, {magic & 0xFF}-d)"


def find_file(name: str, folders: Sequence[Path], hint: str, suffixes: Sequence[str] = GZ) -> Path:
    """The first `folder/name+suffix` that exists, trying folders in order.

    Raises:
        DataError: none exists; the message lists the folders searched and `hint`.
    """
    for folder in folders:
        for suffix in suffixes:
            candidate = folder / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
    also = "".join(f" (or {s})" for s in suffixes if s)
    searched = ", ".join(_describe(folder) for folder in folders)
    raise DataError(f"{name}{also} not found in {searched}; {hint}")


def find_files(
    names: Sequence[str], folders: Sequence[Path], hint: str, suffixes: Sequence[str] = GZ
) -> list[Path]:
    """Every one of `names`, all from the first folder that holds any of them.

    One folder for the whole set, so a half-filled local folder is reported rather than
    silently completed from another copy of possibly different data.

    Raises:
        DataError: a name is missing from that folder (or from all folders).
    """
    holding = [f for f in folders if _holds_any(f, names, suffixes)]
    search = holding[:1] or list(folders)
    return [find_file(name, search, hint, suffixes) for name in names]


def _holds_any(folder: Path, names: Sequence[str], suffixes: Sequence[str]) -> bool:
    return any((folder / f"{n}{s}").is_file() for n in names for s in suffixes)


def _describe(folder: Path) -> str:
    shown = str(folder.absolute())
    return shown if folder.is_dir() else f"{shown} (no such folder)"
