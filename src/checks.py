"""Validate a config node against the type hints of the callable it targets.

Every `_target_` signature is the schema: a key it does not accept, a value of the wrong type
or outside an `Interval` in its `Annotated` hint is a ConfigError naming the full key, raised
before anything is built or trained. Constraints between keys of one target are declared next
to its signature with `@requires(...)` and checked the same way.
"""

from __future__ import annotations

import inspect
import math
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, Union

from hydra.utils import get_method
from omegaconf import DictConfig, ListConfig, OmegaConf

from src.errors import ConfigError
from src.names import INSTANTIATE_KEYS

REQUIRES = "__requires__"  # the attribute `requires` stores a target's constraints under
Target = TypeVar("Target", bound=Callable[..., Any])


@dataclass(frozen=True)
class Interval:
    """Allowed range of a number, e.g. Interval(0, inf, low_open=True) for a learning rate."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False

    def contains(self, v: float) -> bool:
        above = v > self.low if self.low_open else v >= self.low
        below = v < self.high if self.high_open else v <= self.high
        return above and below

    def __str__(self) -> str:
        if self.high == math.inf:
            return f"{'>' if self.low_open else '>='} {self.low:g}"
        if self.low == -math.inf:
            return f"{'<' if self.high_open else '<='} {self.high:g}"
        left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
        return f"in {left}{self.low:g}, {self.high:g}{right}"


@dataclass(frozen=True)
class Requires:
    """A constraint between a target's keys: `test` called with those keys' values holds."""

    test: Callable[..., bool]
    message: str  # what must hold, in words, e.g. "low must be below high"

    @property
    def names(self) -> list[str]:
        return list(inspect.signature(self.test).parameters)


def requires(test: Callable[..., bool], message: str) -> Callable[[Target], Target]:
    """Declare a constraint between keys of the decorated target, checked with its config, e.g.
    `@requires(lambda low, high: low < high, "low must be below high")`."""

    def declare(target: Target) -> Target:
        setattr(target, REQUIRES, (*getattr(target, REQUIRES, ()), Requires(test, message)))
        return target

    return declare


def check_node(node: DictConfig, key: str) -> None:
    """Raise ConfigError unless every key of `node` fits its `_target_`'s signature."""
    target_name = node.get("_target_")
    try:
        target = get_method(target_name)
    except Exception as err:
        raise ConfigError(f"{key}._target_={target_name!r} cannot be imported ({err})") from None
    hints = typing.get_type_hints(
        target.__init__ if isinstance(target, type) else target, include_extras=True
    )
    params = inspect.signature(target).parameters
    settable = list(settable_keys(target))
    for name, value in node.items():
        if name in INSTANTIATE_KEYS:
            continue
        if name not in settable:
            valid = ", ".join(settable) or "none"
            raise ConfigError(f"{key}.{name}: unknown key for {target_name}; valid keys: {valid}")
        if isinstance(value, DictConfig) and "_target_" in value:
            check_node(value, f"{key}.{name}")  # a nested factory, e.g. model.conv_init
        else:
            check_value(f"{key}.{name}", _container(value), hints.get(name, Any))
    _check_requires(target, node, key, params)


def settable_keys(target: Callable[..., Any]) -> dict[str, Any]:
    """The keys a config node may set for `target` (its parameters with a default), and those
    defaults; the others (shapes, rng, params) are passed where the object is built."""
    params = inspect.signature(target).parameters
    return {n: p.default for n, p in params.items() if p.default is not inspect.Parameter.empty}


def _check_requires(
    target: Any, node: DictConfig, key: str, params: typing.Mapping[str, inspect.Parameter]
) -> None:
    """Raise ConfigError naming every key of the first declared constraint that fails."""
    for rule in getattr(target, REQUIRES, ()):
        values = {n: _container(node[n]) if n in node else params[n].default for n in rule.names}
        if not rule.test(**values):
            keys = ", ".join(f"{key}.{n}={v!r}" for n, v in values.items())
            raise ConfigError(f"{keys}: {rule.message}")


def check_value(key: str, value: Any, hint: Any) -> None:
    """Raise ConfigError unless `value` matches the type hint (with Interval ranges)."""
    problem = _mismatch(value, hint)
    if problem:
        raise ConfigError(f"{key}={value!r}: expected {problem}")


def _mismatch(value: Any, hint: Any) -> str | None:
    """What `value` should have been, or None when it fits `hint`."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return None
    if origin is typing.Annotated:
        problem = _mismatch(value, args[0])
        if problem:
            return problem
        bad = [iv for iv in args[1:] if isinstance(iv, Interval) and not iv.contains(value)]
        return f"{_mismatch('', args[0])} {bad[0]}" if bad else None
    if origin in (Union, types.UnionType):
        options = [_mismatch(value, a) for a in args]
        return None if None in options else " or ".join(o for o in options if o)
    if origin is Literal:
        return None if value in args else "one of " + ", ".join(map(repr, args))
    if origin in (list, tuple):
        if not isinstance(value, list):
            return f"a list, each item {_mismatch('', args[0])}" if args else "a list"
        problems = [_mismatch(v, args[0]) for v in value] if args else []
        return next((f"a list, each item {p}" for p in problems if p), None)
    return _mismatch_scalar(value, hint)


def _mismatch_scalar(value: Any, hint: Any) -> str | None:
    if hint is type(None):
        return None if value is None else "null"
    if hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if ok and not math.isnan(value) else "a number"
    if hint is int:
        return None if isinstance(value, int) and not isinstance(value, bool) else "an integer"
    if isinstance(hint, type):
        return None if isinstance(value, hint) else _name(hint)
    return None


def _name(hint: Any) -> str:
    return getattr(hint, "__name__", str(hint))


def _container(value: Any) -> Any:
    if isinstance(value, (DictConfig, ListConfig)):
        return OmegaConf.to_container(value, resolve=True)
    return value
