"""The edge sweeper passes the tests Hydra ships for sweeper plugins, as Hydra's own do."""

from __future__ import annotations

import pytest
from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper
from hydra.test_utils.launcher_common_tests import BatchedSweeperTestSuite

from hydra_plugins.trainmap_edge_sweeper.edge_sweeper import EdgeSweeper

# Hydra's test app has no optimizer.lr: its numeric key `bar` stands in for the lr axis. Its
# jobs write no metrics.json, so no outcome differs and no refinement round follows. The app
# has no version_base: chdir is set to what it defaults to, without Hydra's warning about it.
OVERRIDES = [
    "hydra/sweeper=edge", "hydra.sweeper.max_batch_size=2", "hydra.sweeper.lr_key=bar",
    "hydra.job.chdir=True",
]  # fmt: skip


def test_discovered_as_a_sweeper_plugin():
    # Hydra loads its own copy of each plugin module: compare names, as Hydra's plugins do.
    found = [f"{c.__module__}.{c.__name__}" for c in Plugins.instance().discover(Sweeper)]
    assert f"{EdgeSweeper.__module__}.{EdgeSweeper.__name__}" in found


@pytest.mark.parametrize(
    "launcher_name, overrides",
    [
        # Each its own list: the suite extends the one it is given.
        ("basic", [*OVERRIDES]),
        ("joblib", [*OVERRIDES, "hydra.launcher.n_jobs=2"]),
        pytest.param("submitit_local", [*OVERRIDES], marks=pytest.mark.slow),
    ],
)
class TestEdgeSweeperBatches(BatchedSweeperTestSuite):
    """Six jobs in three launches of two, in the order of the overrides, each in its folder,
    through the basic, joblib and submitit_local launchers."""
