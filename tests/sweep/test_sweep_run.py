"""Sweeps as a user runs them: parallel cells, error cells, the phase map files, resume."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# kernel 9 cannot slide over 8x8 digits: those cells raise at build time, after validation.
GRID = ["model=cnn", "model.kernel=3,9", "optimizer.lr=0.01,0.1,1", "trainer.epochs=2"]


def sweep(sweep_dir: Path, *overrides: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    args = ["--multirun", *overrides, f"hydra.sweep.dir={sweep_dir}", "hydra.launcher.n_jobs=2"]
    return subprocess.run(
        [sys.executable, "-m", "src.train", *args],
        cwd=cwd, env={**os.environ, "PYTHONWARNINGS": "error"},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def rows(sweep_dir: Path) -> list[dict[str, str]]:
    with open(sweep_dir / "summary.csv", newline="") as f:
        return list(csv.DictReader(f))


def cell_dirs(sweep_dir: Path) -> list[Path]:
    return sorted(p.parent.parent for p in sweep_dir.glob("*/.hydra/overrides.yaml"))


@pytest.mark.slow
def test_grid_with_failing_cells_completes_and_resumes(tmp_path):
    proc = sweep(tmp_path, *GRID)
    assert proc.returncode == 0, proc.stderr
    cells = cell_dirs(tmp_path)
    assert len(cells) == 6
    assert all(c.name.startswith("model.kernel=") for c in cells)  # named by the overrides
    table = rows(tmp_path)
    assert len(table) == 6
    errors = [r for r in table if r["outcome"] == "error"]
    assert {r["model.kernel"] for r in errors} == {"9"} and len(errors) == 3
    assert all("model.kernel=9 does not fit" in r["error"] for r in errors)
    assert {r["outcome"] for r in table if r["model.kernel"] == "3"} <= {
        "converged", "learning", "stalled", "diverged"
    }  # fmt: skip
    assert all((c / "traceback.txt").exists() for c in cells if "kernel=9" in c.name)
    assert (tmp_path / "phase_map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    phase_map = (tmp_path / "phase_map.md").read_text()
    assert "| model.kernel \\ optimizer.lr |" in phase_map
    fixed = "fixed: digits · cnn · relu · cross_entropy · he_normal · sgd, trainer.epochs=2"
    assert fixed in phase_map
    assert "| model.kernel \\ optimizer.lr |" in proc.stdout

    # Resume: remove two finished results; a re-run recomputes exactly those two.
    done = [c for c in cells if "kernel=3" in c.name]
    for cell in done[:2]:
        (cell / "metrics.json").unlink()
    kept = {c: (c / "metrics.json").stat().st_mtime_ns for c in done[2:]}
    assert sweep(tmp_path, *GRID).returncode == 0
    assert all((c / "metrics.json").stat().st_mtime_ns == t for c, t in kept.items())
    assert all((c / "metrics.json").exists() for c in done[:2])
    assert len(rows(tmp_path)) == 6


@pytest.mark.slow
def test_default_grid_places_the_phases(tmp_path):
    proc = sweep(tmp_path, "sweep=bs_lr", cwd=tmp_path)  # sweeps/ is found from any folder
    assert proc.returncode == 0, proc.stderr
    table = {(int(r["trainer.batch_size"]), float(r["optimizer.lr"])): r for r in rows(tmp_path)}
    assert len(table) == 35
    assert table[(16, 0.1)]["outcome"] == "converged"
    assert table[(1, 0.01)]["outcome"] == "converged"
    # Far too high: dead ReLUs, one class predicted for everything.
    assert table[(1, 100.0)]["outcome"] == "stalled"
    assert float(table[(1, 100.0)]["predicted_class_share"]) == 1.0
    # Far too low with big batches: barely moved from chance after 20 epochs.
    assert table[(256, 1e-4)]["outcome"] == "stalled"


def test_unknown_sweep_name_is_an_error(tmp_path):
    proc = sweep(tmp_path, "sweep=bs_lrr")
    assert proc.returncode != 0
    message, _, options = proc.stderr.strip().partition("valid options: ")
    assert message == "error: sweep/bs_lrr not found; "
    assert {"bs_lr", "bs_lr_edge", "bs_lr_fine", "grid"} == set(options.split(", "))
    assert not list(tmp_path.iterdir())
