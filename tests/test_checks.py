"""The messages users see for wrong config values: they name the key and what is valid."""

from __future__ import annotations

import pytest

from src.errors import ConfigError
from src.train import validate
from tests.conftest import compose_config


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["optimizer.lr=0"], "optimizer.lr=0: expected a number > 0"),
        (["optimizer.lr=-1"], "optimizer.lr=-1: expected a number > 0"),
        (["optimizer.lr=inf"], "optimizer.lr=inf: expected a number > 0"),
        (["optimizer.lr=nan"], "optimizer.lr=nan: expected a number"),
        (["optimizer.lr=abc"], "optimizer.lr='abc': expected a number"),
        (["trainer.batch_size=0"], "trainer.batch_size=0: expected an integer >= 1"),
        (["trainer.batch_size=2.5"], "trainer.batch_size=2.5: expected an integer"),
        (["trainer.epochs=0"], "trainer.epochs=0: expected an integer >= 1"),
        (["trainer.dtype=float16"],
         "trainer.dtype='float16': expected one of 'float32', 'float64'"),
        (["model.hidden=[10,0]"],
         "model.hidden=[10, 0]: expected a list, each item an integer >= 1"),
        (["optimizer=momentum", "optimizer.momentum=1"],
         "optimizer.momentum=1: expected a number in [0, 1)"),
        (["dataset.normalize=yes"],
         "dataset.normalize='yes': expected one of 'none', 'unit', 'standard'"),
        (["+optimizer.lrr=1"], "optimizer.lrr: unknown key for src.optimizer.SGD; valid keys: lr"),
        (["+foo=1"], "foo: unknown top-level key; valid: dataset, model"),
    ],
)  # fmt: skip
def test_validation_names_key_and_valid_values(overrides, message):
    with pytest.raises(ConfigError) as err:
        validate(compose_config(*overrides))
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_default_config_is_valid():
    validate(compose_config())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["init=uniform", "init.low=0.2"], "init.low=0.2, init.high=0.05: low must be below high"),
        (["model=cnn", "model.padding=3"], "model.kernel=3, model.padding=3: padding must be"),
    ],
)  # fmt: skip
def test_a_declared_constraint_between_keys_fills_in_the_defaults(overrides, message):
    with pytest.raises(ConfigError, match=message):
        validate(compose_config(*overrides))


def test_keys_that_fit_together_pass():
    validate(compose_config("init=uniform", "init.low=0", "init.high=0.1"))
    validate(compose_config("model=cnn", "model.kernel=5", "model.padding=4"))
