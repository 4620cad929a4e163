"""The parent side of a sweep: read its cell folders (overrides, and metrics once finished)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from src.errors import DataError, TrainmapError, one_line
from src.names import NOT_THE_NETWORK, is_coordinate
from src.results import OVERRIDES, read_metrics

Value = int | float | str | None  # None: the key was not overridden in this cell
LAYOUT_HINT = f"a sweep folder holds one subfolder per cell, each with {OVERRIDES}"
# libyaml's safe loader where PyYAML has it: the same values as yaml.safe_load, ~10x faster (a
# 1,000-cell sweep's summary read its cells' overrides in 0.4 s with the pure-Python one).
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Cell:
    """One cell folder: its override values and its metrics (None while it is pending)."""

    folder: Path
    overrides: dict[str, Value]
    metrics: dict[str, Any] | None

    @property
    def outcome(self) -> str:
        if self.metrics is None:
            return "pending"
        return str(self.metrics.get("outcome", "unknown"))

    def metric(self, key: str) -> Any:
        return None if self.metrics is None else self.metrics.get(key)


@dataclass(frozen=True)
class Sweep:
    """All cells, the override keys that vary across them (`swept`) and those that don't."""

    folder: Path
    cells: list[Cell]
    swept: list[str]
    fixed: dict[str, Value]
    choices: dict[str, str]  # the config groups' options, e.g. {'dataset': 'digits', ...}


def parse_value(text: str) -> Value:
    """'16' -> 16, '1e-4' -> 0.0001, 'relu' -> 'relu', as Hydra's override grammar reads them."""
    # Not yaml.safe_load: YAML 1.1 reads '1e-4' (no dot) as a string, Hydra reads a float.
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def parse_overrides(lines: list[str]) -> dict[str, Value]:
    """{'optimizer.lr': 0.1, ...} from Hydra's override strings, minus `sweep` and `hydra.*`."""
    parsed: dict[str, Value] = {}
    for line in lines:
        key, sep, value = str(line).partition("=")
        key = key.lstrip("+")
        if not sep or key.startswith("~") or not is_coordinate(key):
            continue
        parsed[key] = parse_value(value)
    return parsed


def read_cell(folder: Path) -> Cell:
    """The cell in `folder`. Raises DataError when its overrides.yaml is not a list of strings."""
    return Cell(folder, parse_overrides(override_lines(folder)), read_metrics(folder))


def override_lines(folder: Path, error: type[TrainmapError] = DataError) -> list[str]:
    """The overrides a run in `folder` recorded. Raises `error` when the file is not a YAML
    list (DataError for a sweep's cell; a command naming the folder may prefer ConfigError)."""
    path = folder / OVERRIDES
    try:
        lines = yaml.load(path.read_text(), Loader=LOADER) or []
    except yaml.YAMLError as err:
        raise error(f"{path}: not valid YAML ({one_line(err)})") from err
    if not isinstance(lines, list):
        raise error(f"{path}: expected a YAML list of overrides like '- optimizer.lr=0.1'")
    return [str(line) for line in lines]


def collect(sweep_dir: Path) -> Sweep:
    """Every cell under `sweep_dir`, sorted by folder name. Raises DataError if there are none."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise DataError(f"{sweep_dir}: no such folder; {LAYOUT_HINT}")
    folders = sorted(p for p in sweep_dir.iterdir() if (p / OVERRIDES).is_file())
    if not folders:
        single_run = (sweep_dir / OVERRIDES).is_file()
        hint = " (it is one run's folder; pass its parent)" if single_run else ""
        raise DataError(f"{sweep_dir}: no cell folders{hint}; {LAYOUT_HINT}")
    cells = [read_cell(folder) for folder in folders]
    swept, fixed = split_keys(cells)
    return Sweep(sweep_dir, cells, swept, fixed, read_choices(folders[0]))


def read_choices(folder: Path) -> dict[str, str]:
    """The group options a cell was composed from (Hydra records them), in defaults order."""
    try:
        text = (folder / ".hydra" / "hydra.yaml").read_text()
        hydra_cfg = yaml.load(text, Loader=LOADER) or {}
        choices = hydra_cfg["hydra"]["runtime"]["choices"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return {}  # an older or hand-made cell: the title just lists fewer facts
    picked = {g: str(c) for g, c in choices.items() if c is not None and "/" not in g}
    return dict(reversed([(g, c) for g, c in picked.items() if g not in NOT_THE_NETWORK]))


def split_keys(cells: list[Cell]) -> tuple[list[str], dict[str, Value]]:
    """(keys with several values across cells, {key: value} of the others), in first-seen order."""
    keys = list(dict.fromkeys(key for cell in cells for key in cell.overrides))
    swept, fixed = [], {}
    for key in keys:
        values = {cell.overrides.get(key) for cell in cells}  # a missing key counts as a value
        if len(values) > 1:
            swept.append(key)
        else:
            fixed[key] = values.pop()
    return swept, fixed
