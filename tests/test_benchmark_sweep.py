"""The sweep benchmark: its report from known measurements, then one quick end-to-end run.

Nothing here gates on a measured time (benchmarks never gate CI on speed): the report is fed
made-up timings whose verdicts and ratios are known, and the real run checks what it ran.
"""

from __future__ import annotations

import argparse

import pytest

from benchmarks import sweep
from benchmarks.sweep import Cell
from benchmarks.sweep_report import markdown


def tables(text: str) -> dict[str, list[list[list[str]]]]:
    """The Markdown tables under each heading: rows of cells, header first, separator dropped."""
    found: dict[str, list[list[list[str]]]] = {}
    heading, previous = "", ""
    for line in text.splitlines():
        if line.startswith("#"):
            heading = line.lstrip("# ").split(":")[0]
        elif line.startswith("|") and not line.startswith("|---"):
            if not previous.startswith("|"):
                found.setdefault(heading, []).append([])
            found[heading][-1].append([cell.strip() for cell in line.strip("|").split(" | ")])
        previous = line
    return found


def sweep_run(overhead: float, wall: float, cells: int) -> dict:
    """One sweep's measurements; each worker's first cell is the one left out."""
    made = [Cell(batch=16 if i % 2 else 256, started=i, ended=i + 1 + (i % 2 == 0), train=0.5,
                 pid=i % 2,
                 between=0.1 if i >= 2 else float("nan")) for i in range(cells)]  # fmt: skip
    return {"wall": wall, "cells": made, "later": made[2:], "workers": "2 workers",
            "overhead": overhead, "between": 0.1, "inside": overhead - 0.1, "share": 0.2,
            "train": 0.5 * cells, "compose": 1.0, "launch": 0.5, "first": 0.3, "collect": 0.1,
            "png": 0.2, "exit": 0.3}  # fmt: skip


def fake_results(overhead: float, wall: float, cells: int, stopped: bool) -> dict:
    singles = {name: [{"seconds": 2.0, "wall_seconds": 1.0}] * 3 for name in sweep.SINGLES}
    logged = [{"seconds": s, "wall_seconds": 1.0} for s in (2.4, 2.1, 2.6)]
    singles["tensorboard (default)"] = logged
    diverged = {"outcome": "diverged", "steps": 12, "first_nonfinite_step": 12 if stopped else 11,
                "epochs_completed": 0, "seconds": 2.0, "wall_seconds": 0.1}  # fmt: skip
    healthy = {**diverged, "outcome": "converged", "steps": 28760, "first_nonfinite_step": None}
    return {
        "composition": [0.05],
        "sweeps": {name: [sweep_run(overhead, wall, cells)] for name in sweep.SWEEPS},
        "singles": singles,
        "diagnosis": {"inproc": {"with": [1.05], "without": [1.0]},
                      "cli": {"with": [2.0], "without": [2.0]}, "shares": [0.04]},
        "diverge": {"optimizer.lr=50": [diverged], "optimizer.lr=0.01": [healthy]},
    }  # fmt: skip


def report(results: dict) -> dict[str, list[str]]:
    facts = {"date": "today", "cpu": "cpu", "nproc": "2", "software": "py", "tree": "abc",
             "load_before": "0", "load_after": "0"}  # fmt: skip
    args = argparse.Namespace(argv=["--quick"], repeats=1, singles=3, grid=[])
    (targets,) = tables(markdown(results, facts, args))["Targets"]
    return {row[0]: row[1:] for row in targets[1:]}


def test_report_verdicts_follow_the_targets():
    good = report(fake_results(overhead=0.25, wall=25.0, cells=35, stopped=True))
    assert good["per-cell overhead ≤ 0.3 s (n_jobs=2)"] == ["0.250 s", "met"]
    assert good["default sweep ≤ 30 s on 2 cores (n_jobs=2)"] == ["25.0 s", "met"]
    # logging: command 2.4, 2.1, 2.6 s against 2.0 s: median ratio 1.2 > 1.1
    assert good["logging ≤ +10%: default run, whole command"] == ["1.200 (1.050–1.300)",
                                                                   "**missed**"]  # fmt: skip
    assert good["diagnosis ≤ +10%: default run, train()"] == ["1.050", "met"]
    assert good["a diverged run stops at its first non-finite step"] == ["12 of 28760 steps",
                                                                         "met"]  # fmt: skip
    bad = report(fake_results(overhead=0.35, wall=31.0, cells=4, stopped=False))
    assert bad["per-cell overhead ≤ 0.3 s (n_jobs=2)"] == ["0.350 s", "**missed**"]
    assert bad["default sweep ≤ 30 s on 2 cores (n_jobs=2)"] == [
        "31.0 s",
        "n/a: not the 35-cell grid",
    ]
    assert bad["a diverged run stops at its first non-finite step"][1] == "**missed**"


def test_report_pools_cells_per_batch_size():
    text = markdown(fake_results(0.25, 25.0, 6, True), {k: "" for k in (
        "date", "cpu", "nproc", "software", "tree", "load_before", "load_after")},
        argparse.Namespace(argv=[], repeats=1, singles=3, grid=[]))  # fmt: skip
    _, by_batch = tables(text)["Sweeps"]
    # cells 2..5 (each worker's first left out); in cell = ended - started - train():
    # batch 16 (odd i) 1 - 0.5, batch 256 (even i) 2 - 0.5; overhead adds 0.1 between cells.
    assert by_batch[1:] == [
        ["16", "2", "0.500", "0.600", "0.100", "0.500", "120%"],
        ["256", "2", "0.500", "1.600", "0.100", "1.500", "320%"],
    ]


@pytest.mark.slow  # ~30 s: four 4-cell sweeps and 3 repeats of each single run, as subprocesses
def test_quick_run_writes_every_table(tmp_path, capsys) -> None:
    out = tmp_path / "sweep.md"
    sweep.main(["--quick", "--out", str(out)])
    text = out.read_text()
    found = tables(text)
    assert set(found) == {"Targets", "Sweeps", "The default run (`python -m src.train`)",
                          "Divergence"}  # fmt: skip
    for table in (table for group in found.values() for table in group):
        assert len(table) > 1 and len({len(row) for row in table}) == 1  # rows as wide as header
    (targets,) = found["Targets"]
    assert len(targets) == 1 + 8
    assert all(row[2] in ("met", "**missed**") or row[2].startswith("n/a") for row in targets[1:])
    sweeps, by_batch = found["Sweeps"]
    assert [row[0] for row in sweeps[1:]] == list(sweep.SWEEPS)
    assert by_batch[0][0] == "batch"
    logging, diagnosis = found["The default run (`python -m src.train`)"]
    assert [row[0] for row in logging[1:]] == list(sweep.SINGLES)
    assert [row[0] for row in diagnosis[1:]] == ["train() in-process", "whole command"]
    divergence = {row[0]: row for row in found["Divergence"][0][1:]}
    assert divergence["optimizer.lr=50"][1] == "diverged"
    assert divergence["optimizer.lr=0.01"][1] == "converged"
    _, _, steps, first, epochs, *_ = divergence["optimizer.lr=50"]
    assert steps == first and int(steps) < 1438 and epochs == "0"  # stopped within epoch 1
    assert divergence["optimizer.lr=0.01"][2:5] == [str(20 * 1438), "None", "20"]
    assert targets[-1][1:] == [f"{steps} of {20 * 1438} steps", "met"]
    assert text in capsys.readouterr().out
