"""Where conf/ and sweeps/ are found, the sweep group, one hop from config name to file."""

from __future__ import annotations

import re

import pytest
from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

from src import config_files
from src.config_files import CONF_DIR, SWEEPS_DIR, register_sweeps
from src.errors import ConfigError
from src.names import NOT_A_COORDINATE, is_coordinate, target_name
from tests.conftest import compose_config

# Groups whose option is not a file or a same-named class, and why.
NOT_ONE_HOP = {
    ("trainer", "default"): "src.trainer.Settings",  # the one option of `trainer`
    ("theory", "default"): "src.theory.run.TheorySettings",  # the one option of `theory`
    ("diagnosis", "on"): "src.diagnosis.watch.Watch",  # a switch: watch the run or not
    ("diagnosis", "off"): "src.diagnosis.watch.NoWatch",
}


def options_with_targets() -> list[tuple[str, str, str]]:
    found = []
    for path in sorted(CONF_DIR.glob("*/*.yaml")):
        target = OmegaConf.load(path).get("_target_")
        if target is not None:
            found.append((path.parent.name, path.stem, str(target)))
    return found


@pytest.mark.parametrize(("group", "option", "target"), options_with_targets())
def test_a_config_name_is_one_hop_from_its_file(group, option, target):
    """`group=option` builds src/<group>/<option>.py's function or src/<group>.py's <Option>."""
    module, name = target.rsplit(".", 1)
    if (group, option) in NOT_ONE_HOP:
        assert target == NOT_ONE_HOP[group, option]
    elif module == f"src.{group}.{option}":
        assert (CONF_DIR.parent / "src" / group / f"{option}.py").is_file()
    else:
        assert module == f"src.{group}"
        assert name.lower().replace("_", "") == option.replace("_", "")  # leaky_relu: LeakyReLU


def test_every_group_option_is_covered():
    groups = {group for group, _, _ in options_with_targets()}
    assert groups == {"activation", "dataset", "diagnosis", "init", "logger", "loss", "model",
                      "optimizer", "theory", "trainer"}  # fmt: skip


def test_conf_and_sweeps_hold_no_symlinks():
    """A checkout without symlinks (or `find -type f`) sees every config file."""
    assert not [p for p in [*CONF_DIR.rglob("*"), *SWEEPS_DIR.rglob("*")] if p.is_symlink()]


def test_each_sweep_file_is_an_option_of_the_sweep_group():
    names = sorted(p.stem for p in SWEEPS_DIR.glob("*.yaml"))
    assert "bs_lr" in names
    assert sorted(n.removesuffix(".yaml") for n in ConfigStore.instance().list("sweep")) == names
    cfg = compose_config("sweep=bs_lr")
    assert "sweep" not in cfg  # a `# @package _global_` grid sets hydra.* keys, adds no node


def test_a_broken_sweep_file_is_a_config_error_naming_it(tmp_path):
    (tmp_path / "typo.yaml").write_text("hydra: {sweeper: [unclosed\n")
    with pytest.raises(ConfigError, match=re.escape(str(tmp_path / "typo.yaml")) + ": not valid"):
        register_sweeps(tmp_path)
    (tmp_path / "typo.yaml").write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="a sweep file is a mapping"):
        register_sweeps(tmp_path)


def test_an_installed_copy_wins_over_the_checkout(tmp_path, monkeypatch):
    package = tmp_path / "site-packages" / "src"
    (package / "conf").mkdir(parents=True)
    monkeypatch.setattr(config_files, "PACKAGE", package)
    assert config_files.find_dir("conf") == package / "conf"  # `pip install .`
    assert config_files.find_dir("sweeps") == tmp_path / "site-packages" / "sweeps"  # checkout


def test_the_checkout_uses_its_own_folders():
    assert config_files.PACKAGE.parent / "conf" == CONF_DIR
    assert (CONF_DIR / "config.yaml").is_file() and SWEEPS_DIR.name == "sweeps"


def test_a_cell_folder_name_leaves_out_what_is_not_a_coordinate():
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", ["sweep=bs_lr", "optimizer.lr=0.1"], return_hydra_config=True)
    assert list(cfg.hydra.job.config.override_dirname.exclude_keys) == list(NOT_A_COORDINATE)
    assert cfg.hydra.job.override_dirname == "optimizer.lr=0.1"
    assert [is_coordinate(k) for k in ("sweep", "hydra.sweep.dir", "optimizer.lr")] == [
        False, False, True,
    ]  # fmt: skip


def test_target_name_is_the_last_dotted_part():
    assert target_name({"_target_": "src.activation.LeakyReLU"}) == "LeakyReLU"
    assert target_name(OmegaConf.create({"_target_": "src.init.he_normal"})) == "he_normal"
    assert target_name({"lr": 0.1}) == target_name(None) == ""
