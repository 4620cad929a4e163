"""The boundary found by an edge search: boundary.csv rows, lr_max(bs) and its log-log fit."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

from src.edge.search import Bracket, Points, State, brackets, disagreement, lr_max

COLUMNS = ("batch_size", "others", "transition", "lo", "hi", "ratio", "resolved", "runs",
           "seeds_disagree_lo", "seeds_disagree_hi")  # fmt: skip
BEND_GAIN = 0.5  # a bend is reported when two segments leave < half the squared residual of one
BEND_TURN = 0.25  # ... and their slopes differ by at least this much


@dataclass(frozen=True)
class Row:
    """One boundary.csv row: a transition of one group, its bracket and the seeds' band."""

    batch_size: float | None
    others: str  # the group's other overrides, '' for the plain batch size x lr map
    bracket: Bracket
    resolved: bool
    runs: int
    band: tuple[float, float] | None


def split_group(group: tuple[str, ...], batch_key: str) -> tuple[float | None, str]:
    """('trainer.batch_size=16', 'activation=tanh') -> (16.0, 'activation=tanh')."""
    batch, others = None, []
    for item in group:
        key, _, value = item.partition("=")
        if key.lstrip("+") == batch_key:
            batch = float(value)
        elif key != "sweep":
            others.append(item)
    return batch, ", ".join(others)


def rows(state: State, batch_key: str, resolution: float) -> list[Row]:
    """Every transition of every group, by batch size then lr."""
    found = []
    for group, points in state.items():
        batch, others = split_group(group, batch_key)
        runs = sum(len(outcomes) for outcomes in points.values())
        for bracket in brackets(group, points):
            band = _band(points, bracket)
            found.append(Row(batch, others, bracket, bracket.ratio <= resolution, runs, band))
    return sorted(found, key=lambda r: (r.others, r.batch_size or 0.0, r.bracket.lo))


def _band(points: Points, bracket: Bracket) -> tuple[float, float] | None:
    """The run of lrs where the seeds disagree that touches the bracket, as (lowest, highest)."""
    lrs = sorted(points)
    mixed = set(disagreement(points))
    lo, hi = lrs.index(bracket.lo), lrs.index(bracket.hi)
    while lo >= 0 and lrs[lo] in mixed:
        lo -= 1
    while hi < len(lrs) and lrs[hi] in mixed:
        hi += 1
    inside = [lr for lr in lrs[lo + 1 : hi] if lr in mixed]
    return (inside[0], inside[-1]) if inside else None


def boundary_csv(found: list[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in found:
        b = row.bracket
        band = row.band or (None, None)
        batch = None if row.batch_size is None else f"{row.batch_size:g}"
        writer.writerow([batch, row.others, b.transition, b.lo, b.hi, f"{b.ratio:.4f}",
                         row.resolved, row.runs, *band])  # fmt: skip
    return buffer.getvalue()


@dataclass(frozen=True)
class Fit:
    """log10 lr_max = intercept + slope * log10 bs; and a two-segment fit's bend, if any."""

    slope: float
    intercept: float
    bend: float | None = None  # the critical batch size
    slope_below: float | None = None
    slope_above: float | None = None
    at_bend: float | None = None  # the two segments' log10 lr_max at the bend


def edges(state: State, batch_key: str) -> dict[str, list[tuple[float, Bracket]]]:
    """Per group of other overrides: (batch size, lr_max bracket), by batch size."""
    found: dict[str, list[tuple[float, Bracket]]] = {}
    for group, points in state.items():
        batch, others = split_group(group, batch_key)
        top = lr_max(group, points)
        if top is not None and batch is not None:
            found.setdefault(others, []).append((batch, top))
    return {k: sorted(v, key=lambda item: item[0]) for k, v in found.items()}


def fit_edge(batch_sizes: list[float], lrs: list[float]) -> Fit | None:
    """A line through (log bs, log lr_max); a continuous two-segment fit where it bends."""
    if len(set(batch_sizes)) < 2:
        return None
    x, y = np.log10(batch_sizes), np.log10(lrs)
    slope, intercept = np.polyfit(x, y, 1)
    line_sse = float(np.sum((intercept + slope * x - y) ** 2))
    if len(x) < 4:
        return Fit(float(slope), float(intercept))
    best = min((_hinge(x, y, knot) for knot in np.linspace(x[1], x[-2], 200)),
               key=lambda h: h[0])  # fmt: skip
    sse, knot, below, above, level = best
    if sse >= BEND_GAIN * line_sse or abs(above - below) < BEND_TURN:
        return Fit(float(slope), float(intercept))
    return Fit(float(slope), float(intercept), float(10**knot), below, above, level)


def _hinge(x: np.ndarray, y: np.ndarray, knot: float) -> tuple[float, ...]:
    """(squared residual, knot, slope below, slope above, y at the knot) of
    y = a + b x + c max(0, x - knot)."""
    design = np.stack([np.ones_like(x), x, np.maximum(0.0, x - knot)], axis=1)  # (n, 3)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    sse = float(np.sum((design @ coef - y) ** 2))
    a, b, c = map(float, coef)
    return sse, float(knot), b, b + c, a + b * knot


def fit_text(fit: Fit | None, n: int) -> str:
    """'lr_max ∝ bs^0.52 (log-log fit over 11 batch sizes); bends at bs ≈ 64: 0.98 → 0.03'."""
    if fit is None:
        return "lr_max(bs): fewer than two batch sizes with an edge, no slope"
    text = f"lr_max ∝ bs^{fit.slope:.2f} (log-log fit over {n} batch sizes)"
    if n < 4:
        return text + "; too few batch sizes (< 4) to look for a bend"
    if fit.bend is None:
        return text + "; no bend (two segments fit not much better than one line)"
    return (f"{text}; the slope bends at bs ≈ {fit.bend:.3g} (critical batch size): "
            f"{fit.slope_below:.2f} below, {fit.slope_above:.2f} above")  # fmt: skip
