"""Hand the first job of a launch the config the sweeper composed for it while validating.

Hydra's sweepers compose jobs before launching, to fail early, and then every job composes its
config once more where it runs (the joblib launcher: in its worker, ~0.2 s). The first job
opens the costliest stack, the one that ends the sweep last, so its second composition delays
the whole sweep. The launcher gets a Hydra context whose config loader answers that job with
the sweeper's composition (it travels to the worker with the context, ~17 KB pickled); every
other job composes as before. The two compositions are the same call with the same master
config, made before the launch and after it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from hydra.types import HydraContext
from omegaconf import DictConfig


class HandedOver:
    """A config loader that answers `load_sweep_config` for one job's overrides, once, with a
    config composed beforehand, and leaves everything else to the loader it wraps."""

    def __init__(self, loader: Any, overrides: Sequence[str], config: DictConfig) -> None:
        self._loader, self._overrides, self._config = loader, list(overrides), config

    def load_sweep_config(self, master_config: DictConfig, sweep_overrides: list[str]) -> Any:
        if self._config is not None and list(sweep_overrides) == self._overrides:
            config, self._config = self._config, None  # once: the job may change it
            return config
        return self._loader.load_sweep_config(master_config, sweep_overrides)

    def __getattr__(self, name: str) -> Any:
        # Only public names: unpickling looks up dunders before `_loader` is set.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._loader, name)


def compose_and_hand_over(
    launcher: Any, context: HydraContext, master: DictConfig, overrides: Sequence[str]
) -> None:
    """Compose the job `overrides` (raising what Hydra raises) and have `launcher`'s next
    launch use that config for it; `context` is the sweeper's own, left as it is."""
    config = context.config_loader.load_sweep_config(master, list(overrides))
    if getattr(launcher, "hydra_context", None) is not None:
        loader = HandedOver(context.config_loader, overrides, config)
        launcher.hydra_context = dataclasses.replace(context, config_loader=loader)
