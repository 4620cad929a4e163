"""Which configs stack: equal but for per-run values; anything else is split, never an error."""

from __future__ import annotations

import copy

import pytest

from src.errors import ConfigError
from src.stackable import STACKABLE_KEYS, check_stackable, plain, shape_key, stack_groups
from src.train import train_stack
from tests.conftest import compose_config


def test_lr_seed_and_init_scale_stack_shapes_and_options_split():
    cfgs = [
        compose_config("optimizer.lr=0.1"),
        compose_config("optimizer.lr=0.5", "trainer.seed=3"),
        compose_config("trainer.batch_size=8"),  # another step count
        compose_config("model.hidden=[50]"),  # another shape
        compose_config("init=normal", "init.std=0.1"),
        compose_config("init=normal", "init.std=0.5", "trainer.stall_margin=0.1"),
        compose_config("init=xavier_normal"),  # no keys to tell it from he_normal but its target
        compose_config("optimizer.lr=0.01", "dataset.target_accuracy=0.8"),
    ]
    assert stack_groups(cfgs) == [[0, 1, 7], [2], [3], [4, 5], [6]]
    assert stack_groups([]) == []


def test_every_stackable_key_exists_in_some_option():
    keys = set()
    for overrides in ([], ["optimizer=adam"], ["optimizer=momentum"], ["init=normal"],
                      ["init=uniform"]):  # fmt: skip
        cfg = compose_config(*overrides)
        keys |= {f"{g}.{k}" for g, node in cfg.items() for k in node}
    assert keys >= STACKABLE_KEYS


def test_a_bad_per_run_value_names_its_key(tmp_path):
    good, bad = compose_config("logger=none"), compose_config("logger=none", "optimizer.lr=-1")
    check_stackable(good)
    with pytest.raises(ConfigError, match=r"optimizer\.lr=-1"):
        check_stackable(bad)
    with pytest.raises(ConfigError, match=r"optimizer\.lr"):
        train_stack([good, bad], [tmp_path / "a", tmp_path / "b"])
    assert not (tmp_path / "a").exists()  # nothing written before the error


def test_plain_data_keys_and_checks_as_its_config_and_stays_unchanged():
    cfgs = [
        compose_config("optimizer.lr=0.1"),
        compose_config("optimizer.lr=0.5", "init=normal"),
        compose_config("optimizer.lr=0.2", "trainer.seed=4", "trainer.batch_size=8"),
    ]
    plains = [plain(cfg) for cfg in cfgs]
    copies = copy.deepcopy(plains)
    assert [shape_key(p) for p in plains] == [shape_key(cfg) for cfg in cfgs]
    assert stack_groups(plains) == stack_groups(cfgs) == [[0], [1], [2]]
    assert plains == copies  # read, never changed
    bad = plain(compose_config("optimizer.lr=-1"))
    with pytest.raises(ConfigError, match=r"optimizer\.lr=-1"):
        check_stackable(bad)
