"""Per-run theory metrics: sharpness at init at the run's batch size, noise scale at init and
at the end. Quantities of the untrained net are keyed by everything they depend on and measured
once per sweep (`src.theory.cache`: per process, and across a sweep's processes through its
folder), so runs sharing a network, seed and batch size (a sweep's learning rates) share them.
Both at init and at the end, the runs of a stack are measured together as one float64 stack
(`initial_measurements`, `final_noise_scales`), each run's value bit for bit the one it gets
trained alone.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import partial
from typing import Annotated, Any

import numpy as np
from hydra.utils import instantiate
from omegaconf import DictConfig

from src.arrays import Array
from src.checks import Interval
from src.model.sequential import Sequential
from src.names import NOT_THE_NETWORK, OVERRIDE_ONLY_GROUPS
from src.probe import blas_controller
from src.stackable import plain
from src.theory.adapter import FlatNet, float64_net, float64_stack
from src.theory.cache import cached, code_version, sweep_folder
from src.theory.hessian import sharpness
from src.theory.noise import noise_scales
from src.trainer import History, Settings

log = logging.getLogger(__name__)
KEYS = ("sharpness_init", "noise_scale_init", "noise_scale_final")
# What the measurements at init do not see: how the net is then trained, and bookkeeping.
# The seed and batch size are read from the run's Settings (the batch clamped to the data).
NOT_MEASURED = ("hydra", "optimizer", "trainer", *NOT_THE_NETWORK, *OVERRIDE_ONLY_GROUPS)
NOT_MEASURED_KEYS = (("dataset", "target_accuracy"),)  # a threshold on the outcome only


@dataclass(frozen=True)
class TheorySettings:
    """Options of the measurements (config group `theory`)."""

    enabled: bool = True
    batches: Annotated[int, Interval(1)] = 8
    noise_batch: Annotated[int, Interval(1)] = 16
    noise_samples: Annotated[int, Interval(2)] = 2048


def theory_metrics(at_init: dict[str, float], final: float, batch: int) -> dict:
    """{'sharpness_init', 'noise_scale_init', 'noise_scale_final'} of a run, None where not
    finite; {} when the theory is off (`at_init`, the run's `initial_measurements`, is then {}).
    `final`: its B_simple at the end, from `final_noise_scales`, nan if the run diverged. Logs
    them in a `theory at batch size` line."""
    if not at_init:
        return {}
    values = {k: _finite_or_none(v) for k, v in {**at_init, "noise_scale_final": final}.items()}
    shown = ", ".join(f"{k}={'null' if v is None else f'{v:.4g}'}" for k, v in values.items())
    log.info(f"theory at batch size {batch}: {shown}")
    return {k: values[k] for k in KEYS}


def initial_measurements(cfgs: list[DictConfig], data: Any, runs: list[Settings],
                         settings: TheorySettings,
                         configs: list[Mapping[str, Any]]) -> list[dict[str, float]]:  # fmt: skip
    """λ at the stack's batch size and B_simple of each run's untrained net ({} each when
    `settings.enabled` is false): measured once per sweep for each network, seed and batch size
    (`src.theory.cache`), those not stored yet together, as one float64 stack of their nets.
    `runs`: the runs' settings; `configs`: `cfgs` as plain data. Logs the seconds in a `theory
    at batch size` line, the same whether the values were measured or read (a stack's log does
    not depend on what other processes of its sweep did first)."""
    if not settings.enabled:
        return [{} for _ in cfgs]
    started = time.perf_counter()
    batch = runs[0].batch_size  # the same for every run of a stack
    x, y = data.x_train, data.y_train  # the net casts each batch to float64
    networks = [network_key(c, run.seed, settings) for c, run in zip(configs, runs)]
    names = {"sharpness_init": f"|sharpness_init|batch={batch}",
             "noise_scale_init": "|noise_scale_init"}  # fmt: skip
    measures = {"sharpness_init": lambda net: sharpness_at(net, x, y, batch, settings.batches),
                "noise_scale_init": lambda net: noise_at(net, x, y, settings)}  # fmt: skip
    # The nets measured, by their runs: when both measurements are due (a new network), one
    # net serves both (λ's products leave its weights as they were, bit for bit).
    nets: dict[tuple[int, ...], FlatNet] = {}

    def measure(name: str, keys: list[str]) -> list[float]:
        # The first run of each network still to measure (reversed: the first one is kept).
        first = {network + names[name]: k for k, network in reversed(list(enumerate(networks)))}
        todo = tuple(first[key] for key in keys)
        if todo not in nets:
            nets[todo] = float64_net([cfgs[k] for k in todo], data, [runs[k].seed for k in todo])
        with blas_controller().limit(limits=1):  # threads only slow these small products down
            return measures[name](nets[todo])

    folder = sweep_folder()
    values = {name: cached([n + suffix for n in networks], partial(measure, name), folder)
              for name, suffix in names.items()}  # fmt: skip
    log.info(f"theory at batch size {batch}: sharpness_init and noise_scale_init of {len(cfgs)} "
             f"runs, read or measured (new networks together) "
             f"({time.perf_counter() - started:.3f} s)")  # fmt: skip
    return [{name: values[name][n + names[name]] for name in names} for n in networks]


def final_noise_scales(cfgs: list[DictConfig], data: Any, model: Sequential,
                       histories: list[History], runs: list[Settings],
                       settings: TheorySettings) -> list[float]:  # fmt: skip
    """B_simple at the end of each run of a trained stack (configs `cfgs`, `model` holding the
    runs that stayed finite, in order; `runs`: their settings; `settings`: the stack's theory
    options), measured for all of them in one pass; nan for a run that diverged, and for every
    run when `settings.enabled` is false or all runs diverged. Logs the seconds in a `theory at
    batch size` line, as theory_metrics."""
    finals = [math.nan] * len(cfgs)
    alive = [k for k, history in enumerate(histories) if history.first_nonfinite_step is None]
    if not alive or not settings.enabled:
        return finals
    started = time.perf_counter()
    with blas_controller().limit(limits=1):
        net = float64_stack(cfgs[0], data, model)
        with np.errstate(all="ignore"):  # huge weights: overflowing norms give nan
            measured = noise_at(net, data.x_train, data.y_train, settings)
    for k, value in zip(alive, measured, strict=True):
        finals[k] = value
    seconds = time.perf_counter() - started
    log.info(f"theory at batch size {runs[0].batch_size}: noise_scale_final of {len(alive)} of "
             f"{len(cfgs)} runs measured together ({seconds:.3f} s)")  # fmt: skip
    return finals


def theory_settings(cfg: DictConfig) -> TheorySettings:
    """The run's `theory` options (the defaults when the config has no `theory` group)."""
    return instantiate(cfg.theory) if "theory" in cfg else TheorySettings()


def network_key(cfg: DictConfig | Mapping[str, Any], seed: int, settings: TheorySettings) -> str:
    """Everything the untrained net and its measurements depend on, as one string: the config
    (or its plain data, left unchanged) without the groups and keys in NOT_MEASURED*, with the
    seed and the measurement settings."""
    network = {str(g): plain(node) for g, node in cfg.items() if g not in NOT_MEASURED}
    for group, name in NOT_MEASURED_KEYS:
        if isinstance(network.get(group), dict):
            network[group] = {k: v for k, v in network[group].items() if k != name}
    payload = {**network, "seed": seed, "settings": asdict(settings), "code": code_version()}
    return json.dumps(payload, sort_keys=True, default=str)


def sharpness_at(net: FlatNet, x: Array, y: Array, batch: int, batches: int) -> list[float]:
    """λ of each run of the net at its current parameters, with batches drawn from a fixed
    generator."""
    return sharpness(net, x, y, batch, np.random.default_rng(0), batches)


def noise_at(net: FlatNet, x: Array, y: Array, settings: TheorySettings) -> list[float]:
    """B_simple of each run of the net on at most `noise_samples` training samples (the same
    ones every time, for every run)."""
    rng = np.random.default_rng(0)
    if len(y) > settings.noise_samples:
        rows = rng.choice(len(y), size=settings.noise_samples, replace=False)
        x, y = x[rows], y[rows]
    return noise_scales(net, x, y, rng, settings.noise_batch)


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
