"""The edge search's grid: swept axes from Hydra overrides, job overrides, outcomes on disk.

A group is one row of the map: the override text of every key except the lr and a swept seed,
e.g. ('trainer.batch_size=16', 'activation=tanh'). Its lrs are refined; its seeds vote.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser

from src.edge.search import Point, Refine, State, lattice, lr_text
from src.errors import ConfigError
from src.results import OVERRIDES
from src.sweep.collect import Value, parse_overrides, read_cell

Run = tuple[tuple[str, ...], float, str | None]  # (group, lr, seed text or None)


@dataclass(frozen=True)
class Settings:
    """The sweeper's own keys (hydra.sweeper.*), checked by `check`."""

    lr_key: str = "optimizer.lr"
    batch_key: str = "trainer.batch_size"
    seed_key: str = "trainer.seed"
    lr_range: tuple[float, float] = (1e-4, 100.0)
    lr_points: int = 8
    resolution: float = 1.1
    budget: int = 500
    probe_above: float = 3.0

    def check(self) -> None:
        """Raises ConfigError naming the key and its valid range."""
        low, high = self.lr_range
        if not 0 < low < high:
            raise ConfigError(f"hydra.sweeper.lr_range={list(self.lr_range)}: need 0 < low < high")
        if self.lr_points < 2:
            raise ConfigError(f"hydra.sweeper.lr_points={self.lr_points}: need at least 2")
        if not self.resolution > 1:
            raise ConfigError(
                f"hydra.sweeper.resolution={self.resolution}: must be > 1 "
                "(the largest hi/lo ratio left around an edge, e.g. 1.1)"
            )
        if not self.probe_above >= 1:
            raise ConfigError(
                f"hydra.sweeper.probe_above={self.probe_above}: must be >= 1 "
                "(how far above lr_max to look for lrs that train again; 1: not at all)"
            )


@dataclass(frozen=True)
class Grid:
    """Every override key in order with its value texts, and the lr axis's coarse values."""

    keys: list[str]
    texts: dict[str, list[str]]  # key -> value texts; the lr key holds the coarse grid
    settings: Settings
    lattice: tuple[float, ...] = ()  # the lrs runs may take; () when the lrs are listed

    def refine(self) -> Refine:
        s = self.settings
        return Refine(s.resolution, s.probe_above, self.lattice)

    @property
    def seeds(self) -> list[str | None]:
        seeds = self.texts.get(self.settings.seed_key, [])
        return list(seeds) if len(seeds) > 1 else [None]

    def groups(self) -> list[tuple[str, ...]]:
        """The rows of the map, in the order of the product of their keys."""
        keys = [k for k in self.keys if k not in (self.settings.lr_key, self._swept_seed)]
        return [
            tuple(f"{k}={v}" for k, v in zip(keys, values))
            for values in itertools.product(*(self.texts[k] for k in keys))
        ]

    def coarse(self) -> list[Point]:
        lrs = [float(text) for text in self.texts[self.settings.lr_key]]
        return [(group, lr) for group in self.groups() for lr in lrs]

    def samples(self) -> list[Point]:
        """One point per group, at the first coarse lr."""
        first = float(self.texts[self.settings.lr_key][0])
        return [(group, first) for group in self.groups()]

    def jobs(self, points: list[Point], done: set[Run]) -> list[list[str]]:
        """Each point's overrides, once per seed, minus the runs already `done`."""
        texts = {float(t): t for t in self.texts[self.settings.lr_key]}
        batch = []
        for group, lr in points:
            for seed in self.seeds:
                if (group, lr, seed) in done:
                    continue
                given = dict(item.split("=", 1) for item in group)
                given[self.settings.lr_key] = texts.get(lr, lr_text(lr))
                if seed is not None:
                    given[self.settings.seed_key] = seed
                batch.append([f"{k}={given[k]}" for k in self.keys])
        return batch

    def read(self, sweep_dir: Path) -> tuple[State, set[Run]]:
        """Outcomes of this grid's finished runs under `sweep_dir`, and those not to run again."""
        by_identity = {_identity(parse_overrides(list(g))): g for g in self.groups()}
        seeds = {None if s is None else _parse(self.settings.seed_key, s): s for s in self.seeds}
        state: State = {group: {} for group in self.groups()}
        done: set[Run] = set()
        for folder in sorted(p.parent.parent for p in Path(sweep_dir).glob(f"*/{OVERRIDES}")):
            cell = read_cell(folder)
            values = dict(cell.overrides)
            lr = values.pop(self.settings.lr_key, None)
            seed = values.pop(self.settings.seed_key, None) if self._swept_seed else None
            group = by_identity.get(_identity(values))
            if cell.metrics is None or group is None or seed not in seeds:
                continue  # pending, or a cell of another sweep into the same folder
            if not isinstance(lr, (int, float)):
                continue
            state[group].setdefault(float(lr), []).append(cell.outcome)
            if cell.outcome != "error":  # as for any sweep, a re-run retries error cells
                done.add((group, float(lr), seeds[seed]))
        return state, done

    @property
    def _swept_seed(self) -> str | None:
        return self.settings.seed_key if self.seeds != [None] else None


def _identity(values: dict[str, Value]) -> frozenset:
    return frozenset(values.items())


def _parse(key: str, text: str) -> Value:
    return parse_overrides([f"{key}={text}"])[key]


def build_grid(overrides: list[str], settings: Settings) -> Grid:
    """The grid of the sweep's overrides (params first, the command line wins).

    Raises:
        ConfigError: a bad sweeper setting, an lr or batch size that is not a positive number,
            a sweep that is not a list, or a budget smaller than the coarse grid.
    """
    settings.check()
    texts = _value_texts(overrides)
    lr_key = settings.lr_key
    if lr_key in texts and len(texts[lr_key]) == 1:
        raise ConfigError(
            f"{lr_key}={texts[lr_key][0]}: the edge search varies {lr_key}; give a list "
            f"of starting values or set hydra.sweeper.lr_range and hydra.sweeper.lr_points"
        )
    lrs: tuple[float, ...] = ()
    if lr_key not in texts:
        lrs = lattice(*settings.lr_range, settings.lr_points, settings.resolution)
        texts[lr_key] = [lr_text(lr) for lr in lrs[:: (len(lrs) - 1) // (settings.lr_points - 1)]]
    for key in (lr_key, settings.batch_key):
        for text in texts.get(key, []):
            if not _positive(_parse(key, text)):
                raise ConfigError(
                    f"{key}={text}: not a positive number; the edge search runs along "
                    f"{lr_key} and {settings.batch_key} in log space"
                )
    grid = Grid(list(texts), texts, settings, lrs)
    runs = len(grid.coarse()) * len(grid.seeds)
    if settings.budget < runs:
        raise ConfigError(
            f"hydra.sweeper.budget={settings.budget}: smaller than the coarse grid of "
            f"{runs} runs; raise it or sweep fewer values"
        )
    return grid


def _value_texts(overrides: list[str]) -> dict[str, list[str]]:
    """Each key's value texts in order: a sweep's values, or the one value."""
    texts: dict[str, list[str]] = {}
    for override in OverridesParser.create().parse_overrides(overrides):
        key = override.get_key_element()
        if override.is_sweep_override() and not override.is_discrete_sweep():
            raise ConfigError(f"{key}: the edge search takes lists (a,b,c) or range(), not ranges")
        sweep = override.is_sweep_override()
        texts[key] = list(override.sweep_string_iterator()) if sweep else [
            override.get_value_element_as_str()
        ]  # fmt: skip
    return texts


def _positive(value: Value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
