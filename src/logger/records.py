"""Pure helpers for the TensorBoard logger: tags, HParams values, final metrics, the import."""

from __future__ import annotations

import importlib
import json
import math
import sys
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import numpy as np
from omegaconf import DictConfig

from src.names import target_name
from src.outcome import OUTCOMES
from src.results import flatten_config

MISSING = -1.0  # HParams metric for None (no test accuracy, never diverged): a number, not nan
# tensorboardX imports these whenever they are installed, only to accept torch tensors and
# s3:// or gs:// paths, which we never pass; torch alone costs 1.5 s per run (or per worker).
OPTIONAL_IMPORTS = ("torch", "boto3", "google.cloud")


def import_tensorboardx() -> ModuleType:
    """tensorboardX, imported without its optional torch / boto3 / GCS hooks.

    A None entry in sys.modules makes `import torch` inside tensorboardX fail at once, which it
    handles; the entries are removed again, so a later `import torch` works as usual.
    """
    if "tensorboardX" in sys.modules:
        return sys.modules["tensorboardX"]
    blocked = [name for name in OPTIONAL_IMPORTS if name not in sys.modules]
    try:
        for name in blocked:
            sys.modules[name] = None  # type: ignore[assignment]
        return importlib.import_module("tensorboardX")
    finally:
        for name in blocked:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


def tag(name: str) -> str:
    """'1.Dense:W' -> '1.Dense.W' (tensorboardX would rename ':' with a log line per call)."""
    return name.replace(":", ".")


def hparam_value(value: Any) -> bool | int | float | str:
    """A value an HParams session keeps: numpy scalars unwrapped, None -> 'None', lists -> text.

    tensorboardX silently drops None, lists and numpy scalars, and TensorBoard drops nan/inf.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return "None"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (bool, int, float, str)):
        return value
    return json.dumps(value, default=str)


def hparam_values(cfg: DictConfig | Mapping[str, Any],
                  outcome: str) -> dict[str, bool | int | float | str]:  # fmt: skip
    """The session's hparams: each group's choice by its target's name (`activation`: 'ReLU',
    which no key shows for parameter-free options), the flattened config (`cfg` or its plain
    data), and `outcome`."""
    choices = {str(group): target_name(node) for group, node in cfg.items() if target_name(node)}
    flat = {key: hparam_value(value) for key, value in flatten_config(cfg).items()}
    return {**choices, **flat, "outcome": outcome}


def final_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """HParams metric columns; `MISSING` (-1) stands for None, so every cell has a number.

    outcome_code is the index in `src.outcome.OUTCOMES`: converged 0, learning 1, stalled 2,
    diverged 3, error 4.
    """
    outcome = metrics.get("outcome")
    return {
        "final/test_accuracy": number(metrics.get("test_accuracy")),
        "final/outcome_code": float(OUTCOMES.index(outcome)) if outcome in OUTCOMES else MISSING,
        "final/first_nonfinite_step": number(metrics.get("first_nonfinite_step")),
    }


def number(value: Any) -> float:
    """float(value), or MISSING for None and non-finite values."""
    if value is None or not math.isfinite(float(value)):
        return MISSING
    return float(value)
