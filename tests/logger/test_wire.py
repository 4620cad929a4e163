"""Event records written as bytes equal what protobuf and tensorboardX's writer produce."""

from __future__ import annotations

import io

import numpy as np
import pytest

from src.logger import wire
from src.logger.records import import_tensorboardx

import_tensorboardx()
from tensorboardX.proto.event_pb2 import Event  # noqa: E402
from tensorboardX.proto.summary_pb2 import Summary  # noqa: E402
from tensorboardX.record_writer import RecordWriter  # noqa: E402

# Zeros of both signs, nan of both signs, infinities, values that overflow float32 or round to
# its largest value, subnormals and values that underflow to zero, ordinary ones.
VALUES = [0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, 1e300, -1e300, 3.4028235e38,
          3.40282356e38, 3.4028236e38, 1e-45, 1e-46, 2.5e-45, 0.1, 1 / 3, -123456.789]  # fmt: skip
STEPS = [0, 1, 127, 128, 300, 16383, 16384, 2**21, 2**40, 5, 6, 7, 8, 9, 10, 11, 12]  # varints


class MemoryRecords(RecordWriter):
    """tensorboardX's record framing, into memory."""

    def __init__(self) -> None:
        self._writer = io.BytesIO()


@pytest.mark.parametrize("wall_time", [0.0, 1764546000.123456])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scalar_records_equal_tensorboardx_events(wall_time, dtype):
    with np.errstate(over="ignore"):  # float32: the huge values become inf, as in a float32 run
        values = np.array(VALUES, dtype=np.float64).astype(dtype)
    expected = MemoryRecords()
    for step, value in zip(STEPS, values, strict=True):
        summary = Summary(value=[Summary.Value(tag="train/loss", simple_value=float(value))])
        expected.write(Event(wall_time=wall_time, step=step, summary=summary).SerializeToString())
    written = wire.scalar_records(wall_time, "train/loss", STEPS, values)
    assert written == expected._writer.getvalue()


@pytest.mark.parametrize("step", STEPS)
def test_event_equals_protobufs_serialization(step):
    summary = Summary(value=[Summary.Value(tag="a", simple_value=2.0),
                             Summary.Value(tag="b/ü", simple_value=0.0)])  # fmt: skip
    expected = Event(wall_time=12.5, step=step, summary=summary).SerializeToString()
    assert wire.event(12.5, step, summary.SerializeToString()) == expected


def test_records_frame_any_length_as_tensorboardx():
    expected = MemoryRecords()
    data = [b"", b"x", bytes(range(256)) * 3]
    for item in data:
        expected.write(item)
    assert b"".join(map(wire.record, data)) == expected._writer.getvalue()


def test_scalars_equal_protobufs_summary():
    values = dict(zip([f"t{i}/ü" for i in range(len(VALUES))], VALUES, strict=True))
    expected = Summary(value=[Summary.Value(tag=t, simple_value=v) for t, v in values.items()])
    assert wire.scalars(values) == expected.SerializeToString()
    assert wire.scalars({}) == Summary().SerializeToString()
