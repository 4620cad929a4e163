"""Runs trained in-process, their event files read back with TensorBoard's own reader."""

from __future__ import annotations

import math
import os
from contextlib import suppress
from pathlib import Path

import numpy as np
import pytest
from hydra.utils import instantiate
from matplotlib.figure import Figure
from PIL import Image
from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator
from tensorboard.util import tensor_util

from src.errors import ConfigError
from src.logger.tensorboard import TensorBoard, png_header
from src.outcome import OUTCOMES
from src.sweep.callback import log_phase_map
from src.sweep.worker import run_cell
from src.train import train, train_stack, validate
from tests.conftest import CONF_DIR, compose_config
from tests.logger.events import read_events

PARAMS = ["1.Dense.W", "1.Dense.b", "3.Dense.W", "3.Dense.b"]  # digits MLP 64-100-10
EPOCH_SCALARS = ["train/epoch_loss", "train/accuracy", "test/accuracy", "test/loss"]
KINDS = ["grad_norm", "weight_norm", "update_ratio"]
FINAL = ["final/test_accuracy", "final/outcome_code", "final/first_nonfinite_step"]


def run(folder: Path, *overrides: str) -> dict:
    return train(compose_config("trainer.epochs=2", *overrides), folder)


def event_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("events.out.tfevents.*"))


def open_files() -> list[str]:
    """Paths this process holds open (Linux)."""
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        pytest.skip("needs /proc to see open files")
    paths = []
    for fd in fds.iterdir():
        with suppress(OSError):  # closed while listing
            paths.append(os.readlink(fd))
    return paths


def test_healthy_run_logs_every_step_each_epoch_and_one_session(tmp_path):
    metrics = run(tmp_path, "logger.log_every=1")
    events = read_events(tmp_path)
    assert metrics["steps"] == 90  # 1438 digits / 32 -> 45 updates per epoch
    assert events.steps("train/loss") == list(range(1, 91))
    per_parameter = [f"{kind}/{p}" for kind in KINDS for p in PARAMS]
    for tag in EPOCH_SCALARS + per_parameter:
        assert events.steps(tag) == [45, 90], tag
    assert events.last("test/accuracy") == pytest.approx(metrics["test_accuracy"])
    ratio = 0.1 * events.last("grad_norm/1.Dense.W") / events.last("weight_norm/1.Dense.W")
    assert events.last("update_ratio/1.Dense.W") == pytest.approx(ratio, rel=1e-5)
    expected = {f"weights/{p}" for p in PARAMS} | {"preactivations/2.ReLU"}
    assert set(events.histograms) == expected
    assert all([step for step, _ in events.histograms[tag]] == [45, 90] for tag in expected)
    [session] = events.sessions
    assert session["outcome"] == metrics["outcome"] and session["optimizer.lr"] == 0.1
    assert session["activation"] == "ReLU" and session["model.hidden"] == "[100]"
    assert all(events.steps(tag) == [90] for tag in FINAL)
    assert events.last("final/test_accuracy") == pytest.approx(metrics["test_accuracy"])
    assert events.last("final/outcome_code") == OUTCOMES.index(metrics["outcome"])
    assert events.last("final/first_nonfinite_step") == -1
    assert not [p for p in open_files() if str(tmp_path) in p]


def test_log_every_thins_train_loss_only(tmp_path):
    run(tmp_path, "logger.log_every=10", "logger.histograms=false")
    events = read_events(tmp_path)
    assert events.steps("train/loss") == list(range(10, 91, 10))
    assert events.steps("test/accuracy") == [45, 90]
    assert events.histograms == {}


def test_logger_none_writes_nothing_and_trains_identically(tmp_path):
    logged = run(tmp_path / "tb")
    silent = run(tmp_path / "none", "logger=none")
    assert event_files(tmp_path / "tb") and not event_files(tmp_path / "none")
    for metrics in (logged, silent):
        metrics.pop("wall_seconds")
        for key in [k for k in metrics if k.startswith("logger.")]:
            metrics.pop(key)
    assert logged == silent  # the probe's forward/backward passes change nothing


def test_diverged_run_logs_the_state_it_blew_up_in_and_never_crashes(tmp_path):
    metrics = run(tmp_path, "loss=mse", "optimizer.lr=50", "trainer.batch_size=1",
                  "logger.log_every=1")  # fmt: skip
    assert metrics["outcome"] == "diverged"
    step = metrics["first_nonfinite_step"]
    events = read_events(tmp_path)
    assert events.steps("train/loss") == list(range(1, step + 1))
    assert not {"train/epoch_loss", "test/accuracy", "test/loss"} & events.scalars.keys()
    assert all(events.steps(f"weight_norm/{p}") == [step] for p in PARAMS)
    # No epoch finished, so no per-epoch histograms; the final state's only where finite.
    for tag, records in events.histograms.items():
        assert [s for s, _ in records] == [step], tag
        assert all(np.isfinite(h).all() for _, h in records), tag
    assert events.sessions[0]["outcome"] == "diverged"
    assert events.last("final/first_nonfinite_step") == step
    assert events.last("final/test_accuracy") == -1


def test_nonfinite_weights_get_norms_but_no_histogram(tmp_path):
    metrics = run(tmp_path, "loss=mse", "optimizer.lr=3e38", "trainer.epochs=1")
    assert metrics["outcome"] == "diverged"
    events = read_events(tmp_path)
    assert all(f"weight_norm/{p}" in events.scalars for p in PARAMS)
    missing = [p for p in PARAMS if f"weights/{p}" not in events.histograms]
    assert missing  # inf weights: tensorboardX would raise; the logger skips them
    assert all(not math.isfinite(events.last(f"weight_norm/{p}")) for p in missing)


def test_error_in_a_cell_is_a_session_and_leaves_no_open_file(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("boom after training")

    monkeypatch.setattr("src.train._metrics", boom)
    metrics = run_cell(compose_config("trainer.epochs=1"), tmp_path, train)
    assert metrics["outcome"] == "error"
    events = read_events(tmp_path)
    assert events.sessions[0]["outcome"] == "error"
    assert events.last("final/outcome_code") == OUTCOMES.index("error")
    assert events.steps("test/accuracy") == [45]  # what it logged before failing is kept
    assert not [p for p in open_files() if str(tmp_path) in p]


def test_rerun_into_the_same_folder_replaces_its_events(tmp_path):
    run(tmp_path, "trainer.epochs=1")
    run(tmp_path, "trainer.epochs=1")
    assert len(event_files(tmp_path)) == 1
    assert len(read_events(tmp_path).sessions) == 1


@pytest.mark.parametrize("option", sorted(p.stem for p in (CONF_DIR / "logger").glob("*.yaml")))
def test_logger_options_compose_and_validate(option):
    cfg = compose_config(f"logger={option}")
    validate(cfg)
    assert callable(instantiate(cfg.logger))


def test_bad_log_every_is_a_config_error():
    with pytest.raises(ConfigError, match=r"logger.log_every=0: expected an integer >= 1"):
        validate(compose_config("logger.log_every=0"))


def write_png(path: Path) -> tuple[int, int]:
    fig = Figure(figsize=(2, 1), dpi=50)
    fig.add_subplot().plot([0, 1])
    fig.savefig(path)
    return 100, 50


@pytest.mark.parametrize(("option", "shown"), [("tensorboard", True), ("none", False)])
def test_phase_map_becomes_an_image_only_when_logging(tmp_path, option, shown):
    width, height = write_png(tmp_path / "phase_map.png")
    log_phase_map(compose_config(f"logger={option}"), tmp_path / "phase_map.png")
    if shown:
        assert read_events(tmp_path).images == {"sweep/phase_map": [(0, width, height)]}
    else:
        assert not event_files(tmp_path)


def test_the_phase_map_image_holds_the_png_file_unchanged(tmp_path):
    write_png(tmp_path / "phase_map.png")
    TensorBoard.log_phase_map(tmp_path / "phase_map.png")
    accumulator = EventAccumulator(str(tmp_path), size_guidance={"tensors": 0})
    accumulator.Reload()
    [record] = accumulator.Tensors("sweep/phase_map")
    width, height, png = tensor_util.make_ndarray(record.tensor_proto)
    assert (int(width), int(height)) == (100, 50)
    assert png == (tmp_path / "phase_map.png").read_bytes()  # what TensorBoard decodes


@pytest.mark.parametrize(("mode", "channels"), [("RGBA", 4), ("RGB", 3), ("L", 1), ("LA", 2)])
def test_png_header_reads_size_and_channels(tmp_path, mode, channels):
    Image.new(mode, (7, 3)).save(tmp_path / "x.png")
    assert png_header((tmp_path / "x.png").read_bytes()) == (7, 3, channels)


HEADER = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(8) + b"\x08"  # up to the bit depth


@pytest.mark.parametrize("data", [b"", b"GIF89a" + bytes(30), b"\x89PNG\r\n\x1a\n" + bytes(20),
                                  HEADER, HEADER + b"\x05" + bytes(10)])  # fmt: skip
def test_png_header_rejects_what_is_not_a_png(data):
    with pytest.raises(ValueError, match="not a PNG"):
        png_header(data)


def test_a_stacked_run_writes_the_events_it_writes_alone(tmp_path):
    # lr 3 and 30 diverge at their own steps within the first epoch: the runs that log their
    # step losses change between two flushes of the buffered losses.
    base = ["loss=mse", "trainer.epochs=2", "trainer.batch_size=16", "logger.log_every=1"]
    cfgs = [compose_config(*base, f"optimizer.lr={lr}", f"trainer.seed={seed}")
            for lr, seed in ((0.3, 0), (3.0, 1), (30.0, 0), (0.01, 1))]  # fmt: skip
    stacked = train_stack(cfgs, [tmp_path / "stack" / str(i) for i in range(len(cfgs))])
    assert len({m["first_nonfinite_step"] for m in stacked} - {None}) == 2
    for i, cfg in enumerate(cfgs):
        train(cfg, tmp_path / "alone" / str(i))
        together, alone = (read_events(tmp_path / kind / str(i)) for kind in ("stack", "alone"))
        assert repr(together.scalars) == repr(alone.scalars)  # repr: nan equals nan
        assert together.sessions == alone.sessions
        assert together.histograms.keys() == alone.histograms.keys()
        for tag, records in alone.histograms.items():
            assert [s for s, _ in together.histograms[tag]] == [s for s, _ in records], tag
            assert all(np.array_equal(a, b) for (_, a), (_, b) in
                       zip(together.histograms[tag], records)), tag  # fmt: skip
