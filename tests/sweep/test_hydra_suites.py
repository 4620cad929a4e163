"""Hydra's own test suites for plugin authors, run against `hydra/sweeper=stacked`.

Their task functions are not trainmap's, so the sweeper launches one job per cell for them,
exactly as BasicSweeper; these suites check that it stays a well-behaved Hydra sweeper.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hydra import version
from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper
from hydra.test_utils.launcher_common_tests import (
    BatchedSweeperTestSuite,
    IntegrationTestSuite,
    LauncherTestSuite,
)
from hydra.version import VersionBase

from hydra_plugins.trainmap_stack_sweeper.config import StackSweeperConf

ROOT = Path(__file__).resolve().parents[2]
# The suites' apps leave version_base unset on purpose; Hydra then warns about its old defaults.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Future Hydra versions will no longer change working directory:UserWarning"
)
SWEEPER = ["hydra/sweeper=stacked"]


@pytest.fixture(autouse=True)
def plugin_on_path(monkeypatch):
    """Subprocess apps find this checkout's plugin even where another copy is installed."""
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))


@pytest.fixture(autouse=True)
def fresh_version_base():
    """The suites' apps expect Hydra's defaults for an unset version_base (they chdir into the
    job folder), as in a fresh process; an earlier test's `version_base="1.3"` would stay set.

    Put back afterwards on the VersionBase that is current then: the suites' own fixture
    (`hydra_restore_singletons`) replaces Hydra's singletons with copies when it ends, and a
    value put back on the replaced one would leave the next test's in-process runs unset.
    """
    saved = VersionBase.instance().getbase()
    VersionBase.instance().version_base = version._UNSPECIFIED_
    yield
    VersionBase.instance().version_base = saved


def test_discovered_by_hydra():
    found = [f"{p.__module__}.{p.__name__}" for p in Plugins.instance().discover(Sweeper)]
    assert StackSweeperConf._target_ in found


@pytest.mark.parametrize(
    ("launcher_name", "overrides"),
    [
        ("basic", [*SWEEPER, "hydra.sweeper.max_batch_size=2"]),
        ("joblib", [*SWEEPER, "hydra.sweeper.max_batch_size=2", "hydra.launcher.n_jobs=2"]),
    ],
)
class TestStackedSweeperBatches(BatchedSweeperTestSuite):
    pass


@pytest.mark.parametrize(("launcher_name", "overrides"), [("basic", SWEEPER)])
class TestStackedSweeperWithLaunchers(LauncherTestSuite):
    pass


@pytest.mark.slow
@pytest.mark.parametrize(
    ("task_launcher_cfg", "extra_flags"), [({}, ["-m", *SWEEPER, "hydra/launcher=basic"])]
)
class TestStackedSweeperIntegration(IntegrationTestSuite):
    pass
