"""What an edge search leaves in its sweep folder: boundary.csv, edge.md and two PNGs."""

from __future__ import annotations

from pathlib import Path

from src.edge.boundary import Row, boundary_csv, edges, fit_edge, fit_text, rows
from src.edge.grid import Grid
from src.edge.search import State
from src.results import write_text_atomic
from src.sweep.layout import format_value

BOUNDARY, EDGE_MD = "boundary.csv", "edge.md"
EDGE_MAP_PNG, LR_MAX_PNG = "edge_map.png", "lr_max.png"
EDGE_FILES = (BOUNDARY, EDGE_MD, EDGE_MAP_PNG, LR_MAX_PNG)


def write_report(sweep_dir: Path, grid: Grid, rounds: int) -> str:
    """Write the edge files from the runs on disk; return edge.md's text."""
    s = grid.settings
    state = _varying(grid.read(sweep_dir)[0], s.batch_key)
    found = rows(state, s.batch_key, s.resolution)
    series = edges(state, s.batch_key)
    fits = {k: fit_edge([b for b, _ in v], [br.lo for _, br in v]) for k, v in series.items()}
    runs = sum(len(outcomes) for points in state.values() for outcomes in points.values())
    text = markdown(found, series, fits, s.batch_key)
    text += (f"\n{runs} runs; {rounds} round{'s' * (rounds != 1)} this time (budget {s.budget}); "
             f"{sum(r.resolved for r in found)} of {len(found)} transitions bracketed to "
             f"hi/lo <= {s.resolution:g}\n")  # fmt: skip
    write_text_atomic(sweep_dir / BOUNDARY, boundary_csv(found))
    write_text_atomic(sweep_dir / EDGE_MD, text)
    if _has_outcomes(state):
        from src.edge import plots  # matplotlib takes ~1 s to import

        plots.write_map(sweep_dir / EDGE_MAP_PNG, state, found, s.batch_key, s.lr_key)
    if series:
        from src.edge import plots

        plots.write_lr_max(sweep_dir / LR_MAX_PNG, series, fits, s.batch_key)
    return text


def _varying(state: State, batch_key: str) -> State:
    """Groups named by the batch size and the overrides that differ between them."""
    common = set.intersection(*(set(group) for group in state)) if state else set()
    common = {item for item in common if item.partition("=")[0].lstrip("+") != batch_key}
    return {tuple(i for i in group if i not in common): points for group, points in state.items()}


def _has_outcomes(state: State) -> bool:
    return any(outcomes for points in state.values() for outcomes in points.values())


def markdown(found: list[Row], series: dict, fits: dict, batch_key: str) -> str:
    """Per group: a table of the transitions per batch size, then the lr_max(bs) fit."""
    lines = ["## Edge — where the outcome changes along the learning rate"]
    for others in sorted({r.others for r in found}):
        lines += ["", f"### {others}"] if others else []
        lines += ["", f"| {batch_key} | transition | lo | hi | hi/lo | runs | seeds disagree |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
        for r in (r for r in found if r.others == others):
            b = r.bracket
            band = "" if r.band is None else f"{r.band[0]:.3g} … {r.band[1]:.3g}"
            batch = "" if r.batch_size is None else format_value(r.batch_size)
            lines.append(f"| {batch} | {b.transition} | {b.lo:.4g} | {b.hi:.4g} | "
                         f"{b.ratio:.3f} | {r.runs} | {band} |")  # fmt: skip
        lines += ["", fit_text(fits.get(others), len(series.get(others, [])))]
    if not found:
        lines += ["", "no transition found: every lr gave the same outcome"]
    return "\n".join(lines) + "\n"


def edge_section(sweep_dir: Path) -> str:
    """edge.md's text when the folder holds an edge search, else ''."""
    path = Path(sweep_dir) / EDGE_MD
    return "\n" + path.read_text() if path.is_file() else ""
