"""The primary config is composed once, not twice, and is the same config: for a sweep and
for a single run."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import initialize_config_dir
from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import ConfigCompositionException
from hydra.types import RunMode
from omegaconf import OmegaConf

from src.cli import compose_primary_once
from src.config_files import CONF_DIR

SWEEP = ["sweep=bs_lr", "activation=tanh", "trainer.seed=0,1"]


def as_main_does(overrides: list[str], flag: bool = False, run_mode: RunMode = RunMode.MULTIRUN,
                 conf: Path = CONF_DIR) -> tuple[object, str]:  # fmt: skip
    """What `hydra.main` does before a sweep or run: read `hydra.mode`, then compose to run
    (`flag`: after appending the mode to the overrides, as `--multirun` or a run with no mode
    in its config does)."""
    with initialize_config_dir(config_dir=str(conf), version_base="1.3"):
        hydra = GlobalHydra.instance().hydra
        assert hydra is not None
        mode = hydra.get_mode(config_name="config", overrides=overrides)
        overrides = [*overrides, f"hydra.mode={run_mode.name}"] if flag else overrides
        cfg = hydra.compose_config("config", overrides, run_mode=run_mode)
        return mode, OmegaConf.to_yaml(cfg)  # unresolved: `${now:...}` stays as written


@pytest.fixture
def compositions(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each composition Hydra runs, by whether it checked the sweep overrides."""
    calls: list[bool] = []
    original = ConfigLoaderImpl._load_configuration_impl

    def counted(self: ConfigLoaderImpl, *args: object, **kwargs: object) -> object:
        calls.append(bool(kwargs.get("validate_sweep_overrides")))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ConfigLoaderImpl, "_load_configuration_impl", counted)
    return calls


def test_the_sweep_composes_once_and_gets_the_config_hydra_composes(compositions):
    mode, plain = as_main_does(SWEEP)
    assert compositions == [False, True]  # without it: twice
    compositions.clear()
    with compose_primary_once():
        assert as_main_does(SWEEP) == (mode, plain)
    assert compositions == [False]
    assert mode == RunMode.MULTIRUN


@pytest.mark.parametrize("grid", [SWEEP[1:], ["trainer.seed=0,1", "hydra.mode=RUN"]])
def test_the_multirun_flag_composes_once_and_gets_the_config_hydra_composes(compositions, grid):
    """`--multirun` (the second: over a config that says RUN, as Hydra warns)."""
    mode, plain = as_main_does(grid, flag=True)
    assert compositions == [False, True]
    compositions.clear()
    with compose_primary_once():
        assert as_main_does(grid, flag=True) == (mode, plain)
    assert compositions == [False]
    assert "  mode: MULTIRUN\n" in plain and "  - hydra.mode=MULTIRUN\n" in plain


@pytest.mark.parametrize("overrides", [[], ["activation=tanh", "trainer.seed=3"]])
def test_a_single_run_composes_once_and_gets_the_config_hydra_composes(compositions, overrides):
    mode, plain = as_main_does(overrides, flag=True, run_mode=RunMode.RUN)
    assert compositions == [False, True]
    compositions.clear()
    with compose_primary_once():
        assert as_main_does(overrides, flag=True, run_mode=RunMode.RUN) == (mode, plain)
    assert compositions == [False]
    assert mode is None and "  mode: RUN\n" in plain and "  - hydra.mode=RUN\n" in plain


def test_a_single_run_over_a_group_left_unset_composes_again_and_fails_as_hydra_does(
    compositions, tmp_path
):
    """A multirun's composition skips a `???` group that a run's refuses."""
    (tmp_path / "grp").mkdir()
    (tmp_path / "grp" / "one.yaml").write_text("a: 1\n")
    (tmp_path / "config.yaml").write_text("defaults:\n  - grp: ???\n  - _self_\nx: 1\n")
    with compose_primary_once(), pytest.raises(ConfigCompositionException, match="specify 'grp'"):
        as_main_does([], flag=True, run_mode=RunMode.RUN, conf=tmp_path)
    assert compositions == [False, True]
    compositions.clear()
    with compose_primary_once():
        _, plain = as_main_does(["grp=one"], flag=True, run_mode=RunMode.RUN, conf=tmp_path)
    assert compositions == [False] and "grp: one" in plain


def test_a_sweep_override_in_a_single_run_is_still_refused():
    with compose_primary_once(), pytest.raises(ConfigCompositionException, match="multirun"):
        as_main_does(["trainer.seed=0,1"], flag=True, run_mode=RunMode.RUN)


@pytest.mark.parametrize("extra", ["hydra.mode=RUN", "trainer.seed=5"])
def test_other_overrides_compose_again(compositions, extra):
    with compose_primary_once(), initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        hydra = GlobalHydra.instance().hydra
        assert hydra is not None
        hydra.get_mode(config_name="config", overrides=SWEEP)
        hydra.compose_config("config", [*SWEEP, extra], RunMode.MULTIRUN)
    assert compositions == [False, True]


def test_a_sweep_over_a_hydra_key_is_still_refused():
    with compose_primary_once(), pytest.raises(ConfigCompositionException, match="Sweeping"):
        as_main_does(["sweep=bs_lr", "hydra.job.name=a,b"])


def test_hydra_composes_as_before_afterwards():
    with compose_primary_once():
        pass
    assert ConfigLoaderImpl.load_configuration.__qualname__ == (
        "ConfigLoaderImpl.load_configuration"
    )
