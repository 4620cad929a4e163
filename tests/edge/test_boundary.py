"""boundary.csv rows, the seeds' band, and the lr_max(bs) fit with its bend."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from src.edge.boundary import boundary_csv, edges, fit_edge, fit_text, rows

C, S, D = "converged", "stalled", "diverged"
BS = "trainer.batch_size"


def test_one_row_per_transition_with_its_bracket_runs_and_seed_band():
    state = {
        (f"{BS}=16",): {1e-4: [S, S, S], 1e-3: [C, C, S], 1e-2: [C, C, C], 1.0: [C, C, D],
                        1.05: [D, D, C], 2.0: [D, D, D]},
        (f"{BS}=4",): {1e-3: [C], 3.0: [D]},
    }  # fmt: skip
    found = rows(state, BS, resolution=1.1)
    table = list(csv.DictReader(io.StringIO(boundary_csv(found))))
    assert [(r["batch_size"], r["transition"]) for r in table] == [
        ("4", "converged→diverged"), ("16", "stalled→converged"), ("16", "converged→diverged")
    ]  # fmt: skip
    top = table[2]
    assert (float(top["lo"]), float(top["hi"]), top["ratio"]) == (1.0, 1.05, "1.0500")
    assert top["resolved"] == "True" and top["runs"] == "18"
    assert (float(top["seeds_disagree_lo"]), float(top["seeds_disagree_hi"])) == (1.0, 1.05)
    low = table[1]
    assert (float(low["seeds_disagree_lo"]), float(low["seeds_disagree_hi"])) == (1e-3, 1e-3)
    assert table[0]["resolved"] == "False" and table[0]["seeds_disagree_lo"] == ""


def test_fit_finds_the_slope_and_where_it_bends():
    bs = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
    # Linear scaling (slope 1) up to bs 32, flat above: the critical batch size is 32.
    lrs = [0.01 * min(b, 32) for b in bs]
    fit = fit_edge(bs, lrs)
    assert fit.bend == pytest.approx(32, rel=0.1)
    assert fit.slope_below == pytest.approx(1.0, abs=0.02)
    assert fit.slope_above == pytest.approx(0.0, abs=0.02)
    assert "bends at bs ≈ 3" in fit_text(fit, len(bs))
    straight = fit_edge(bs, [0.01 * b**0.5 for b in bs])
    assert straight.slope == pytest.approx(0.5) and straight.bend is None
    assert "no bend" in fit_text(straight, len(bs))
    assert fit_edge([16], [0.1]) is None


def test_lr_max_is_the_highest_edge_from_training_to_failing():
    state = {(f"{BS}={b}",): {1e-4: [S], 1e-2: [C], 0.1 * b: [C], 0.2 * b: [D]} for b in (1, 8)}
    series = edges(state, BS)[""]
    assert [(b, br.lo, br.hi) for b, br in series] == [(1.0, 0.1, 0.2), (8.0, 0.8, 1.6)]
    fit = fit_edge([b for b, _ in series], [br.lo for _, br in series])
    assert fit.slope == pytest.approx(1.0) and np.isfinite(fit.intercept)
