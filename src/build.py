"""Build a run from its config: the data set, and the model, loss and optimizer of a stack.

Apart from `src.train` so that code measuring a net (`src.theory`) can build one without
importing the training entry point (and its Hydra app) into a sweep's worker.
"""

from __future__ import annotations

import numpy as np
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig

from src.arrays import Rng
from src.dataset.base import Dataset
from src.errors import TrainmapError
from src.stackable import once_per_value, plain


def build(cfgs: list[DictConfig], data: Dataset, dtype: np.dtype, rngs: list[Rng]) -> tuple:
    """Instantiate (model, loss, optimizer) for the stack of runs `cfgs` (run k initialized
    from rngs[k]), passing the runtime facts the configs cannot know."""
    loss = instantiate(cfgs[0].loss)
    model = instantiate(cfgs[0].model)(
        input_shape=data.input_shape,
        n_classes=data.n_classes,
        activation=instantiate(cfgs[0].activation),
        inits=once_per_value(cfgs, lambda cfg: plain(cfg.init), lambda cfg: instantiate(cfg.init)),
        rngs=rngs,
        dtype=dtype,
        takes_logits=loss.takes_logits,
    )
    hyper = {key: [cfg.optimizer[key] for cfg in cfgs]
             for key in cfgs[0].optimizer if not str(key).startswith("_")}  # fmt: skip
    return model, loss, instantiate(cfgs[0].optimizer)(params=model.storage(), **hyper)


def load_data(node: DictConfig) -> Dataset:
    """Instantiate the data set, raising its own DataError rather than Hydra's wrapper."""
    try:
        return instantiate(node)
    except InstantiationException as err:
        if isinstance(err.__cause__, TrainmapError):
            raise err.__cause__ from None
        raise
