"""Which launcher a repair round uses: the one recorded in the original run's .hydra/hydra.yaml."""

from __future__ import annotations

import pytest
import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser

from src.repair.launch import launcher_overrides, quoted


def write_hydra_yaml(run_dir, choice, hydra_overrides):
    hydra = {"runtime": {"choices": {"hydra/launcher": choice, "hydra/sweeper": "basic"}},
             "overrides": {"hydra": hydra_overrides, "task": ["optimizer.lr=1"]}}  # fmt: skip
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "hydra.yaml").write_text(yaml.safe_dump({"hydra": hydra}))


def test_the_recorded_launcher_and_its_settings_are_reused(tmp_path):
    write_hydra_yaml(tmp_path, "submitit_local", [
        "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=5",
        "hydra.sweep.dir=/elsewhere", "hydra.sweeper.params={a: 1}",
    ])  # fmt: skip
    assert launcher_overrides(tmp_path) == [
        "hydra/launcher=submitit_local",
        "hydra.launcher.timeout_min=5",
    ]  # the sweep's own folder and grid are not the repair's


def test_the_default_launcher_is_named_even_when_not_overridden(tmp_path):
    write_hydra_yaml(tmp_path, "joblib", ["hydra.launcher.n_jobs=2"])
    assert launcher_overrides(tmp_path) == ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]


def test_a_run_folder_without_hydra_yaml_uses_the_configured_launcher(tmp_path):
    assert launcher_overrides(tmp_path) == []


@pytest.mark.parametrize(
    "name", ["optimizer.lr=1,trainer.batch_size=4.repair1", "it's", 'say "hi"', "back\\slash"]
)
def test_a_folder_name_is_one_quoted_value_that_parses_back(name):
    override = f"hydra.sweep.subdir={quoted(name)}"
    assert OverridesParser.create().parse_override(override).value() == name
