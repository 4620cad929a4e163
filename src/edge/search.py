"""Bracket where a run's outcome changes along the learning rate, refining only there.

Pure logic, no Hydra: the state is the outcomes seen so far per (group, lr), where a group is
one row of the map (a batch size plus any other swept values except the seed). A round proposes
the middles of neighbouring lrs whose majority outcomes differ and whose ratio is still above
the resolution; then probes above the highest lr that trains, up to `window` times it, so that
no two neighbouring runs there are more than the resolution apart: outcomes are not monotone
near the edge, and an island that trains again above the first failure moves lr_max. New lrs
come from a lattice, the uniform log grid of the resolution, when there is one: the search then
runs a subset of that grid's points and sees at each what the uniform grid would see.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
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


def log_steps(ratio: float, resolution: float) -> int:
    """The fewest equal log steps that span `ratio` with none wider than `resolution`."""
    return max(1, math.ceil(math.log(ratio) / math.log(resolution) - 1e-6))


def log_grid(low: float, high: float, points: int) -> list[float]:
    """`points` lrs evenly spaced in log space from `low` to `high`, as their texts read."""
    if points == 1:
        return [float(lr_text(low))]
    step = (math.log(high) - math.log(low)) / (points - 1)
    return [float(lr_text(math.exp(math.log(low) + i * step))) for i in range(points)]


def lattice(low: float, high: float, points: int, resolution: float) -> tuple[float, ...]:
    """The uniform log grid from `low` to `high` with steps <= `resolution` that holds the
    coarse grid of `points` lrs (every k-th lattice lr), as the texts read."""
    per_coarse = math.ceil(log_steps(high / low, resolution) / (points - 1))
    return tuple(log_grid(low, high, (points - 1) * per_coarse + 1))


@dataclass(frozen=True)
class Refine:
    """How the search refines: brackets to hi/lo <= `resolution`; above the highest lr that
    trains, up to `window` times it, runs <= `resolution` apart (`window` 1: no probes). New
    lrs are `lattice` points (a log grid of steps <= resolution) or, without a lattice, points
    of the log grid of the span itself."""

    resolution: float
    window: float = 1.0
    lattice: tuple[float, ...] = ()

    def between(self, lo: float, hi: float) -> list[float]:
        """The lrs a new run may take strictly between `lo` and `hi`, ascending."""
        if self.lattice:
            inside = self.lattice[bisect_right(self.lattice, lo) : bisect_left(self.lattice, hi)]
        else:
            inside = log_grid(lo, hi, log_steps(hi / lo, self.resolution) + 1)
        return [lr for lr in inside if lo < lr < hi]

    def middle(self, lo: float, hi: float) -> float | None:
        """The lr between `lo` and `hi` nearest their geometric midpoint; None when none is."""
        centre = math.sqrt(lo * hi)
        return min(self.between(lo, hi), key=lambda lr: abs(math.log(lr / centre)), default=None)


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


def _known(points: Points) -> list[tuple[float, str]]:
    """(lr, majority outcome) of every lr with a vote, ascending."""
    return sorted((lr, m) for lr, m in ((lr, majority(o)) for lr, o in points.items()) if m)


def brackets(group: Group, points: Points) -> list[Bracket]:
    """Every change of majority outcome between neighbouring lrs, lowest lr first."""
    known = _known(points)
    return [
        Bracket(group, lo, hi, below, above)
        for (lo, below), (hi, above) in zip(known, known[1:])
        if below != above
    ]


def open_brackets(state: dict[Group, Points], refine: Refine) -> list[Bracket]:
    """Brackets still wider than the resolution, widest first (they get the budget first)."""
    wide = [
        b for group, points in state.items() for b in brackets(group, points)
        if b.ratio > refine.resolution * (1 + 1e-5) and refine.middle(b.lo, b.hi) is not None
    ]  # fmt: skip
    return sorted(wide, key=lambda b: -b.ratio)


Point = tuple[Group, float]
State = dict[Group, Points]


def probes(points: Points, refine: Refine) -> list[float]:
    """Lrs that split each span of one failing outcome above the highest lr that trains, up to
    `refine.window` times it, into steps <= the resolution (the runs that look for an island)."""
    known = _known(points)
    top = max((lr for lr, m in known if m in TRAINS), default=None)
    if top is None:
        return []
    reach, found = top * refine.window, []
    for (lo, below), (hi, above) in zip(known, known[1:]):
        if top < lo < reach and below == above and hi / lo > refine.resolution * (1 + 1e-5):
            spaced = refine.between(lo, hi)
            found += [lr for lr, prev in zip(spaced, [lo, *spaced]) if prev < reach]
    return found


def plan_round(
    state: State, refine: Refine, runs_left: int, seeds: int, tried: Iterable[Point] = ()
) -> list[Point]:
    """The (group, lr) points of the next round within the budget: the middles of open
    brackets (widest first), then the probes above each group's edge (see `probes`).

    Each point costs `seeds` runs. A point that already has runs, or was `tried` already, is
    not proposed again (its runs failed or wrote nothing; a re-run of the command retries it).
    """
    wanted = [(b.group, refine.middle(b.lo, b.hi)) for b in open_brackets(state, refine)]
    wanted += [(g, lr) for g, points in state.items() for lr in probes(points, refine)]
    planned: list[Point] = []
    skip = set(tried)
    for group, lr in wanted:
        if runs_left < seeds:
            break
        if lr is None or lr in state[group] or (group, lr) in skip:
            continue
        skip.add((group, lr))
        planned.append((group, lr))
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
    refine: Refine,
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
            todo = plan_round(state, refine, budget - spent, seeds, tried)
            if not todo:
                return rounds
        launch(todo)
        tried.update(todo)
        rounds += 1
        state, todo = read(), []
