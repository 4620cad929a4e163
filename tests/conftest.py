"""Shared fixtures: a float64 generator and config composition from conf/."""

from __future__ import annotations

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from src.config_files import CONF_DIR, register_sweeps

register_sweeps()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def compose_config(*overrides: str) -> DictConfig:
    """The config `python -m src.train <overrides>` would run, composed without running it."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))
