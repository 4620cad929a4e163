"""Edge-search figures: the map at the runs' true positions, and lr_max(bs) on log-log axes."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from src.edge.boundary import Fit, Row, split_group
from src.edge.search import Bracket, State, disagreement, majority
from src.results import write_bytes_atomic
from src.sweep.phase_map import COLORS

DPI = 100
LINES = (("black", "-"), ("black", "--"), ("#1f3fbf", ":"), ("#1f3fbf", "-."),
         ("#7a1fbf", "-"), ("#7a1fbf", "--"))  # fmt: skip


def bands(values: list[float]) -> np.ndarray:
    """Cell edges around sorted positive values: geometric midpoints, half a step outside."""
    logs = np.log(values)
    if len(logs) == 1:
        return np.exp(logs[0] + np.array([-0.35, 0.35]))
    mids = (logs[1:] + logs[:-1]) / 2
    return np.exp(np.concatenate([[2 * logs[0] - mids[0]], mids, [2 * logs[-1] - mids[-1]]]))


def write_map(path: Path, state: State, found: list[Row], batch_key: str, lr_key: str) -> None:
    """One panel per group of other overrides: a cell per run, the transitions as lines."""
    panels: dict[str, dict[float, dict]] = {}
    for group, points in state.items():
        batch, others = split_group(group, batch_key)
        panels.setdefault(others, {})[batch or 1.0] = points
    fig = Figure(figsize=(9, 1.5 + 4.0 * len(panels)), layout="constrained")
    FigureCanvasAgg(fig)
    for ax, (others, rows_) in zip(fig.subplots(len(panels), 1, squeeze=False)[:, 0],
                                   sorted(panels.items())):  # fmt: skip
        _draw_runs(ax, rows_)
        _draw_boundary(ax, [r for r in found if r.others == others], sorted(rows_))
        ax.set(xscale="log", yscale="log", xlabel=f"{lr_key} (log scale)",
               ylabel=f"{batch_key} (log scale)", title=others or None)  # fmt: skip
        ax.set_yticks(sorted(rows_), [f"{b:g}" for b in sorted(rows_)], minor=False)
        ax.yaxis.set_minor_formatter("")
        if ax.get_legend_handles_labels()[0]:  # no transition, no legend (matplotlib warns)
            ax.legend(loc="upper left", fontsize=7)
    handles = [Patch(facecolor=c, edgecolor="grey", label=o) for o, c in COLORS.items()]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(COLORS), fontsize=8)
    fig.suptitle(f"Edge search of {path.parent.name}: every run at its true position", fontsize=10)
    _save(fig, path)


def _draw_runs(ax: Axes, rows_: dict[float, dict]) -> None:
    cmap = ListedColormap(list(COLORS.values()))
    batches = sorted(rows_)
    y_edges = bands(batches)
    for i, batch in enumerate(batches):
        points = rows_[batch]
        lrs = sorted(lr for lr, outcomes in points.items() if outcomes)
        if not lrs:
            continue
        codes = [[list(COLORS).index(_colour_of(points[lr])) for lr in lrs]]  # (1, n)
        ax.pcolormesh(bands(lrs), y_edges[i : i + 2], np.array(codes), cmap=cmap, vmin=-0.5,
                      vmax=len(COLORS) - 0.5, edgecolors="white", linewidth=0.3)  # fmt: skip
        mixed = disagreement(points)
        if mixed:
            ax.plot(mixed, [batch] * len(mixed), "kx", markersize=4,
                    label="seeds disagree" if i == 0 else None)  # fmt: skip


def _colour_of(outcomes: list[str]) -> str:
    """The majority outcome that has a colour (errors only when nothing else finished)."""
    vote = majority(o for o in outcomes if o in COLORS and o != "error")
    return vote or ("error" if "error" in outcomes else "pending")


def _draw_boundary(ax: Axes, found: list[Row], batches: list[float]) -> None:
    """A step line per transition through its lowest bracket's geometric middle per batch size,
    broken where a batch size lacks it; a second bracket of that name (an island) is a mark."""
    y_edges = bands(batches)
    names = list(dict.fromkeys(r.bracket.transition for r in found))
    for name, (color, style) in zip(names, LINES * len(names)):
        xs, ys = [], []
        for i, batch in enumerate(batches):
            here = [r.bracket for r in found if (r.batch_size or 1.0) == batch
                    and r.bracket.transition == name]  # fmt: skip
            band = [y_edges[i], y_edges[i + 1]]
            for extra in here[1:]:
                mark = math.sqrt(extra.lo * extra.hi)
                ax.plot([mark, mark], band, color=color, linestyle=style, linewidth=1.5)
            x = math.sqrt(here[0].lo * here[0].hi) if here else math.nan
            xs += [x, x]
            ys += band
        ax.plot(xs, ys, color=color, linestyle=style, linewidth=1.5, label=name)


def write_lr_max(path: Path, series: dict[str, list[tuple[float, Bracket]]],
                 fits: dict[str, Fit | None], batch_key: str) -> None:  # fmt: skip
    """lr_max against batch size (log-log): the bracket as an error bar, the fit over it."""
    fig = Figure(figsize=(7, 5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for others, points in sorted(series.items()):
        bs = np.array([b for b, _ in points])
        lo = np.array([bracket.lo for _, bracket in points])
        hi = np.array([bracket.hi for _, bracket in points])
        bar = ax.errorbar(bs, lo, yerr=[np.zeros_like(lo), hi - lo], fmt="o", capsize=3,
                          label=f"lr_max {others}".strip())  # fmt: skip
        fit = fits.get(others)
        if fit is not None:
            label = f"fit: slope {fit.slope:.2f}"
            ax.plot(bs, 10 ** (fit.intercept + fit.slope * np.log10(bs)), "--",
                    color=bar[0].get_color(), label=label)  # fmt: skip
            if fit.bend is not None:
                _draw_bend(ax, fit, bs, bar[0].get_color())
    ax.set(xscale="log", yscale="log", xlabel=f"{batch_key} (log scale)",
           ylabel="largest lr that trains (bar: up to the first that does not)")  # fmt: skip
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(_minor_label))
    ax.legend(fontsize=8)
    _save(fig, path)


def _minor_label(value: float, _: int) -> str:
    """Label 2, 3 and 5 times each power of ten: an lr axis often spans less than a decade."""
    leading = round(value / 10 ** math.floor(math.log10(value)))
    return f"{value:g}" if leading in (2, 3, 5) else ""


def _draw_bend(ax: Axes, fit: Fit, bs: np.ndarray, color: str) -> None:
    """The two-segment fit, meeting at the critical batch size."""
    xs = np.log10([bs.min(), fit.bend, bs.max()])
    ys = fit.at_bend + np.array([fit.slope_below, 0.0, fit.slope_above]) * (xs - xs[1])
    label = f"two segments: {fit.slope_below:.2f}, then {fit.slope_above:.2f}"
    ax.plot(10**xs, 10**ys, "-", color=color, alpha=0.6, label=label)
    ax.axvline(fit.bend, color="grey", linestyle=":", label=f"bend at bs ≈ {fit.bend:.3g}")


def _save(fig: Figure, path: Path) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    write_bytes_atomic(path, buffer.getvalue())
