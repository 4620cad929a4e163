"""The sweep callback's work at the end of a sweep: the launcher's workers go first."""

from __future__ import annotations

from joblib import Parallel, delayed
from joblib.externals.loky import reusable_executor

from src.sweep.callback import _logger_module, _release_workers
from tests.conftest import compose_config


def test_the_workers_are_let_go_before_the_summary_and_a_later_launch_gets_new_ones():
    assert Parallel(n_jobs=2, backend="loky")(delayed(abs)(-k) for k in range(2)) == [0, 1]
    executor = reusable_executor._executor
    _release_workers()
    assert executor._flags.shutdown  # exiting while the parent writes the summary
    assert Parallel(n_jobs=2, backend="loky")(delayed(abs)(-k) for k in range(2)) == [0, 1]
    assert reusable_executor._executor is not executor


def test_the_logger_class_is_imported_ahead_of_the_summary():
    assert _logger_module(compose_config()) == ["src.logger.tensorboard"]
    assert _logger_module(compose_config("logger=none")) == ["src.logger.none"]
