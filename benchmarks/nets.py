"""The three benchmarked networks: their configs, data, sample budgets and FLOP counts."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from src.arrays import Array
from src.config_files import CONF_DIR
from src.dataset.base import Dataset
from src.layers.conv import Conv2D
from src.layers.dense import Dense
from src.model.sequential import Sequential

CNN_SAMPLES = 4096  # synthetic 32x32x3 images: enough for every batch size's budget


@dataclass(frozen=True)
class Net:
    """One benchmarked network: how to compose, feed and size it."""

    name: str
    title: str
    overrides: tuple[str, ...]  # `python -m src.train` overrides that select it
    load: Callable[[], Dataset]
    max_steps: int  # a timing stops after this many steps ...
    max_samples: int  # ... or this many samples (several epochs when above the data size)

    def config(self) -> DictConfig:
        """The config `python -m src.train <overrides>` would run."""
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            return compose(config_name="config", overrides=list(self.overrides))

    def plan(self, batch: int, n_train: int, scale: float) -> tuple[int, int]:
        """(samples per epoch, epochs) for one timing at `batch`, `scale` < 1 for --quick."""
        target = max(batch, int(scale * min(batch * self.max_steps, self.max_samples)))
        if target <= n_train:
            return target, 1
        return n_train, max(1, round(target / n_train))


@functools.cache
def fashion() -> Dataset:
    """Real Fashion-MNIST (Debian's dataset-fashion-mnist), scaled to [0, 1]."""
    from src.dataset.fashion_mnist import fashion_mnist

    return fashion_mnist()


@functools.cache
def digits() -> Dataset:
    """The 1,797 real 8x8 digits shipped in scikit-learn (the project's default data set)."""
    from src.dataset.digits import digits as load

    return load()


@functools.cache
def random_images() -> Dataset:
    """Synthetic N(0, 1) 32x32x3 images with random labels: speed does not depend on content."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((CNN_SAMPLES + 64, 32, 32, 3))
    y = rng.integers(0, 10, size=len(x))
    return Dataset(x[:CNN_SAMPLES], y[:CNN_SAMPLES], x[CNN_SAMPLES:], y[CNN_SAMPLES:], 10, 0.5)


MLP_OVERRIDES = ("dataset=fashion_mnist", "model.hidden=[256]")
NETS = {
    "mlp": Net("mlp", "MLP 784-256-10, Fashion-MNIST", MLP_OVERRIDES, fashion, 2048, 60_000),
    "cnn": Net("cnn", "CNN 3x3x16-pool2-dense, 32x32x3", ("model=cnn",), random_images, 512,
               CNN_SAMPLES),
    "digits": Net("digits", "MLP 64-100-10, digits (default)", (), digits, 2048, 32 * 1437),
}  # fmt: skip


def flops_per_sample(model: Sequential, x: Array) -> int:
    """Matmul FLOPs one training sample needs: forward, weight gradient, and input gradient for
    every parametrized layer but the first (the data needs none). x: one sample (1, 1, ...)."""
    total, first = 0, True
    for layer in model.layers:
        y = layer.forward(x)
        if isinstance(layer, (Dense, Conv2D)):
            positions = int(np.prod(y.shape[2:-1], dtype=np.int64))  # conv output pixels, or 1
            per_pass = 2 * layer.params["W"].size * positions
            total += per_pass * (2 if first else 3)
            first = False
        x = y
    return total
