"""`python -m src.train sweep=bs_lr_edge` as a user runs it: bad input, a tiny search, resume."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.sweep.test_sweep_run import sweep

# Short runs at 2 batch sizes, 4 coarse lrs: 8 coarse runs, then rounds of 4 (2 edges x 2 bs).
TINY = ["sweep=bs_lr_edge", "trainer.batch_size=32,256", "trainer.epochs=2", "logger=none",
        "hydra.sweeper.lr_points=4"]  # fmt: skip


@pytest.mark.parametrize(
    "override, message",
    [
        ("hydra.sweeper.resolution=1", "hydra.sweeper.resolution=1.0: must be > 1"),
        ("hydra.sweeper.budget=87", "hydra.sweeper.budget=87: smaller than the coarse grid of 88"),
        ("trainer.batch_size=16,big", "trainer.batch_size=big: not a positive number"),
        ("hydra.sweeper.lr_key=optimizer.lrr", "Could not override 'optimizer.lrr'"),  # a job's
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_folder(tmp_path, override, message):
    proc = sweep(tmp_path / "sweep", "sweep=bs_lr_edge", override)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith(f"error: {message}")
    assert not (tmp_path / "sweep").exists()


def finished(sweep_dir: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in sweep_dir.glob("*/metrics.json")}


def outcome_at(sweep_dir: Path, batch: str, lr: str) -> str:
    (path,) = sweep_dir.glob(f"*optimizer.lr={lr},*trainer.batch_size={batch},*/metrics.json")
    return json.loads(path.read_text())["outcome"]


@pytest.mark.slow
def test_tiny_search_brackets_its_edges_and_resumes(tmp_path):
    proc = sweep(tmp_path, *TINY, "hydra.sweeper.budget=16")
    assert proc.returncode == 0, proc.stderr
    first = finished(tmp_path)
    assert len(first) == 16  # 8 coarse + 2 rounds of 4: the budget is spent exactly
    with open(tmp_path / "boundary.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert {r["batch_size"] for r in table} == {"32", "256"}
    for row in table:  # each bracket's ends are runs on disk with the outcomes it names
        below, above = row["transition"].split("→")
        assert outcome_at(tmp_path, row["batch_size"], row["lo"].rstrip("0").rstrip(".")) == below
        assert float(row["hi"]) / float(row["lo"]) == pytest.approx(float(row["ratio"]), 1e-3)
        assert above != below
    assert "## Edge" in (tmp_path / "phase_map.md").read_text()
    assert "## Edge" in proc.stdout and "lr_max ∝ bs^" in proc.stdout
    for png in ("edge_map.png", "lr_max.png", "phase_map.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"

    # Same command, larger budget: nothing finished runs again, refinement continues.
    proc = sweep(tmp_path, *TINY, "hydra.sweeper.budget=20")
    assert proc.returncode == 0, proc.stderr
    again = finished(tmp_path)
    assert len(again) == 20
    assert all(again[p] == t for p, t in first.items())
