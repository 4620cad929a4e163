"""Suggested overrides, computed from the run's own config so that they compose on top of it.

A suggestion is a space-separated list of Hydra overrides to add to the run's command line,
replacing any earlier value of the same key (`report.merge_overrides` does exactly that).
Values of the current option are preferred over switching options: `init.std=0.03` is valid
on top of any `init=normal` run, while `init=xavier_normal` fails when an experiment set
`init.std` (xavier_normal has no `std`); a switch that leaves such keys behind deletes them.
An init's family is told by the keys its function takes (`std`, `low`/`high`), not its name.
"""

from __future__ import annotations

import math
from typing import Any

import yaml
from hydra.utils import get_method

from src.checks import settable_keys
from src.config_files import CONF_DIR as CONF  # the installed copy after `pip install .`
from src.diagnosis.evidence import Facts
from src.names import INSTANTIATE_KEYS

STEP_TARGET, BATCH_TARGET = 0.05, 0.35  # where a suggested lr / batch size aims the step
MOVEMENT_LOW, MOVEMENT_TARGET = 2.0, 5.0  # steps x pace: below 2 nothing converged; aim at 5
# A suggested rate (rounded down, so short of the aim) that leaves the run below 3 also gets
# more updates: on the digits twins' 12 x 12 grid, such reruns reaching 2.2-2.9 ended at
# 0.88-0.93 test accuracy (one short of the 0.90 target), those reaching 3.0-5 at 0.93-0.95.
MOVEMENT_SURE = 3.0
BATCH_FLOOR = 32  # more updates come from a smaller batch down to this, then from more epochs


def number(x: float) -> str:
    """Two significant digits, as Hydra reads them back: 0.033, 0.1, 32."""
    return f"{float(f'{x:.2g}'):g}"


def nice_below(x: float) -> float:
    """The largest of 1, 2, 5 x 10^k that is <= x (a learning rate people would type)."""
    k = math.floor(math.log10(x))
    return max(m * 10.0**k for m in (1, 2, 5) if m * 10.0**k <= x * (1 + 1e-9))


def scaled_lr(facts: Facts, factor: float) -> float:
    """The run's lr scaled by `factor`, rounded down to 1/2/5 x 10^k."""
    return nice_below(facts.lr * factor)


def learning_rate(facts: Facts, factor: float, pace: float, step: float) -> str:
    """optimizer.lr scaled by `factor`, rounded down to 1/2/5 x 10^k; when the run's updates
    at that rate would move the weights less than MOVEMENT_SURE (`pace` per update at the probe
    batch, see Evidence.pace; `step` at the run's; both at the current rate), also more updates."""
    lr = scaled_lr(facts, factor)
    fix, scale = f"optimizer.lr={number(lr)}", lr / facts.lr
    if pace <= 0 or facts.updates * pace * scale >= MOVEMENT_SURE:
        return fix  # no gradient at all: no update count would move the weights
    return f"{fix} {more_updates(facts, pace * scale, step * scale)}"


def lower_learning_rate(facts: Facts, pace: float, step: float) -> str:
    """A learning rate whose step (at the run's batch size, at init) would be STEP_TARGET, or a
    tenth of the current one when the step is already below that."""
    factor = STEP_TARGET / step if step > STEP_TARGET else 0.1
    return learning_rate(facts, factor, pace, step)


def more_updates(facts: Facts, pace: float, step: float) -> str:
    """Enough updates of `pace` x the weights' size (at the probe batch) to add up to
    MOVEMENT_TARGET: the same epochs at a smaller batch (a power of two >= BATCH_FLOOR, the
    same compute) while the run's `step` is <= STEP_TARGET, so that a smaller batch's noise
    leaves it well below STEP_HIGH; else more epochs at the run's batch size."""
    needed = math.ceil(MOVEMENT_TARGET / pace)
    per_epoch = math.ceil(needed / facts.epochs)
    batch = 2 ** math.floor(math.log2(max(facts.n_train / per_epoch, 1)))
    if step <= STEP_TARGET and BATCH_FLOOR <= batch < facts.batch_size:
        return f"trainer.batch_size={batch}"
    return f"trainer.epochs={math.ceil(needed / facts.updates_per_epoch)}"


def batch_size(facts: Facts, noise: float, ratio: float, target: float) -> str:
    """The batch size whose step (ratio x noise factor at that size) comes down to `target`.

    The gradient noise variance falls as 1/batch: noise(B)^2 = 1 + (noise(b)^2 - 1) * b / B.
    """
    allowed = (target / ratio) ** 2 - 1 if ratio > 0 else math.inf
    excess = (noise**2 - 1) * facts.batch_size
    needed = facts.n_train if allowed <= 0 else math.ceil(excess / allowed)
    size = 2 ** math.ceil(math.log2(max(needed, facts.batch_size * 2)))
    return f"trainer.batch_size={min(size, facts.n_train)}"


def init_scale(facts: Facts, fans: list[tuple[int, int]]) -> str:
    """Overrides giving the weights the scale of He (ReLU) or Xavier (sigmoid/tanh) init,
    for the widest layer, within the run's own init family where it has a scale key."""
    he = facts.rectifier
    stds = [math.sqrt(2 / fi) if he else math.sqrt(2 / (fi + fo)) for fi, fo in fans]
    std = min(stds)  # the widest fan-in needs the smallest weights
    node = facts.inits["init"]
    keys = _init_keys(node)
    if "std" in keys:
        return f"init.std={number(std)}"
    if {"low", "high"} <= keys.keys():
        a = number(std * math.sqrt(3))
        return f"init.low=-{a} init.high={a}"
    return switch("init", "he_normal" if he else "xavier_normal", node)


def zero_mean_init(facts: Facts) -> str:
    """Make every one-signed uniform init symmetric about 0, keeping its width."""
    parts = []
    for key, node in facts.inits.items():
        keys = _init_keys(node)
        if not {"low", "high"} <= keys.keys():
            continue
        low, high = float(keys["low"]), float(keys["high"])
        if low >= 0:
            parts.append(f"{key}.low={number(-high)}")
        elif high <= 0:
            parts.append(f"{key}.high={number(-low)}")
    return " ".join(parts)


def switch(group: str, option: str, node: dict[str, Any]) -> str:
    """`group=option`, plus `~group.key` for keys the run's node holds beyond its option's
    YAML (set by an experiment or the command line) that the new option does not accept."""
    accepted = _settable(_yaml(group, option).get("_target_", ""))
    defaults = next(
        (y for y in map(lambda p: _yaml(group, p.stem), sorted((CONF / group).glob("*.yaml")))
         if y.get("_target_") == node.get("_target_")),
        {},
    )  # fmt: skip
    extra = [
        k for k, v in node.items()
        if k not in INSTANTIATE_KEYS and k not in accepted and defaults.get(k, object()) != v
    ]  # fmt: skip
    return " ".join([f"{group}={option}", *(f"~{group}.{k}" for k in extra)])


def _yaml(group: str, option: str) -> dict[str, Any]:
    path = CONF / group / f"{option}.yaml"
    return yaml.safe_load(path.read_text()) or {} if path.is_file() else {}


def _settable(target: str) -> set[str]:
    return set(settable_keys(get_method(target))) if target else set()


def _init_keys(node: dict[str, Any]) -> dict[str, Any]:
    """An init node's values over its function's defaults: {'low': 0.0, 'high': 0.05}."""
    return {**settable_keys(get_method(node["_target_"])), **node}
