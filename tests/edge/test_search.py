"""The bracketing logic on synthetic outcome functions with known edges (no training)."""

from __future__ import annotations

import math

from src.edge.search import (
    Bracket,
    brackets,
    disagreement,
    log_grid,
    lr_max,
    majority,
    midpoint,
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


def coarse(points: int = 8) -> list:
    return [(bs, lr) for bs in BATCHES for lr in log_grid(1e-4, 1e2, points)]


def test_log_grid_and_midpoint_read_as_their_override_texts():
    assert log_grid(1e-4, 1e2, 7) == [1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0]
    assert len(log_grid(1e-4, 1e2, 8)) == 8
    assert midpoint(0.01, 1.0) == 0.1
    assert midpoint(1.0, 2.0) == 1.41421  # 6 significant digits, as the cell folder names it


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
    rounds = run_search(runner.read, runner.launch, coarse(), 1.1, budget=1000)
    for bs in BATCHES:
        found = brackets(bs, runner.state[bs])
        assert [b.transition for b in found] == ["stalled→converged", "converged→diverged"]
        assert all(b.ratio <= 1.1 for b in found)
        top = lr_max(bs, runner.state[bs])
        assert top.lo < edge(bs) <= top.hi  # the true edge lies inside the bracket
        assert found[0].lo < 1e-3 <= found[0].hi
    # Coarse ratio 10^(6/7) = 7.2 halves (in log) to <= 1.1 in 5 midpoints per edge:
    # 48 coarse runs + 6 batch sizes x 2 edges x 5 = 108, in 1 + 5 rounds.
    assert runner.runs == 108
    assert rounds == 6 and runner.batches[0] == 48
    assert runner.batches[1:] == [12] * 5
    uniform = len(log_grid(1e-4, 1e2, math.ceil(math.log(1e6) / math.log(1.1)) + 1))
    assert runner.runs * 3 <= uniform * len(BATCHES)


def test_budget_stops_the_refinement_and_widest_brackets_go_first():
    runner = Runner()
    run_search(runner.read, runner.launch, coarse(), 1.1, budget=60)
    assert runner.runs == 60
    assert runner.batches == [48, 12]  # one round: every edge halved once, no more


def test_plan_round_keeps_within_the_runs_left_and_prefers_wide_brackets():
    state = {
        1: {1.0: ["converged"], 100.0: ["diverged"]},
        2: {1.0: ["converged"], 2.0: ["diverged"]},
    }
    assert plan_round(state, 1.1, runs_left=1, seeds=1) == [(1, 10.0)]
    assert plan_round(state, 1.1, runs_left=2, seeds=3) == []
    assert plan_round(state, 2.5, runs_left=9, seeds=1) == [(1, 10.0)]  # 2.0 is fine already


def test_seeds_vote_and_their_disagreement_is_reported():
    def noisy(bs: int, lr: float, seed: int) -> str:
        # seed 2 diverges from 0.8 x the edge on: the majority edge is unchanged.
        if seed == 2 and lr >= 0.8 * edge(bs):
            return "diverged"
        return outcome(bs, lr)

    runner = Runner(seeds=3, rule=noisy)
    run_search(runner.read, runner.launch, coarse(), 1.1, budget=1000, seeds=3)
    for bs in BATCHES:
        top = lr_max(bs, runner.state[bs])
        assert top.lo < edge(bs) <= top.hi and top.ratio <= 1.1
        band = disagreement(runner.state[bs])
        assert band and all(0.8 * edge(bs) <= lr < edge(bs) for lr in band)
    assert runner.runs == 108 * 3


def test_resume_runs_only_what_is_missing():
    first = Runner()
    run_search(first.read, first.launch, coarse(), 1.1, budget=60)
    second = Runner()
    second.state = first.read()  # what the interrupted sweep left on disk
    run_search(second.read, second.launch, coarse(), 1.1, budget=1000)
    assert second.batches[0] == 12  # no coarse run again: straight to the next midpoints
    assert first.runs + second.runs == 108


def test_points_that_write_nothing_are_not_retried_forever():
    runner = Runner()

    def launch(points):  # jobs that finish without a result (e.g. killed)
        runner.batches.append(len(points))
        for bs, lr in points:
            if lr in log_grid(1e-4, 1e2, 8):
                runner.state[bs][lr] = [outcome(bs, lr)]

    assert run_search(runner.read, launch, coarse(), 1.1, budget=1000) == 2


def island(bs: int, lr: float, seed: int = 0) -> str:
    """Above the edge the ReLUs die (stalled), except in a narrow band at 2.2 x the edge that
    trains again: an island between two coarse lrs, 1.15 wide, as seen on the real net."""
    if lr < 1e-3:
        return "stalled"
    inside = 2.2 * edge(bs) <= lr < 2.2 * 1.15 * edge(bs)
    return "converged" if lr < edge(bs) or inside else "stalled"


def test_probes_above_the_edge_find_an_island_that_bisection_misses():
    uniform = len(log_grid(1e-4, 1e2, math.ceil(math.log(1e6) / math.log(1.1)) + 1))
    plain = Runner(rule=island)
    run_search(plain.read, plain.launch, coarse(), 1.1, budget=2000)  # window 1: no probes
    missed = [bs for bs in BATCHES if lr_max(bs, plain.state[bs]).lo < edge(bs)]
    assert len(missed) >= 5  # only where a coarse lr happens to fall inside the island

    runner = Runner(rule=island)
    run_search(runner.read, runner.launch, coarse(), 1.1, budget=2000, window=3.0)
    for bs in BATCHES:
        top = lr_max(bs, runner.state[bs])  # lr_max is the island's top, bracketed to 1.1
        assert 2.2 * edge(bs) <= top.lo < 2.2 * 1.15 * edge(bs) <= top.hi and top.ratio <= 1.1
        found = [b.transition for b in brackets(bs, runner.state[bs])]
        both = ["stalled→converged", "converged→stalled"] * 2  # the edge and the island
        # Where bisection fell into the island, the dip below it is not looked for: probes
        # serve lr_max, the largest lr that trains.
        assert found == (both if bs in missed else both[:2])
    assert runner.runs == 203 and runner.runs * 3 <= uniform * len(BATCHES)


def test_probes_space_failing_spans_above_the_top_within_the_window():
    points = {1.0: ["converged"], 1.05: ["stalled"], 2.0: ["stalled"], 8.0: ["stalled"]}
    found = probes(points, 1.1, window=3.0)
    lrs = sorted([*points, *found])
    assert max(b / a for a, b in zip(lrs, lrs[1:]) if a < 3.0) <= 1.1  # no gap wider below 3
    assert 3.0 <= max(found) < 3.0 * 1.1  # one step past the window, no further
    assert len(found) == 6 + 5  # 1.05..2 in 7 steps, 2..8 in 15 steps of which 5 start below 3
    assert probes(points, 1.1, window=1.0) == []  # off
    assert probes({1.0: ["stalled"], 8.0: ["stalled"]}, 1.1, 3.0) == []  # nothing trains
    # A span of two different failures is a bracket, refined by bisection, not probed.
    assert probes({1.0: ["converged"], 1.05: ["stalled"], 2.0: ["diverged"]}, 1.1, 3.0) == []
