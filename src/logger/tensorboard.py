"""`logger=tensorboard`: tensorboardX event files in the run's folder, read by TensorBoard.

Every step is an x value counted in completed updates, as `first_nonfinite_step` is.
- every `log_every` updates: `train/loss` (the batch loss of that update);
- per epoch: `train/epoch_loss`, `train/accuracy` (on the probe batch: the first
  `trainer.probe_size` training samples, after the epoch), `test/accuracy`, `test/loss`; per
  parameter `grad_norm/`, `weight_norm/` and `update_ratio/` (lr·‖g‖/‖w‖, gradients on the
  probe batch);
  histograms `weights/` and `preactivations/`, skipped for values that are not all finite;
- at the end: an HParams session (flattened config + `outcome`) with `final/` metrics, and, when
  the run diverged, the per-parameter scalars and histograms of the state it diverged in.
"""

from __future__ import annotations

import math
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import Annotated, Any

import numpy as np

from src.arrays import Array
from src.checks import Interval
from src.logger import wire
from src.logger.base import Logger, RunFacts
from src.logger.records import (
    final_metrics,
    hparam_values,
    import_tensorboardx,
    tag,
)
from src.probe import Probe
from src.trainer import History

import_tensorboardx()  # before the imports below, so tensorboardX does not pull in torch
from tensorboardX.proto.event_pb2 import Event  # noqa: E402
from tensorboardX.proto.summary_pb2 import Summary  # noqa: E402
from tensorboardX.summary import hparams  # noqa: E402

BINS = 30  # uniform buckets, as many as TensorBoard draws
FLUSH_SECS = 10  # a running training shows up in TensorBoard within this many seconds
EVENTS_GLOB = "events.out.tfevents.*"
FILE_VERSION = "brain.Event:2"  # an event file's first record, as tensorboardX writes it


class EventFile:
    """One event file, written in the calling thread as serialized records (`src.logger.wire`).

    tensorboardX's SummaryWriter passes each event through a multiprocessing queue to a writer
    thread: ~60 us an event here, and on a busy machine that thread slowed a default run's
    2-thread BLAS several-fold. Its EventsWriter, in place, costs ~10 us an event; the records
    built as bytes ~1.5 us. Closing does not fsync: a run's metrics.json does not either.
    """

    def __init__(self, folder: Path) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        # The name tensorboardX gives an event file (TensorBoard finds it by its start).
        name = f"events.out.tfevents.{str(time.time())[:10]}.{socket.gethostname()}"
        self.file = open(Path(folder) / name, "wb")  # noqa: SIM115 (close() closes it)
        self.flushed = time.monotonic()
        self._write(wire.record(Event(wall_time=time.time(), file_version=FILE_VERSION)
                                .SerializeToString()))  # fmt: skip

    def add(self, summary: Summary | bytes, step: int) -> None:
        """One event of `summary` (or its serialization) at `step`."""
        data = summary if isinstance(summary, bytes) else summary.SerializeToString()
        self._write(wire.record(wire.event(time.time(), step, data)))

    def add_scalars(self, tag: str, steps: list[int], values: Array) -> None:
        """One scalar event per step: `values[i]` at `steps[i]`."""
        self._write(wire.scalar_records(time.time(), tag, steps, values))

    def _write(self, data: bytes) -> None:
        self.file.write(data)
        if time.monotonic() - self.flushed > FLUSH_SECS:
            self.file.flush()
            self.flushed = time.monotonic()

    def close(self) -> None:
        self.file.close()  # flushes; a second call does nothing


class TensorBoard(Logger):
    """Writes the run's event file; it is closed on every exit, also on divergence or errors."""

    measures = True

    def __init__(
        self,
        log_dir: Path,
        run: RunFacts,
        log_every: Annotated[int, Interval(1)] = 10,
        histograms: bool = True,
    ) -> None:
        super().__init__(log_dir, run)
        self.log_every, self.histograms = log_every, histograms
        self.step = 0  # completed updates so far
        self.epoch_step = -1  # step of the last per-epoch record
        self.finished = False
        remove_old_events(self.log_dir)
        self.events: EventFile | None = EventFile(self.log_dir)

    def on_steps(self, steps: list[int], losses: Array) -> None:
        self.step = steps[-1]
        self.events.add_scalars("train/loss", steps, losses)

    def on_epoch(self, epoch: int, history: History, state: Probe | None) -> None:
        step = self.step = history.steps
        self._log_state(state, step, {
            "train/epoch_loss": history.epoch_losses[-1],
            "test/accuracy": history.test_accuracies[-1],
            "test/loss": history.test_losses[-1],
        })  # fmt: skip
        self.epoch_step = step

    def finish(self, metrics: dict[str, Any], state: Probe | None) -> None:
        step = metrics.get("steps", self.step)
        # Where it blew up (which layer's norms went to inf or nan), unless that state is the
        # last epoch's: a loss that overflows on an epoch's first batch leaves it unchanged.
        if state is not None and step != self.epoch_step:
            self._log_state(state, step)
        self._session(metrics, step)

    def close(self) -> None:
        if self.events is not None:
            self.events.close()
            self.events = None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        err: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if isinstance(err, Exception) and not self.finished:
                self._session({"outcome": "error"}, self.step)  # the cell still shows in HParams
        finally:
            self.close()

    @classmethod
    def log_phase_map(cls, png: Path) -> None:
        """The PNG as image `sweep/phase_map` in an event file of its folder (replacing older):
        its bytes as they are, which TensorBoard decodes (decoding and encoding it again here
        took ~0.4 s for the fine sweep's map)."""
        if not png.is_file():
            return
        data = png.read_bytes()
        width, height, colorspace = png_header(data)
        picture = Summary.Image(height=height, width=width, colorspace=colorspace,
                                encoded_image_string=data)  # fmt: skip
        remove_old_events(png.parent)
        events = EventFile(png.parent)
        try:
            events.add(Summary(value=[Summary.Value(tag="sweep/phase_map", image=picture)]), 0)
        finally:
            events.close()

    def _log_state(self, state: Probe, step: int, scalars: dict[str, float] | None = None) -> None:
        """The probe's per-parameter scalars (with `scalars`) and histograms, an event each: one
        event per value would be ~15 of them per run and epoch, each serialized on its own."""
        values = {**(scalars or {}), "train/accuracy": state.accuracy}
        for name in state.weights:
            values[f"grad_norm/{tag(name)}"] = state.grad_norms[name]
            values[f"weight_norm/{tag(name)}"] = state.weight_norms[name]
            values[f"update_ratio/{tag(name)}"] = state.update_ratios[name]
        self._scalars(values, step)
        if self.histograms:
            histos = [(f"weights/{tag(name)}", v) for name, v in state.weights.items()]
            histos += [(f"preactivations/{name}", v) for name, v in state.preactivations.items()]
            kept = [h for h in (histogram_value(name, v, BINS) for name, v in histos) if h]
            if kept:  # a Summary's serialization: its values' one after the other
                self.events.add(b"".join(kept), step)

    def _session(self, metrics: dict[str, Any], step: int) -> None:
        """Session start/end records written by this run's own writer (tensorboardX#670)."""
        # No experiment record: TensorBoard then builds the columns from every session it finds,
        # so all cells of a sweep show; one cell's record would fix the columns to its values.
        values = hparam_values(self.run.config, str(metrics.get("outcome")))
        scores = final_metrics(metrics)
        _, start, end = hparams(values, scores)
        self.events.add(start, step)
        self.events.add(end, step)
        self._scalars(scores, step)
        self.finished = True

    def _scalars(self, values: dict[str, float], step: int) -> None:
        # Built as bytes: tensorboardX's scalar() also checks and warns about every nan value,
        # and a protobuf object per value costs ~5x more.
        self.events.add(wire.scalars(values), step)


def histogram_value(name: str, values: Array, bins: int) -> bytes | None:
    """Uniform buckets over [min, max] of `values` (2-4x cheaper than tensorboardX's), as a
    serialized Summary.value; None unless the values are finite and at least one (nan/inf
    have no bucket; tensorboardX's own histogram raises on them)."""
    if values.size == 0:
        return None
    with np.errstate(all="ignore"):  # sums of huge finite values may overflow to inf
        lo, hi = float(values.min()), float(values.max())  # nan if any is: min/max propagate it
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return None
        v = values.reshape(-1).astype(np.float64)  # float64: a float32 range can overflow
        width = (hi - lo) / bins  # inf for a range wider than the float64 maximum
        if 0 < width < math.inf:
            scaled = v - lo  # >= 0: only the top needs clipping (np.clip's wrapper is slow)
            scaled /= width
            counts = np.bincount(scaled.astype(np.int64), minlength=bins)
            counts[bins - 1] += counts[bins:].sum()  # indices past the last bucket belong in it
            counts = counts[:bins]
            limits = lo + width * np.arange(1, bins + 1)
            limits[-1] = hi
        else:  # all equal (e.g. zero biases), or too wide to split: one bucket
            counts, limits = np.array([v.size]), np.array([hi])
        total, squares = float(np.add.reduce(v)), float(np.dot(v, v))
    return wire.histogram(name, (lo, hi, v.size, total, squares), limits, counts)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}  # PNG colour type -> channels (3: a palette of RGB)


def png_header(data: bytes) -> tuple[int, int, int]:
    """(width, height, channels) of a PNG from its first chunk (IHDR, which must come first).

    Raises:
        ValueError: `data` is not a PNG.
    """
    header_ok = data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR" and len(data) > 25
    if not header_ok or data[25] not in CHANNELS:
        raise ValueError("not a PNG file")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return width, height, CHANNELS[data[25]]


def remove_old_events(folder: Path) -> None:
    """Drop event files of an earlier attempt in `folder`: a rerun replaces them, as it does
    metrics.json, instead of mixing two runs in one TensorBoard run."""
    for path in Path(folder).glob(EVENTS_GLOB):
        path.unlink(missing_ok=True)
