"""Interrupted sweeps: Ctrl-C summarizes what finished; SIGKILL loses nothing on resume;
the same cell gives bit-identical numbers alone or inside a sweep of any parallelism."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# 12 cells in 4 stacks (one per batch size): the other three finish within ~0.6 s of each
# other, batch size 1 ~2.5 s after them (1 Dec, an idle host), long enough to interrupt it
# (batch sizes 1, 4, 8, 16 at 4 epochs left 0.34 s).
GRID = ["--multirun", "optimizer.lr=0.01,0.1,1", "trainer.batch_size=1,16,64,256",
        "trainer.epochs=30", "logger=none", "hydra.launcher.n_jobs=2"]  # fmt: skip


def start(sweep_dir: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "src.train", *args, f"hydra.sweep.dir={sweep_dir}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group, so a kill can take the workers too
        preexec_fn=_ctrl_c_as_at_a_terminal,
    )  # fmt: skip


def _ctrl_c_as_at_a_terminal() -> None:
    """SIGINT back to its default in the sweep: a test run started in the background by a
    non-interactive shell inherits SIGINT ignored, and Python then never raises
    KeyboardInterrupt (the sweep would finish and exit 0)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def finished(sweep_dir: Path) -> dict[Path, int]:
    """Cell folder -> mtime of its complete metrics.json."""
    return {p.parent: p.stat().st_mtime_ns for p in sweep_dir.glob("*/metrics.json")}


def wait_for_cells(sweep_dir: Path, n: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while len(finished(sweep_dir)) < n:
        assert time.monotonic() < deadline, "the sweep did not get going"
        time.sleep(0.1)


@pytest.mark.slow
def test_sigkill_halfway_then_resume_computes_each_cell_once(tmp_path):
    proc = start(tmp_path, *GRID)
    wait_for_cells(tmp_path, 3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)  # reaps it and closes its pipes
    before = finished(tmp_path)
    assert 3 <= len(before) < 12
    for cell in before:  # whatever exists is complete: atomic writes
        json.loads((cell / "metrics.json").read_text())

    resumed = start(tmp_path, *GRID)
    out, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    after = finished(tmp_path)
    assert len(after) == 12
    assert all(after[cell] == mtime for cell, mtime in before.items())  # none computed twice
    assert "12 cells:" in out


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_with_a_summary_of_what_finished(tmp_path):
    proc = start(tmp_path, *GRID)
    wait_for_cells(tmp_path, 2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert "interrupted" in err and "Traceback" not in err
    assert (tmp_path / "summary.csv").exists() and (tmp_path / "phase_map.png").exists()
    assert len(finished(tmp_path)) < 12
    assert f"wrote {tmp_path / 'phase_map.md'}" in out


@pytest.mark.slow
def test_same_cell_is_bit_identical_alone_and_in_sweeps(tmp_path):
    cell = ["optimizer.lr=0.1", "trainer.batch_size=16", "trainer.epochs=3"]
    runs = {
        "alone": [*cell, f"hydra.run.dir={tmp_path / 'alone'}"],
        "n_jobs=1": ["--multirun", *cell, "hydra.launcher.n_jobs=1",
                     f"hydra.sweep.dir={tmp_path / 'one'}"],
        "n_jobs=2": ["--multirun", "optimizer.lr=0.1,1", *cell[1:], "hydra.launcher.n_jobs=2",
                     f"hydra.sweep.dir={tmp_path / 'two'}"],
    }  # fmt: skip
    for args in runs.values():
        done = subprocess.run([sys.executable, "-m", "src.train", *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr
    found = [tmp_path / "alone" / "metrics.json", *tmp_path.glob("one/*/metrics.json"),
             *tmp_path.glob("two/optimizer.lr=0.1,*/metrics.json")]  # fmt: skip
    assert len(found) == 3
    metrics = [json.loads(p.read_text()) for p in found]
    for m in metrics:
        m.pop("wall_seconds")
    assert metrics[0] == metrics[1] == metrics[2]
