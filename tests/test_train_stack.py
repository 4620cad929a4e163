"""A run trained in a stack writes the metrics it writes when trained alone."""

from __future__ import annotations

import json
import math

import pytest

from src.results import METRICS
from src.train import train, train_stack
from tests.conftest import compose_config

# MSE on digits, 3 epochs of batch 16: lr 1e-3 stalls at chance (seed 1) or barely learns,
# 0.3 converges, 3 and 30 diverge within an epoch, each at its own step.
GRID = [(lr, seed) for lr in (1e-3, 0.3, 3.0, 30.0) for seed in (0, 1)]
EXACT = ("outcome", "test_accuracy", "steps", "first_nonfinite_step", "predicted_class_share")


def grid_configs(dtype: str, logger: str = "none") -> list:
    base = ["loss=mse", f"logger={logger}", "trainer.epochs=3", "trainer.batch_size=16",
            f"trainer.dtype={dtype}"]  # fmt: skip
    return [compose_config(*base, f"optimizer.lr={lr}", f"trainer.seed={seed}")
            for lr, seed in GRID]  # fmt: skip


def assert_same_run(stacked: dict, alone: dict) -> None:
    for key in EXACT:
        assert stacked[key] == alone[key], key
    if alone["final_train_loss"] is None:
        assert stacked["final_train_loss"] is None
    else:
        assert stacked["final_train_loss"] == pytest.approx(alone["final_train_loss"], rel=1e-6)
    # Per-run arithmetic is bit-identical, so everything else matches too (but the clock).
    drop = {"wall_seconds"}
    assert {k: v for k, v in stacked.items() if k not in drop} == {
        k: v for k, v in alone.items() if k not in drop
    }


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_stack_gives_every_run_its_metrics_alone(tmp_path, dtype):
    cfgs = grid_configs(dtype)
    dirs = [tmp_path / "stack" / str(i) for i in range(len(cfgs))]
    stacked = train_stack(cfgs, dirs)
    alone = [train(cfg, tmp_path / "alone" / str(i)) for i, cfg in enumerate(cfgs)]
    outcomes = {m["outcome"] for m in alone}
    assert {"converged", "stalled", "diverged"} <= outcomes  # the grid covers every regime
    steps = {m["first_nonfinite_step"] for m in alone} - {None}
    assert len(steps) > 1  # runs leave the stack at different steps
    for s, a, d in zip(stacked, alone, dirs):
        assert_same_run(s, a)
        assert json.loads((d / METRICS).read_text()) == s


def test_a_diverging_run_leaving_does_not_change_the_others(tmp_path):
    cfgs = grid_configs("float32")
    keep = [i for i, (lr, _) in enumerate(GRID) if lr < 1]
    diverging = [i for i, (lr, _) in enumerate(GRID) if lr >= 1]
    together = train_stack(cfgs, [tmp_path / "all" / str(i) for i in range(len(cfgs))])
    calm = train_stack([cfgs[i] for i in keep], [tmp_path / "calm" / str(i) for i in keep])
    assert all(together[i]["outcome"] == "diverged" for i in diverging)
    for i, m in zip(keep, calm):
        assert_same_run(together[i], m)
        assert math.isfinite(m["final_train_loss"])


def test_stack_refuses_configs_that_differ_in_shape(tmp_path):
    cfgs = [compose_config("logger=none"), compose_config("logger=none", "model.hidden=[50]")]
    with pytest.raises(ValueError, match="STACKABLE_KEYS"):
        train_stack(cfgs, [tmp_path / "a", tmp_path / "b"])


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cnn_runs_stack_too(tmp_path, dtype):
    base = ["model=cnn", "model.filters=4", "loss=mse", "logger=none", "trainer.epochs=2",
            f"trainer.dtype={dtype}"]  # fmt: skip
    cfgs = [compose_config(*base, f"optimizer.lr={lr}", f"trainer.seed={seed}")
            for lr in (0.01, 1.0, 100.0) for seed in (0, 1)]  # fmt: skip
    stacked = train_stack(cfgs, [tmp_path / "stack" / str(i) for i in range(len(cfgs))])
    alone = [train(cfg, tmp_path / "alone" / str(i)) for i, cfg in enumerate(cfgs)]
    assert "diverged" in {m["outcome"] for m in alone}
    for s, a in zip(stacked, alone):
        assert_same_run(s, a)
