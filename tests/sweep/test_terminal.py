"""What a sweep prints: a tqdm bar on a terminal, a plain line every few seconds into a file or
pipe (CI, `| tee`), and no library chatter (matplotlib's first-import font cache message)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from src.sweep import progress as progress_module
from src.sweep.progress import SweepProgress
from tests.sweep.fake import make_cell

ROOT = Path(__file__).resolve().parents[2]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run_progress(sweep_dir: Path, line_seconds: float) -> SweepProgress:
    """Three cells finish while the progress thread watches."""
    progress = SweepProgress(sweep_dir, total=3, line_seconds=line_seconds)
    progress.start()
    for lr, outcome in (("0.1", "converged"), ("1", "converged"), ("10", "diverged")):
        make_cell(sweep_dir, [f"optimizer.lr={lr}"], {"outcome": outcome})
    progress.stop()
    return progress


def test_without_a_terminal_the_progress_is_plain_lines(tmp_path, monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    run_progress(tmp_path, line_seconds=60)  # no line is due before the end
    assert "\r" not in err.getvalue()
    assert err.getvalue().splitlines() == ["cells 3/3 (converged=2, diverged=1) 0s"]


def test_a_progress_over_given_folders_counts_only_those(tmp_path, monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    make_cell(tmp_path, ["optimizer.lr=5"], {"outcome": "converged"})  # an earlier round's
    new = [tmp_path / "optimizer.lr=0.1", tmp_path / "optimizer.lr=1"]
    progress = SweepProgress(tmp_path, total=2, line_seconds=60, folders=new, unit="attempt")
    progress.start()
    make_cell(tmp_path, ["optimizer.lr=0.1"], {"outcome": "learning"})
    progress.stop()
    assert err.getvalue().splitlines() == ["attempts 1/2 (learning=1) 0s"]


def test_on_a_terminal_the_progress_is_a_tqdm_bar(tmp_path, monkeypatch):
    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    run_progress(tmp_path, line_seconds=60)
    assert "\r" in err.getvalue()
    assert "3/3" in err.getvalue() and "converged=2, diverged=1" in err.getvalue()


def test_each_finished_run_is_read_once_and_an_error_again(tmp_path, monkeypatch):
    read = []
    monkeypatch.setattr(progress_module, "read_metrics", lambda f: read.append(f.name) or (
        json.loads((f / "metrics.json").read_text())))  # fmt: skip
    make_cell(tmp_path, ["optimizer.lr=1"], {"outcome": "converged"})
    make_cell(tmp_path, ["optimizer.lr=9"], {"outcome": "error"})  # a resumed sweep retrains it
    progress = SweepProgress(tmp_path, total=2)
    assert progress._tally() == progress._tally() == {"converged": 1, "error": 1}
    assert sorted(read) == ["optimizer.lr=1", "optimizer.lr=9", "optimizer.lr=9"]
    (tmp_path / "optimizer.lr=9" / "metrics.json").write_text(json.dumps({"outcome": "stalled"}))
    assert progress._tally() == {"converged": 1, "stalled": 1}


@pytest.mark.slow
def test_a_sweep_into_a_pipe_prints_lines_and_no_library_chatter(tmp_path):
    env = {**os.environ, "PYTHONWARNINGS": "error", "MPLCONFIGDIR": str(tmp_path / "mpl")}
    args = ["--multirun", "optimizer.lr=0.1,1", "trainer.epochs=1", "logger=none",
            f"hydra.sweep.dir={tmp_path / 'sweep'}", "hydra.launcher.n_jobs=2"]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "src.train", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "mpl").is_dir()  # matplotlib built a new font cache: a first run
    assert "fontManager" not in proc.stdout + proc.stderr
    assert "\r" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[-1].startswith("cells 2/2 (")
    assert all(line.startswith("cells ") for line in lines), proc.stderr
