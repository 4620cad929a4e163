"""Which runs can train as one stack: configs equal except on keys that change neither array
shapes nor the number of steps (a learning rate, a seed, an init scale, ...)."""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any, TypeVar

from hydra.utils import get_method
from omegaconf import DictConfig, OmegaConf

from src.checks import check_value

Item, T = TypeVar("Item"), TypeVar("T")

# Per-run values in a stack: each is read per run (optimizer hyper-parameters, the seed that
# draws the init and the sample order, init scales, the outcome thresholds).
STACKABLE_KEYS: frozenset[str] = frozenset({
    "optimizer.lr",
    "optimizer.momentum",
    "optimizer.beta1",
    "optimizer.beta2",
    "optimizer.eps",
    "trainer.seed",
    "trainer.stall_margin",
    "init.std",
    "init.low",
    "init.high",
    "dataset.target_accuracy",
})  # fmt: skip
# Each stackable key is 'group.name'; by group: 'optimizer' -> {'lr', 'momentum', ...}.
_STACKABLE_NAMES = {group: {k.split(".")[1] for k in STACKABLE_KEYS if k.startswith(f"{group}.")}
                    for group in {k.split(".")[0] for k in STACKABLE_KEYS}}  # fmt: skip


def shape_key(cfg: DictConfig | Mapping[str, Any]) -> str:
    """The config (or its `plain` data, left unchanged) without its stackable values and without
    `hydra`, as canonical JSON: equal keys train together. `_target_`s stay in, so a different
    option never stacks."""
    shaped = {}
    for group, node in plain(cfg).items():
        if group != "hydra":
            drop = _STACKABLE_NAMES.get(group, ())
            shaped[group] = ({k: v for k, v in node.items() if k not in drop}
                             if isinstance(node, dict) else node)  # fmt: skip
    return json.dumps(shaped, sort_keys=True, default=str)


def plain(node: Any) -> Any:
    """A config node as plain data (resolved), anything else as it is."""
    return OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else node


def once_per_value(
    items: Sequence[Item], value: Callable[[Item], Any], make: Callable[[Item], T]
) -> list[T]:
    """make(item) for each item, called once per distinct value(item) (plain data, compared as
    JSON): the runs of a stack mostly share what they are built from (their init, say)."""
    keys = [json.dumps(value(item), sort_keys=True, default=str) for item in items]
    made: dict[str, T] = {}
    for key, item in zip(keys, items):
        if key not in made:
            made[key] = make(item)
    return [made[key] for key in keys]


def stack_groups(cfgs: Sequence[DictConfig | Mapping[str, Any]]) -> list[list[int]]:
    """Indices of `cfgs` (configs or their plain data) grouped into stacks, in first-seen order;
    configs that cannot stack with any other form groups of one (never an error)."""
    groups: dict[str, list[int]] = {}
    for i, cfg in enumerate(cfgs):
        groups.setdefault(shape_key(cfg), []).append(i)
    return list(groups.values())


def check_stackable(cfg: DictConfig | Mapping[str, Any]) -> None:
    """Validate only the stackable values of `cfg` (or of its `plain` data), for a config whose
    other values equal those of a config validated in full (`src.train.validate`): a
    ConfigError names the key."""
    for group, names in sorted(_STACKABLE_NAMES.items()):  # in the order of sorted keys
        node = plain(cfg.get(group))  # one conversion: each DictConfig read costs ~25 us
        for name in sorted(names) if isinstance(node, Mapping) else ():
            if name in node:
                hint = _hints(str(node["_target_"])).get(name, Any)
                check_value(f"{group}.{name}", node[name], hint)


@cache
def _hints(target_name: str) -> dict[str, Any]:
    target = get_method(target_name)
    function = target.__init__ if isinstance(target, type) else target
    return typing.get_type_hints(function, include_extras=True)
