"""write_summary: summary.csv, phase_map.md, phase_map.png, and its errors."""

from __future__ import annotations

import csv
import io
import struct

import pytest

from src.errors import ConfigError, DataError
from src.sweep.summary import OUTPUT_FILES, write_summary
from tests.sweep.fake import make_grid

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def read_csv(path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


def png_size(data: bytes) -> tuple[int, int]:
    return struct.unpack(">II", data[16:24])  # IHDR: width, height


def test_summary_csv_has_one_sorted_row_per_cell(tmp_path):
    write_summary(make_grid(tmp_path))
    header = (tmp_path / "summary.csv").read_text().splitlines()[0].split(",")
    assert header == [
        "trainer.batch_size", "optimizer.lr", "activation", "outcome", "test_accuracy",
        "first_nonfinite_step", "chance", "predicted_class_share", "wall_seconds", "cause",
        "error",
    ]  # fmt: skip
    rows = read_csv(tmp_path / "summary.csv")
    order = [(r["trainer.batch_size"], r["optimizer.lr"], r["outcome"]) for r in rows]
    assert order == [
        ("4", "0.001", "stalled"), ("4", "0.01", "error"), ("4", "1", "pending"),
        ("16", "0.001", "learning"), ("16", "0.01", "converged"), ("16", "1", "diverged"),
    ]  # fmt: skip
    stalled, error, pending, _, converged, diverged = rows
    assert converged["test_accuracy"] == "0.971" and converged["chance"] == "0.1"
    assert diverged["first_nonfinite_step"] == "57" and diverged["test_accuracy"] == ""
    assert error["error"] == "boom: out of memory" and error["cause"] == ""
    assert pending["activation"] == "sigmoid" and pending["wall_seconds"] == ""


def test_writes_four_files_and_returns_the_markdown(tmp_path):
    text = write_summary(make_grid(tmp_path))
    assert (tmp_path / "phase_map.md").read_text() == text
    assert all((tmp_path / name).is_file() for name in OUTPUT_FILES)
    png = (tmp_path / "phase_map.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 10_000
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temp files


def test_a_third_key_draws_one_subplot_per_value(tmp_path):
    two, three = tmp_path / "two", tmp_path / "three"
    write_summary(make_grid(two))
    for loss in ("mse", "cross_entropy", "hinge"):
        make_grid(three, f"loss={loss}")
    write_summary(three)
    (w2, _), (w3, _) = (png_size((d / "phase_map.png").read_bytes()) for d in (two, three))
    assert w3 > 1.5 * w2


def test_not_a_sweep_folder_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="no cell folders; a sweep folder holds"):
        write_summary(tmp_path)


def test_an_unswept_rows_key_is_a_config_error_and_writes_nothing(tmp_path):
    message = "rows=activation: not a swept key; swept keys: trainer.batch_size, optimizer.lr"
    with pytest.raises(ConfigError, match=message):
        write_summary(make_grid(tmp_path), rows="activation")
    assert not any((tmp_path / name).exists() for name in OUTPUT_FILES)
