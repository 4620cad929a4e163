"""Config names several modules must agree on, each defined once.

Which keys are Hydra's rather than a parameter, which groups build no object or do not count
as a sweep coordinate, and the class or function name a group's `_target_` points at.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from omegaconf import DictConfig

# Keys `hydra.utils.instantiate` reads itself: never a parameter of the target.
INSTANTIATE_KEYS = frozenset({"_target_", "_partial_", "_recursive_", "_convert_", "_args_"})
# Groups that only set other keys (presets, named grids): no object is built from them.
OVERRIDE_ONLY_GROUPS = frozenset({"experiment", "sweep"})
# Overrides that do not tell one sweep cell from another: left out of a cell's folder name
# (`hydra.job.config.override_dirname.exclude_keys`) and out of the phase map's coordinates.
NOT_A_COORDINATE = ("sweep",)
# Groups that describe the run's bookkeeping, not its network: left out of a phase map's title.
NOT_THE_NETWORK = (*NOT_A_COORDINATE, "logger", "diagnosis", "theory")


def target_name(node: Any) -> str:
    """'src.activation.ReLU' -> 'ReLU': the class or function a config node builds; '' if none."""
    if isinstance(node, (Mapping, DictConfig)) and "_target_" in node:
        return str(node["_target_"]).rsplit(".", 1)[-1]
    return ""


def is_coordinate(key: str) -> bool:
    """Whether an override key tells sweep cells apart: not `sweep`, not a `hydra.*` setting."""
    return key not in NOT_A_COORDINATE and key.split(".")[0] != "hydra"
