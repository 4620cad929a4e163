"""The bracketing logic on synthetic outcome functions with known edges (no training)."""

from __future__ import annotations

import math

from src.edge.search import (
    Bracket,
    Refine,
    brackets,
    disagreement,
    lattice,
    log_grid,
    lr_max,
    majority,
    plan_round,
    probes,
    run_search,
)

BATCHES = [1, 4, 16, 64, 256, 1024]


def edge(bs: int) -> float:
    """A known edge: lr_max grows like sqrt(bs) from 0.3 at bs 1 (a made-up law)."""
    return 0.3 * math.sqrt(bs)


def outcome(bs: int, lr: float, seed: int = 0) -> str:
    if lr < 1e-3:
        return "stalled"  # too small to move in the budget of steps
    return "converged" if lr < edge(bs) else "diverged"


class Runner:
    """Runs points by calling `outcome`; counts runs and rounds like the sweeper's launcher."""

    def __init__(self, seeds: int = 1, rule=outcome) -> None:
        self.seeds, self.rule = seeds, rule
        self.state: dict = {bs: {} for bs in BATCHES}
        self.runs, self.batches = 0, []

    def read(self) -> dict:
        return {g: {lr: list(o) for lr, o in points.items()} for g, points in self.state.items()}

    def launch(self, points: list) -> None:
        self.batches.append(len(points) * self.seeds)
        for bs, lr in points:
            runs = [self.rule(bs, lr, seed) for seed in range(self.seeds)]
            self.state[bs][lr] = runs
            self.runs += len(runs)


LATTICE = lattice(1e-4, 1e2, 8, 1.1)  # 148 lrs, step 10^(6/147) = 1.0985
REFINE = Refine(1.1, lattice=LATTICE)


def coarse() -> list:
    return [(bs, lr) for bs in BATCHES for lr in LATTICE[::21]]


def test_log_grid_and_lattice_read_as_their_override_texts():
    assert log_grid(1e-4, 1e2, 7) == [1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0]
    assert list(LATTICE[::21]) == log_grid(1e-4, 1e2, 8)  # it holds the coarse grid
    assert len(LATTICE) == 148 and LATTICE[1] == 0.000109854  # 6 significant digits
    assert max(b / a for a, b in zip(LATTICE, LATTICE[1:])) <= 1.1
    assert REFINE.middle(LATTICE[0], LATTICE[21]) in (LATTICE[10], LATTICE[11])
    assert REFINE.middle(LATTICE[3], LATTICE[4]) is None  # neighbours: nothing between
    # No lattice: the point nearest the middle of the span's own log grid (49 steps of 1.0985).
    assert Refine(1.1).middle(0.01, 1.0) == 0.104811


def test_majority_ties_go_to_the_more_severe_outcome():
    assert majority(["converged", "diverged", "converged"]) == "converged"
    assert majority(["converged", "diverged"]) == "diverged"
    assert majority(["stalled", "diverged"]) == "diverged"
    assert majority([]) is None
    assert majority(["error", "error", "converged"]) == "converged"  # a crash does not vote
    assert majority(["error"]) is None


def test_brackets_name_each_change_of_outcome():
    points = {1e-4: ["stalled"], 1e-2: ["converged"], 1.0: ["converged"], 10.0: ["diverged"]}
    assert brackets(16, points) == [
        Bracket(16, 1e-4, 1e-2, "stalled", "converged"),
        Bracket(16, 1.0, 10.0, "converged", "diverged"),
    ]
    assert lr_max(16, points) == Bracket(16, 1.0, 10.0, "converged", "diverged")


def test_search_brackets_every_edge_to_the_resolution():
    runner = Runner()
    rounds = run_search(runner.read, runner.launch, coarse(), REFINE, budget=1000)
    for bs in BATCHES:
        found = brackets(bs, runner.state[bs])
        assert [b.transition for b in found] == ["stalled→converged", "converged→diverged"]
        assert all(b.ratio <= 1.1 for b in found)
        top = lr_max(bs, runner.state[bs])
        assert top.lo < edge(bs) <= top.hi  # the true edge lies inside the bracket
        assert found[0].lo < 1e-3 <= found[0].hi
    # A coarse step is 21 lattice steps; halving 21 -> 10|11 -> 5|6 -> 2|3 -> 1|2 -> 1 takes 4
    # or 5 middles per edge: 48 coarse runs + 52 = 100, in 1 + 5 rounds.
    assert runner.runs == 100
    assert rounds == 6 and runner.batches == [48, 12, 12, 12, 12, 4]
    uniform = len(LATTICE)
    assert runner.runs * 3 <= uniform * len(BATCHES)


def test_budget_stops_the_refinement_and_widest_brackets_go_first():
    runner = Runner()
    run_search(runner.read, runner.launch, coarse(), REFINE, budget=60)
    assert runner.runs == 60
    assert runner.batches == [48, 12]  # one round: every edge halved once, no more


def test_plan_round_keeps_within_the_runs_left_and_prefers_wide_brackets():
    state = {
        1: {1.0: ["converged"], 100.0: ["diverged"]},
        2: {1.0: ["converged"], 2.0: ["diverged"]},
    }
    assert plan_round(state, Refine(1.1), runs_left=1, seeds=1) == [(1, 10.4811)]
    assert plan_round(state, Refine(1.1), runs_left=2, seeds=3) == []
    fine = Refine(2.5, lattice=(1.0, 1.5, 2.0, 10.0, 100.0))  # 2.0 is fine already
    assert plan_round(state, fine, runs_left=9, seeds=1) == [(1, 10.0)]


def test_seeds_vote_and_their_disagreement_is_reported():
    def noisy(bs: int, lr: float, seed: int) -> str:
        # seed 2 diverges from 0.8 x the edge on: the majority edge is unchanged.
        if seed == 2 and lr >= 0.8 * edge(bs):
            return "diverged"
        return outcome(bs, lr)

    runner = Runner(seeds=3, rule=noisy)
    run_search(runner.read, runner.launch, coarse(), REFINE, budget=1000, seeds=3)
    for bs in BATCHES:
        top = lr_max(bs, runner.state[bs])
        assert top.lo < edge(bs) <= top.hi and top.ratio <= 1.1
        band = disagreement(runner.state[bs])
        assert band and all(0.8 * edge(bs) <= lr < edge(bs) for lr in band)
    assert runner.runs == 100 * 3


def test_resume_runs_only_what_is_missing():
    first = Runner()
    run_search(first.read, first.launch, coarse(), REFINE, budget=60)
    second = Runner()
    second.state = first.read()  # what the interrupted sweep left on disk
    run_search(second.read, second.launch, coarse(), REFINE, budget=1000)
    assert second.batches[0] == 12  # no coarse run again: straight to the next midpoints
    assert first.runs + second.runs == 100


def test_points_that_write_nothing_are_not_retried_forever():
    runner = Runner()

    def launch(points):  # jobs that finish without a result (e.g. killed)
        runner.batches.append(len(points))
        for bs, lr in points:
            if lr in log_grid(1e-4, 1e2, 8):
                runner.state[bs][lr] = [outcome(bs, lr)]

    assert run_search(runner.read, launch, coarse(), REFINE, budget=1000) == 2


def island(bs: int, lr: float, seed: int = 0) -> str:
    """Above the edge the ReLUs die (stalled), except in a narrow band at 2.2 x the edge that
    trains again: an island between two coarse lrs, 1.15 wide, as seen on the real net."""
    if lr < 1e-3:
        return "stalled"
    inside = 2.2 * edge(bs) <= lr < 2.2 * 1.15 * edge(bs)
    return "converged" if lr < edge(bs) or inside else "stalled"


def test_probes_above_the_edge_find_an_island_that_bisection_misses():
    uniform = len(LATTICE)
    plain = Runner(rule=island)
    run_search(plain.read, plain.launch, coarse(), REFINE, budget=2000)  # window 1: no probes
    missed = [bs for bs in BATCHES if lr_max(bs, plain.state[bs]).lo < edge(bs)]
    assert missed == [4, 16, 256, 1024]  # found only where a middle fell inside the island

    runner = Runner(rule=island)
    rounds = run_search(runner.read, runner.launch, coarse(), Refine(1.1, 3.0, LATTICE), 2000)
    for bs in BATCHES:
        top = lr_max(bs, runner.state[bs])  # lr_max is the island's top, bracketed to 1.1
        assert 2.2 * edge(bs) <= top.lo < 2.2 * 1.15 * edge(bs) <= top.hi and top.ratio <= 1.1
        found = [b.transition for b in brackets(bs, runner.state[bs])]
        both = ["stalled→converged", "converged→stalled"] * 2  # the edge and the island
        # Where bisection fell into the island, the dip below it is not looked for: probes
        # serve lr_max, the largest lr that trains.
        assert found == (both if bs in missed else both[:2])
    assert runner.runs == 190 and runner.runs * 3 <= uniform * len(BATCHES) and rounds == 10


def test_probes_space_failing_spans_above_the_top_within_the_window():
    points = {1.0: ["converged"], 1.05: ["stalled"], 2.0: ["stalled"], 8.0: ["stalled"]}
    found = probes(points, Refine(1.1, 3.0))
    lrs = sorted([*points, *found])
    assert max(b / a for a, b in zip(lrs, lrs[1:]) if a < 3.0) <= 1.1  # no gap wider below 3
    assert 3.0 <= max(found) < 3.0 * 1.1  # one step past the window, no further
    assert len(found) == 6 + 5  # 1.05..2 in 7 steps, 2..8 in 15 steps of which 5 start below 3
    assert probes(points, Refine(1.1)) == []  # off
    assert probes({1.0: ["stalled"], 8.0: ["stalled"]}, Refine(1.1, 3.0)) == []  # nothing trains
    # A span of two different failures is a bracket, refined by bisection, not probed.
    split = {1.0: ["converged"], 1.05: ["stalled"], 2.0: ["diverged"]}
    assert probes(split, Refine(1.1, 3.0)) == []
