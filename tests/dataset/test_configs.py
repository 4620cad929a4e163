"""Each dataset option composes, validates and mirrors its loader's signature defaults."""

from __future__ import annotations

import inspect
import re

import pytest
from hydra.utils import get_method
from omegaconf import OmegaConf

from src.dataset import fashion_mnist as fashion_module
from src.errors import DataError
from src.train import load_data, validate
from tests.conftest import compose_config

FILE_BASED = ["mnist", "fashion_mnist", "mnist_csv", "cifar10"]


@pytest.mark.parametrize("option", [*FILE_BASED, "encoder838"])
def test_yaml_lists_every_keyword_with_its_default(option):
    cfg = compose_config(f"dataset={option}")
    validate(cfg)
    node = OmegaConf.to_container(cfg.dataset)
    target = get_method(node.pop("_target_"))
    defaults = {k: p.default for k, p in inspect.signature(target).parameters.items()}
    assert node == defaults


def test_encoder838_instantiates():
    data = load_data(compose_config("dataset=encoder838").dataset)
    assert data.x_train.shape == (8, 8)


@pytest.mark.parametrize("option", FILE_BASED)
def test_missing_data_is_a_data_error_naming_the_file(option, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(fashion_module, "DEBIAN_FASHION", tmp_path / "debian")
    with pytest.raises(DataError, match=f"not found in {re.escape(str(tmp_path))}/data") as err:
        load_data(compose_config(f"dataset={option}").dataset)
    assert "set dataset." in str(err.value) and "\n" not in str(err.value)
