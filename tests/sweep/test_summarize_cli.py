"""`python -m src.summarize` as a user runs it: the printed map, exit codes, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from src.summarize import main
from tests.cli import Result, assert_one_error_line, call
from tests.sweep.fake import make_grid

ROOT = Path(__file__).resolve().parents[2]


def summarize(*args: str | Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run(
        [sys.executable, "-m", "src.summarize", *map(str, args)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_prints_the_map_and_the_written_files(tmp_path):
    proc = summarize(make_grid(tmp_path), "--rows", "optimizer.lr")
    assert proc.returncode == 0, proc.stderr
    assert "| optimizer.lr \\ trainer.batch_size | 4 | 16 |" in proc.stdout
    written = [line for line in proc.stdout.splitlines() if line.startswith("wrote ")]
    names = ("summary.csv", "summary_cells.csv", "phase_map.md", "phase_map.png")
    assert written == [f"wrote {tmp_path / name}" for name in names]


def summarize_in_process(cwd: Path, *args: str | Path) -> Result:
    argv = [str(a) for a in args]
    return call(lambda: main(argv), cwd, {}, ["src/summarize.py", *argv])


def test_a_missing_folder_is_one_line_and_exit_3(tmp_path):
    proc = summarize(tmp_path / "nope")  # once as a real process: the exit status a shell sees
    assert proc.returncode == 3
    assert_one_error_line(proc, "nope: no such folder; a sweep folder holds")


def test_a_bad_rows_key_is_one_line_and_exit_2(tmp_path):
    result = summarize_in_process(tmp_path, make_grid(tmp_path), "--rows", "loss")
    assert result.returncode == 2 and result.stdout == ""
    assert_one_error_line(result, "swept keys: trainer.batch_size, optimizer.lr")
