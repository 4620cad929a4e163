"""Run the command-line entry points in-process: the code `python -m ...` runs, minus the start-up.

The true subprocess tests (exit status seen by a shell, PYTHONWARNINGS=error, no traceback)
stay in tests/test_cli.py; error paths that only need the message and the exit code use this.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest

from src import train
from src.cli import run_cli


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def call(main: Callable[[], object], cwd: Path, env: dict[str, str], argv: list[str]) -> Result:
    """Run `main()` with `argv` in `cwd`; its return value or SystemExit code is the exit code."""
    out, err = StringIO(), StringIO()
    with pytest.MonkeyPatch.context() as patch, redirect_stdout(out), redirect_stderr(err):
        patch.chdir(cwd)
        for key, value in env.items():
            patch.setenv(key, value)
        patch.setattr(sys, "argv", argv)
        try:
            code = main() or 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
    return Result(code, out.getvalue(), err.getvalue())


def run_train(cwd: Path, *overrides: str) -> Result:
    """`python -m src.train <overrides>` from `cwd`: `train.cli` registers the sweeps too."""
    # HYDRA_FULL_ERROR: run_cli sets it in os.environ; the patch restores it afterwards.
    env = {"HYDRA_FULL_ERROR": "1"}
    return call(lambda: run_cli(train.cli), cwd, env, ["src/train.py", *overrides])


def assert_one_error_line(result: Result, expected: str) -> str:
    """The error is one `error: ...` line on stderr containing `expected`; returns it."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and expected in lines[0], lines[0]
    assert "Traceback" not in result.stdout + result.stderr
    return lines[0]
