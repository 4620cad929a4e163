"""repair.csv rows and the map after repair."""

from __future__ import annotations

import csv

from src.repair.outputs import map_axes, repaired_sweep, write_csv
from src.repair.rounds import failed_runs, repair_rounds
from src.sweep.collect import collect
from src.sweep.layout import Spot
from src.sweep.phase_map import cell_label
from tests.repair.fake import ScriptedLauncher, finding, make_run, result

LOW = finding("learning_rate_too_low", "optimizer.lr=0.1")
DEAD = finding("dead_relu", "optimizer.lr=0.05")


def repaired(tmp_path):
    """A 3-cell sweep: one converged, one that a repair fixes, one that stays failed."""
    make_run(tmp_path, ["optimizer.lr=0.1"], result("converged", 0.97))
    make_run(tmp_path, ["optimizer.lr=1e-4"], result("stalled", 0.1, LOW))
    make_run(tmp_path, ["optimizer.lr=10"], result("stalled", 0.09, DEAD))

    def answer(overrides):
        fixed = "optimizer.lr=0.1" in overrides
        return result("converged", 0.95) if fixed else result("learning", 0.4, DEAD)

    sweep = collect(tmp_path)
    repairs = failed_runs([cell.folder for cell in sweep.cells])
    repair_rounds(repairs, tries=2, launch=ScriptedLauncher(answer))
    return sweep, repairs


def read(path):
    with open(path, newline="") as f:
        return {row["cell"]: row for row in csv.DictReader(f)}


def test_repair_csv_lists_each_failed_cell_with_its_attempts(tmp_path):
    sweep, repairs = repaired(tmp_path)
    write_csv(tmp_path / "repair.csv", repairs)
    rows = read(tmp_path / "repair.csv")
    assert set(rows) == {"optimizer.lr=1e-4", "optimizer.lr=10"}  # the converged cell is not
    fixed, stuck = rows["optimizer.lr=1e-4"], rows["optimizer.lr=10"]
    assert (fixed["attempts"], fixed["overrides"], fixed["final_outcome"]) == (
        "1", "optimizer.lr=0.1", "converged")  # fmt: skip
    assert fixed["final_run"] == "repairs/optimizer.lr=1e-4.repair1"
    assert (stuck["attempts"], stuck["outcomes"], stuck["final_outcome"]) == (
        "1", "learning", "learning")  # lr=0.05 suggested again: not rerun  # fmt: skip
    assert stuck["stopped"] == "suggestion already applied"
    assert stuck["cause"] == "dead_relu"


def test_repair_csv_keeps_rows_of_other_runs(tmp_path):
    sweep, repairs = repaired(tmp_path)
    write_csv(tmp_path / "repair.csv", repairs[:1])
    write_csv(tmp_path / "repair.csv", repairs[1:])
    assert set(read(tmp_path / "repair.csv")) == {"optimizer.lr=1e-4", "optimizer.lr=10"}


def test_the_repaired_map_shows_outcomes_after_repair_and_marks_cells_still_failed(tmp_path):
    sweep, repairs = repaired(tmp_path)
    after = repaired_sweep(sweep, repairs)
    labels = {cell.folder.name: cell_label(Spot((cell,))) for cell in after.cells}
    assert labels == {
        "optimizer.lr=0.1": "converged 0.97",
        "optimizer.lr=1e-4": "converged 0.95 (fixed_in 1)",
        "optimizer.lr=10": "learning 0.40 (still_dead_relu)",
    }
    assert [cell.overrides for cell in after.cells] == [cell.overrides for cell in sweep.cells]


def test_the_repaired_map_uses_the_axes_of_the_sweeps_own_map(tmp_path):
    assert map_axes(tmp_path) == (None, None)  # no multirun.yaml: the default axes
    (tmp_path / "multirun.yaml").write_text(
        "hydra:\n  callbacks:\n    sweep_summary: {rows: optimizer.lr, cols: activation}\n"
    )
    assert map_axes(tmp_path) == ("optimizer.lr", "activation")
