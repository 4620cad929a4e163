"""The noise scale at the end, measured for a whole trained stack at once: each run's value is
bit for bit the one-run measurement, in one pass over the batches whatever the stack's size."""

from __future__ import annotations

import logging
import math
import re
from types import SimpleNamespace

import numpy as np
import pytest

import src.train
from src.theory import run
from src.theory.adapter import FlatNet, float64_net, float64_stack
from src.theory.noise import noise_scale_from_norms
from src.train import build, load_data, train, train_stack
from tests.conftest import compose_config

# 300 digits, 256 of them measured: 16 batches of 16 (more than numpy's 8-way unrolled sum),
# and a net of 610 (MLP) or 210 (CNN) parameters per run (pairwise sums of several blocks).
BASE = ("logger=none", "diagnosis=off", "dataset.limit_train=300", "theory.noise_samples=256",
        "loss=mse", "trainer.batch_size=4", "trainer.epochs=2")  # fmt: skip
NETS = {"mlp": ("model.hidden=[8]",), "cnn": ("model=cnn", "model.filters=2")}
RUNS = [("0.01", "0"), ("50", "0"), ("0.3", "1")]  # (lr, seed): the second run diverges


def stack_configs(net: str, runs: list[tuple[str, str]] = RUNS) -> list:
    return [compose_config(*BASE, *NETS[net], f"optimizer.lr={lr}", f"trainer.seed={seed}")
            for lr, seed in runs]  # fmt: skip


def recorded(monkeypatch) -> list:
    """Replace train's `final_noise_scales` by a wrapper that records the trained model and
    histories it is given, then measures."""
    calls: list = []

    def wrapper(cfgs, data, model, histories, settings, theory):
        calls.append((model.take(np.arange(model.runs)) if model.runs else None, histories))
        return run.final_noise_scales(cfgs, data, model, histories, settings, theory)

    monkeypatch.setattr(src.train, "final_noise_scales", wrapper)
    return calls


def measured_alone(cfg, data, trained) -> float:
    """B_simple of one trained run as measured one run at a time: its weights cast into the
    run's own one-run float64 net, squared norms of flat gradient vectors, their mean."""
    net = float64_net([cfg], data, [cfg.trainer.seed])
    net.set(FlatNet(trained, net.loss).get())  # float32 weights, cast exactly
    rng = np.random.default_rng(0)
    rows = rng.choice(len(data.y_train), size=cfg.theory.noise_samples, replace=False)
    x, y = data.x_train[rows], data.y_train[rows]
    big_sq = float(np.sum(net.loss_grads(x, y)[1][0] ** 2))
    order, small = rng.permutation(len(y)), cfg.theory.noise_batch
    norms = [float(np.sum(net.loss_grads(x[b], y[b])[1][0] ** 2))
             for b in np.split(order, len(y) // small)]  # fmt: skip
    return noise_scale_from_norms(float(np.mean(norms)), big_sq, small, len(y))


@pytest.mark.parametrize("net", sorted(NETS))
def test_each_run_of_a_stack_gets_its_one_run_value_bit_for_bit(tmp_path, monkeypatch, net):
    cfgs = stack_configs(net)
    calls = recorded(monkeypatch)
    stacked = train_stack(cfgs, [tmp_path / str(i) for i in range(len(cfgs))])
    (model, histories), data = calls[0], load_data(cfgs[0].dataset)
    assert [m["outcome"] for m in stacked][1] == "diverged"
    assert stacked[1]["noise_scale_final"] is None
    alive = [k for k, h in enumerate(histories) if h.first_nonfinite_step is None]
    assert alive == [0, 2] and model.runs == 2
    for i, k in enumerate(alive):
        expected = measured_alone(cfgs[k], data, model.take(np.array([i])))
        assert stacked[k]["noise_scale_final"].hex() == expected.hex()
        alone = train(cfgs[k], tmp_path / f"alone{k}")
        assert stacked[k]["noise_scale_final"].hex() == alone["noise_scale_final"].hex()


@pytest.mark.parametrize("net", sorted(NETS))
def test_a_stacks_squared_gradient_norms_are_each_runs_alone(net):
    """|g|² of run k of a float64 stack: np.sum(g**2) of run k's one-run float64 net's flat
    gradient, bit for bit, on a batch shared by all runs."""
    cfgs, seeds = stack_configs(net), [0, 1, 2]
    data = load_data(cfgs[0].dataset)
    rngs = [np.random.default_rng(seed).spawn(2)[0] for seed in seeds]
    model = build(cfgs, data, np.dtype("float32"), rngs)[0]  # three runs' float32 weights
    stack = float64_stack(cfgs[0], data, model)
    for x, y in [(data.x_train, data.y_train), (data.x_train[7:23], data.y_train[7:23])]:
        norms = stack.squared_grad_norms(x, y)  # (3,)
        for k, (cfg, seed) in enumerate(zip(cfgs, seeds)):
            alone = float64_net([cfg], data, [seed])
            alone.set(FlatNet(model.take(np.array([k])), alone.loss).get())
            assert norms[k].hex() == float(np.sum(alone.loss_grads(x, y)[1][0] ** 2)).hex()
        assert len(set(norms)) == 3  # three runs, three nets


def test_a_stack_makes_one_pass_over_the_batches(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger=run.__name__)
    passes: list[int] = []  # the number of runs of each gradient computed on a float64 net
    real = FlatNet.squared_grad_norms
    counted = lambda net, *xy: passes.append(net.runs) or real(net, *xy)  # noqa: E731
    monkeypatch.setattr(FlatNet, "squared_grad_norms", counted)
    at_init = {"sharpness_init": 1.0, "noise_scale_init": 1.0}  # only the end is counted
    monkeypatch.setattr(src.train, "initial_measurements", lambda cfgs, *a: [at_init] * len(cfgs))
    stacked = train_stack(stack_configs("mlp"), [tmp_path / str(i) for i in range(3)])
    assert [m["noise_scale_final"] is None for m in stacked] == [False, True, False]
    assert passes == [2] * (1 + 256 // 16)  # both survivors at once: full batch, 16 small ones
    # its seconds in a line that sums with the runs' own `theory at batch size …` lines
    line = r"^theory at batch size 4: noise_scale_final of 2 of 3 runs .*\([0-9.]+ s\)$"
    assert len([r for r in caplog.messages if re.match(line, r)]) == 1


def test_a_stack_where_every_run_diverged_measures_nothing(tmp_path, monkeypatch):
    cfgs = stack_configs("mlp", [("50", "0"), ("60", "1")])
    monkeypatch.setattr(run, "float64_stack", lambda *a: pytest.fail("measured"))
    stacked = train_stack(cfgs, [tmp_path / "0", tmp_path / "1"])
    assert [(m["outcome"], m["noise_scale_final"]) for m in stacked] == [("diverged", None)] * 2


def test_theory_disabled_measures_nothing_at_the_end(monkeypatch):
    cfgs = stack_configs("mlp")[:1]
    monkeypatch.setattr(run, "float64_stack", lambda *a: pytest.fail("measured"))
    cfgs[0].theory.enabled = False
    finished = [SimpleNamespace(first_nonfinite_step=None)]
    theory = run.theory_settings(cfgs[0])
    assert math.isnan(run.final_noise_scales(cfgs, None, None, finished, [], theory)[0])
