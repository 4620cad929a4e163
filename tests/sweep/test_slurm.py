"""One sweep through Hydra's submitit launchers, against a real SLURM: same results as joblib.

`submitit_slurm` needs a running cluster (as root: `bash scripts/slurm_up.sh`; .ci/run starts
one) and is skipped, saying why, without one. `submitit_local` needs nothing.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GRID = ["optimizer.lr=0.1,1", "trainer.batch_size=16,32", "trainer.epochs=2", "logger=none"]
SLURM = [
    "hydra/launcher=submitit_slurm", "hydra.launcher.partition=debug",
    "hydra.launcher.timeout_min=5", "hydra.launcher.cpus_per_task=1",
    "hydra.launcher.mem_gb=1", "hydra.launcher.array_parallelism=2",
]  # fmt: skip
LAUNCHERS = {"submitit_local": ["hydra/launcher=submitit_local"], "submitit_slurm": SLURM}


def no_slurm() -> str | None:
    """Why a SLURM sweep cannot run here, or None when a node is idle."""
    hint = "start a single-node cluster as root with `bash scripts/slurm_up.sh`"
    if shutil.which("sinfo") is None:
        return f"no SLURM here: `sinfo` not found; {hint}"
    done = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, timeout=30)
    states = done.stdout.split()
    if done.returncode != 0 or not {"idle", "mix"} & set(states):
        why = " ".join(done.stderr.split()) or f"node states: {states or 'none'}"
        return f"no idle SLURM node ({why}); {hint}"
    return None


def sweep(sweep_dir: Path, *launcher: str) -> subprocess.CompletedProcess:
    args = ["--multirun", *GRID, *launcher, f"hydra.sweep.dir={sweep_dir}"]
    return subprocess.run(
        [sys.executable, "-m", "src.train", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def results(sweep_dir: Path) -> dict[str, dict]:
    """Cell folder name -> its metrics, minus wall_seconds (the only field allowed to differ)."""
    found = {}
    for path in sweep_dir.glob("*/metrics.json"):
        metrics = json.loads(path.read_text())
        metrics.pop("wall_seconds")
        found[path.parent.name] = metrics
    return found


def summary(sweep_dir: Path) -> list[dict[str, str]]:
    with open(sweep_dir / "summary.csv", newline="") as f:
        return [{k: v for k, v in row.items() if k != "wall_seconds"} for row in csv.DictReader(f)]


def job_id(cell: Path) -> str:
    """The submitit job id Hydra recorded for the cell (joblib records none of its own)."""
    return str(yaml.safe_load((cell / ".hydra" / "hydra.yaml").read_text())["hydra"]["job"]["id"])


def slurm_jobs(array_id: str) -> dict[str, dict[str, str]]:
    """'<array>_<task>' -> slurmctld's record of that array task (`scontrol show job`)."""
    out = subprocess.run(["scontrol", "show", "job", "-o", array_id],
                         capture_output=True, text=True, timeout=30, check=True).stdout  # fmt: skip
    records = [dict(re.findall(r"(\S+?)=(\S*)", line)) for line in out.splitlines() if line]
    return {f"{r['ArrayJobId']}_{r['ArrayTaskId']}": r for r in records}


@pytest.fixture(scope="module")
def joblib_sweep(tmp_path_factory) -> Path:
    """The grid run with the default joblib launcher: the reference for every other launcher."""
    sweep_dir = tmp_path_factory.mktemp("joblib") / "sweep"
    proc = sweep(sweep_dir, "hydra.launcher.n_jobs=2")
    assert proc.returncode == 0, proc.stderr
    return sweep_dir


def check_ran_under_submitit(sweep_dir: Path, launcher: str) -> dict[Path, str]:
    """Every cell names its submitit job, whose log and result sit in .submitit/<job id>/."""
    cells = {path.parent: job_id(path.parent) for path in sweep_dir.glob("*/metrics.json")}
    for job in cells.values():
        logs = sweep_dir / ".submitit" / job
        assert (logs / f"{job}_0_result.pkl").is_file()
        log = (logs / f"{job}_0_log.out").read_text()
        assert f"Starting with JobEnvironment(job_id={job}," in log
    if launcher == "submitit_slurm":  # SLURM's own record, not a file submitit wrote
        arrays = {job.split("_")[0] for job in cells.values()}
        assert len(arrays) == 1, "all cells form one job array"
        jobs = slurm_jobs(arrays.pop())
        assert set(jobs) == set(cells.values())
        for job, record in jobs.items():
            assert record["JobState"] == "COMPLETED" and record["Partition"] == "debug"
            assert record["ArrayTaskThrottle"] == "2" and record["MinMemoryNode"] == "1G"
            assert record["StdOut"] == str(sweep_dir / ".submitit" / job / f"{job}_0_log.out")
    return cells


@pytest.mark.slow
@pytest.mark.parametrize("launcher", list(LAUNCHERS))
def test_sweep_matches_joblib_and_resumes(launcher, joblib_sweep, tmp_path):
    if launcher == "submitit_slurm" and (reason := no_slurm()):
        pytest.skip(reason)
    sweep_dir = tmp_path / "sweep"  # same folder name as the reference: same PNG title
    proc = sweep(sweep_dir, *LAUNCHERS[launcher])
    assert proc.returncode == 0, proc.stderr
    cells = check_ran_under_submitit(sweep_dir, launcher)
    assert len(cells) == 4
    # Identical to joblib: the cell folders and their numbers, the summary and the phase map.
    assert results(sweep_dir) == results(joblib_sweep)
    assert summary(sweep_dir) == summary(joblib_sweep) and len(summary(sweep_dir)) == 4
    for name in ("phase_map.md", "phase_map.png"):
        assert (sweep_dir / name).read_bytes() == (joblib_sweep / name).read_bytes()

    # Resume: only the cell without a metrics.json is computed again, by a new job.
    redo, *kept = sorted(cells)
    (redo / "metrics.json").unlink()
    mtimes = {cell: (cell / "metrics.json").stat().st_mtime_ns for cell in kept}
    proc = sweep(sweep_dir, *LAUNCHERS[launcher])
    assert proc.returncode == 0, proc.stderr
    assert all((cell / "metrics.json").stat().st_mtime_ns == t for cell, t in mtimes.items())
    assert check_ran_under_submitit(sweep_dir, launcher)[redo] != cells[redo]
    assert results(sweep_dir) == results(joblib_sweep)
    assert summary(sweep_dir) == summary(joblib_sweep)
