"""Bracket where a run's outcome changes along the learning rate, refining only there.

Pure logic, no Hydra: the state is the outcomes seen so far per (group, lr), where a group is
one row of the map (a batch size plus any other swept values except the seed). A round proposes
the geometric midpoints of neighbouring lrs whose majority outcomes differ and whose ratio is
still above the resolution.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

Group = Hashable  # one row of the map: the batch size and other swept values, minus lr and seed
# More severe last: a tie between seeds goes to the more severe outcome (the edge is not
# claimed on a coin toss).
SEVERITY = ("converged", "learning", "stalled", "diverged")
TRAINS = frozenset({"converged", "learning"})


def lr_text(lr: float) -> str:
    """The override text of a generated lr, 6 significant digits: 0.000316228, 1e-05, 3.16228."""
    return f"{lr:.6g}"


def log_grid(low: float, high: float, points: int) -> list[float]:
    """`points` lrs evenly spaced in log space from `low` to `high`, as their texts read."""
    if points == 1:
        return [float(lr_text(low))]
    step = (math.log(high) - math.log(low)) / (points - 1)
    return [float(lr_text(math.exp(math.log(low) + i * step))) for i in range(points)]


def midpoint(lo: float, hi: float) -> float:
    """The geometric midpoint, rounded as its override text reads."""
    return float(lr_text(math.sqrt(lo * hi)))


def majority(outcomes: Iterable[str]) -> str | None:
    """The most common outcome; a tie goes to the more severe one. None when there is none.

    An `error` run (it raised) says nothing about training and does not vote.
    """
    counts = Counter(o for o in outcomes if o != "error")
    if not counts:
        return None
    rank = {name: i for i, name in enumerate(SEVERITY)}
    return max(counts, key=lambda name: (counts[name], rank.get(name, len(SEVERITY))))


@dataclass(frozen=True)
class Bracket:
    """Neighbouring lrs `lo` < `hi` of one group whose majority outcomes differ."""

    group: Group
    lo: float
    hi: float
    below: str  # majority outcome at lo
    above: str  # majority outcome at hi

    @property
    def ratio(self) -> float:
        return self.hi / self.lo

    @property
    def transition(self) -> str:
        return f"{self.below}→{self.above}"


Points = dict[float, list[str]]  # lr -> the finished runs' outcomes (one per seed)


def brackets(group: Group, points: Points) -> list[Bracket]:
    """Every change of majority outcome between neighbouring lrs, lowest lr first."""
    known = sorted((lr, m) for lr, m in ((lr, majority(o)) for lr, o in points.items()) if m)
    return [
        Bracket(group, lo, hi, below, above)
        for (lo, below), (hi, above) in zip(known, known[1:])
        if below != above
    ]


def open_brackets(state: dict[Group, Points], resolution: float) -> list[Bracket]:
    """Brackets still wider than `resolution`, widest first (they get the budget first)."""
    wide = [
        b for group, points in state.items() for b in brackets(group, points)
        if b.ratio > resolution and midpoint(b.lo, b.hi) not in (b.lo, b.hi)
    ]  # fmt: skip
    return sorted(wide, key=lambda b: -b.ratio)


Point = tuple[Group, float]
State = dict[Group, Points]


def plan_round(
    state: State, resolution: float, runs_left: int, seeds: int, tried: Iterable[Point] = ()
) -> list[Point]:
    """The (group, lr) points of the next round: midpoints of open brackets within the budget.

    Each point costs `seeds` runs. A point that already has runs, or was `tried` already, is
    not proposed again (its runs failed or wrote nothing; a re-run of the command retries it).
    """
    planned: list[Point] = []
    skip = set(tried)
    for bracket in open_brackets(state, resolution):
        if runs_left < seeds:
            break
        lr = midpoint(bracket.lo, bracket.hi)
        if lr in state[bracket.group] or (bracket.group, lr) in skip:
            continue
        skip.add((bracket.group, lr))
        planned.append((bracket.group, lr))
        runs_left -= seeds
    return planned


def disagreement(points: Points) -> list[float]:
    """The lrs where the seeds did not all agree, ascending."""
    return sorted(lr for lr, outcomes in points.items() if len(set(outcomes)) > 1)


def lr_max(group: Group, points: Points) -> Bracket | None:
    """The highest bracket from an lr that trains to one that does not: the group's edge."""
    edges = [b for b in brackets(group, points) if b.below in TRAINS and b.above not in TRAINS]
    return edges[-1] if edges else None


def _voters(state: State, group: Group, lr: float) -> list[str]:
    return [o for o in state.get(group, {}).get(lr, []) if o != "error"]


def run_search(
    read: Callable[[], State],
    launch: Callable[[list[Point]], None],
    coarse: list[Point],
    resolution: float,
    budget: int,
    seeds: int = 1,
) -> int:
    """Run the coarse points not yet done, then refine in rounds; return the rounds launched.

    `read` returns the outcomes on disk (so a re-run continues where the last one stopped);
    `launch` runs every seed of the given points as one batch.
    """
    state, tried, rounds = read(), set(), 0
    todo = [(g, lr) for g, lr in coarse if len(_voters(state, g, lr)) < seeds]
    while True:
        if not todo:  # the coarse grid is done (now or by an earlier run): refine
            spent = len(tried | {(g, lr) for g, points in state.items() for lr in points}) * seeds
            todo = plan_round(state, resolution, budget - spent, seeds, tried)
            if not todo:
                return rounds
        launch(todo)
        tried.update(todo)
        rounds += 1
        state, todo = read(), []
