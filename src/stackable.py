"""Config keys whose values change neither array shapes nor the number of steps.

Runs of a sweep that differ only in these keys can be trained together, as one stack.
"""

from __future__ import annotations

STACKABLE_KEYS: frozenset[str] = frozenset({
    "optimizer.lr", "optimizer.momentum", "optimizer.beta1", "optimizer.beta2", "optimizer.eps",
    "trainer.seed", "trainer.stall_margin", "init.std", "init.low", "init.high",
})  # fmt: skip
