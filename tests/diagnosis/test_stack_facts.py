"""The facts of a stack's runs: read once where runs share them, equal to reading each run."""

from __future__ import annotations

import pytest

from src.diagnosis import evidence
from src.stackable import plain
from tests.conftest import compose_config


def test_stack_facts_equal_each_runs_own_and_are_read_once_per_optimizer_and_init(monkeypatch):
    cfgs = [compose_config("optimizer=momentum", "init=normal", *overrides) for overrides in (
        ["optimizer.lr=0.1"], ["optimizer.lr=0.5", "trainer.seed=3"],
        ["optimizer.lr=0.1", "optimizer.momentum=0.5"], ["optimizer.lr=2", "init.std=0.3"],
    )]  # fmt: skip
    own = [evidence.read_facts(cfg, 16, 1437, 10) for cfg in cfgs]
    reads, read_facts = [], evidence.read_facts

    def counted(cfg, *args):
        reads.append(cfg)
        return read_facts(cfg, *args)

    monkeypatch.setattr(evidence, "read_facts", counted)
    assert evidence.stack_facts(cfgs, 16, 1437, 10, [plain(cfg) for cfg in cfgs]) == own
    assert [facts.lr for facts in own] == [0.1, 0.5, 0.1, 2.0]
    assert own[2].step_scale == pytest.approx(2.0) and own[0].step_scale == pytest.approx(10.0)
    assert reads == [cfgs[0], cfgs[2], cfgs[3]]  # run 1 differs from run 0 only in lr and seed
