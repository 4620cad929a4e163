"""The edge benchmark's verdicts from known outcomes (no training, no timing gates)."""

from __future__ import annotations

from benchmarks.edge import table, uniform_lrs
from src.edge.search import log_grid

BS = "trainer.batch_size"
STEP = 1.1


def points(outcomes: str, lrs: list[float]) -> dict[float, list[str]]:
    names = {"c": "converged", "l": "learning", "s": "stalled"}
    return {lr: [names[o]] for lr, o in zip(lrs, outcomes) if o != "."}  # '.': not run


def rows(edge: dict, uniform: dict) -> dict[str, list[str]]:
    """The agreement table's rows by batch size: made-up runs and wall times."""
    results = {"edge search": (10.0, 9, edge), "uniform log grid": (40.0, 36, uniform)}
    lines = table(results, STEP)
    assert "Edge search / uniform grid: 0.25 of the runs, 0.25 of the wall time." in lines
    cells = [line.strip("| ").split(" | ") for line in lines if line.startswith("| ")]
    return {row[0]: row for row in cells if row[0].isdigit()}


def test_lr_max_and_transitions_agree_where_both_saw_the_same_outcomes():
    lrs = [1.1**i for i in range(12)]
    # Batch 4 trains again at 2.14 after a stall (an island); batch 64 has a stalled pocket.
    uniform = {(f"{BS}=4",): points("ccccllssclss", lrs),
               (f"{BS}=64",): points("cccsccclssss", lrs),
               (f"{BS}=512",): points("ccllsssslsss", lrs)}  # fmt: skip
    # The search saw batch 4's island (the same outcomes where it ran) but no lr in the pocket.
    edge = {(f"{BS}=4",): points("c...l.s.cls.", lrs),
            (f"{BS}=64",): points("cc..c.cls...", lrs),
            (f"{BS}=512",): points("ccl.s..s.s..", lrs)}  # fmt: skip
    found = rows(edge, uniform)
    # columns: batch, lr_max uniform, lr_max edge, lr_max agrees, every transition, notes
    assert found["4"][1:5] == ["2.36–2.59", "2.36–2.59", "yes", "yes"]
    assert found["64"][1:5] == ["1.95–2.14", "1.95–2.14", "yes", "no"]
    assert "stalled→converged 1.33–1.46: missed" in found["64"][5]
    assert "learning→stalled 1.95–2.14: 1.95–2.14" in found["64"][5]
    # Batch 512's island (2.14) fell between two stalled runs of the search: lr_max differs.
    assert found["512"][1:5] == ["2.14–2.36", "1.21–1.46", "no", "no"]


def test_the_uniform_grid_is_the_lattice_the_search_draws_from():
    grid = uniform_lrs(1e-4, 100.0, 1.1)
    assert len(grid) == 148 and grid[::21] == log_grid(1e-4, 100.0, 8)  # the coarse lrs
