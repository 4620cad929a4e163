"""Event-file records as bytes: the protobuf wire format of an `Event` and its TFRecord frame.

A run logs `train/loss` every few updates: ~3,000 scalar events per batch-size-1 run of the
default net. Building an Event, a Summary and a Summary.Value per value, serializing them and
framing the record through tensorboardX costs ~10 us an event; writing the same bytes
directly costs a fraction of that. The bytes equal protobuf's own serialization
(`Event.SerializeToString()`, checked in the tests); the frame is the one TensorBoard reads
(length, masked CRC-32C of the length, data, masked CRC-32C of the data).
"""

from __future__ import annotations

import struct
from functools import cache

import numpy as np
from crc32c import crc32c

from src.arrays import Array

_MASK_DELTA = 0xA282EAD8  # TFRecord's CRC mask


def varint(n: int) -> bytes:
    """A non-negative integer as a protobuf varint: 7 bits a byte, low bits first."""
    if n < 0x80:
        return bytes((n,))
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def key(field: int, wire_type: int) -> bytes:
    """A field's key: wire type 0 varint, 1 64-bit, 2 length-delimited, 5 32-bit."""
    return varint(field << 3 | wire_type)


def event(wall_time: float, step: int, summary: bytes) -> bytes:
    """A serialized `Event(wall_time=..., step=..., summary=...)`, `summary` serialized."""
    return _wall(wall_time) + _step(step) + key(5, 2) + varint(len(summary)) + summary


def _wall(wall_time: float) -> bytes:
    """Event.wall_time (field 1, a double); proto3 leaves out a zero, as protobuf does."""
    return key(1, 1) + struct.pack("<d", wall_time) if wall_time else b""


def _step(step: int) -> bytes:
    """Event.step (field 2, a varint); left out when zero."""
    return _STEP_KEY + varint(step) if step else b""


def scalar_records(wall_time: float, tag: str, steps: list[int], values: Array) -> bytes:
    """Framed records of `Event(wall_time, step, Summary(value=[Value(tag, simple_value=v)]))`
    for each step and value, as one string of bytes (values stored as in `scalars`)."""
    value = _value_head(tag)
    head = key(5, 2) + varint(len(value) + 4)  # Event.summary holding that one value
    wall = _wall(wall_time)
    raw = _float32(values)
    return b"".join(
        record(wall + _step(step) + head + value + raw[4 * i : 4 * i + 4])
        for i, step in enumerate(steps)
    )


def scalars(values: dict[str, float]) -> bytes:
    """A serialized `Summary(value=[Summary.Value(tag=t, simple_value=v), ...])`; values are
    stored as float32, as protobuf stores a float field (an overflow becomes inf)."""
    raw = _float32(list(values.values()))
    return b"".join(_value_head(tag) + raw[4 * i : 4 * i + 4] for i, tag in enumerate(values))


@cache
def _value_head(tag: str) -> bytes:
    """Summary.value (field 1) holding `Value(tag=tag, simple_value=...)`, but the value's 4
    bytes: tag (1), then simple_value (2; in a oneof, so written even when zero)."""
    value = _tag(tag) + key(2, 5)
    return key(1, 2) + varint(len(value) + 4) + value


def histogram(tag: str, numbers: tuple[float, ...], limits: Array, counts: Array) -> bytes:
    """Summary.value (field 1) holding `Value(tag=tag, histo=HistogramProto(min, max, num, sum,
    sum_squares, bucket_limit=limits, bucket=counts))`, the five `numbers` in that order."""
    # Fields 1-5 are doubles that proto3 leaves out when +0.0 (all bits zero); 6 and 7 are
    # packed doubles, left out only when empty.
    raw = np.asarray(numbers, dtype="<f8").tobytes()
    doubles = [raw[8 * i : 8 * i + 8] for i in range(5)]
    fields = [k + double for k, double in zip(_HISTO_KEYS, doubles) if double != _ZERO]
    for field, array in zip(_PACKED_KEYS, (limits, counts)):
        if len(array):
            packed = np.asarray(array, dtype="<f8").tobytes()
            fields.append(field + varint(len(packed)) + packed)
    histo = b"".join(fields)
    value = _tag(tag) + _HISTO_KEY + varint(len(histo)) + histo
    return _VALUE_KEY + varint(len(value)) + value


@cache
def _tag(tag: str) -> bytes:
    """Summary.Value.tag (field 1)."""
    name = tag.encode("utf-8")
    return key(1, 2) + varint(len(name)) + name


def _float32(values: Array | list[float]) -> bytes:
    """The values as little-endian float32 (C's conversion, as protobuf's: overflow is inf)."""
    with np.errstate(all="ignore"):
        return np.asarray(values, dtype=np.float64).astype("<f4").tobytes()


def record(data: bytes) -> bytes:
    """`data` framed as one TFRecord, as tensorboardX's RecordWriter writes it: its length,
    the length's masked CRC, the data, the data's masked CRC."""
    return _frame_header(len(data)) + data + _U32.pack(masked_crc(data))


@cache  # a few record lengths recur
def _frame_header(size: int) -> bytes:
    length = struct.pack("<Q", size)
    return length + _U32.pack(masked_crc(length))


def masked_crc(data: bytes) -> int:
    """TFRecord's masked CRC-32C of `data`."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


_STEP_KEY = key(2, 0)
_VALUE_KEY, _HISTO_KEY = key(1, 2), key(5, 2)  # Summary.value; Summary.Value.histo
_HISTO_KEYS = [key(i, 1) for i in range(1, 6)]  # HistogramProto's doubles: min ... sum_squares
_PACKED_KEYS = [key(6, 2), key(7, 2)]  # bucket_limit, bucket
_ZERO = bytes(8)  # +0.0
_U32 = struct.Struct("<I")
