"""The per-run theory metrics in metrics.json, and that runs sharing a network share them."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from src.stackable import plain
from src.theory import cache, run
from src.theory.hessian import sharpness
from src.train import train
from tests.conftest import compose_config
from tests.theory.nets import small_net

TINY = ("logger=none", "model.hidden=[8]", "dataset.limit_train=64", "trainer.epochs=2")


def test_metrics_json_holds_sharpness_and_noise_scales(tmp_path):
    cache.forget()
    metrics = train(compose_config(*TINY, "trainer.batch_size=64"), tmp_path)
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert set(run.KEYS) <= set(written)
    net, x, y = small_net(*TINY[1:])
    (expected,) = sharpness(net, x, y, 64, np.random.default_rng(0))
    assert written["sharpness_init"] == pytest.approx(expected)
    assert written["noise_scale_init"] > 0 and math.isfinite(written["noise_scale_final"])
    assert metrics["noise_scale_final"] != metrics["noise_scale_init"]  # the trained net's


def test_runs_that_share_a_network_compute_its_init_quantities_once(tmp_path, monkeypatch):
    cache.forget()
    calls = []
    monkeypatch.setattr(run, "sweep_folder", lambda: None)  # the fake λ stays in this process
    monkeypatch.setattr(run, "sharpness_at", lambda net, *a: calls.append(a) or [5.0] * net.runs)
    for lr in ("0.01", "0.1"):
        train(compose_config(*TINY, f"optimizer.lr={lr}"), tmp_path / lr)
    assert len(calls) == 1
    train(compose_config(*TINY, "trainer.batch_size=4"), tmp_path / "b4")
    assert len(calls) == 2  # another batch size: its own λ


def test_a_diverged_run_records_none(tmp_path):
    diverging = ("loss=mse", "trainer.batch_size=1", "optimizer.lr=50")
    metrics = train(compose_config(*TINY, *diverging), tmp_path)
    assert metrics["outcome"] == "diverged"
    assert metrics["noise_scale_final"] is None
    assert metrics["sharpness_init"] > 0


def test_theory_enabled_false_measures_nothing(tmp_path):
    metrics = train(compose_config(*TINY, "theory.enabled=false"), tmp_path)
    assert not set(run.KEYS) & set(metrics)


def test_measured_again_the_init_quantities_are_the_same(tmp_path):
    cache.forget()
    fresh = train(compose_config(*TINY, "trainer.batch_size=4"), tmp_path / "fresh")
    train(compose_config(*TINY, "optimizer.lr=0.5"), tmp_path / "other")  # trains the net's twin
    cache.forget()  # the init quantities are measured again
    again = train(compose_config(*TINY, "trainer.batch_size=4"), tmp_path / "again")
    assert {k: again[k] for k in run.KEYS} == {k: fresh[k] for k in run.KEYS}


def test_network_key_of_plain_data_is_its_configs_and_leaves_it_unchanged():
    cfg = compose_config(*TINY, "optimizer.lr=0.3", "dataset.target_accuracy=0.5")
    data = plain(cfg)
    settings = run.theory_settings(cfg)
    assert run.network_key(data, 3, settings) == run.network_key(cfg, 3, settings)
    assert data["dataset"]["target_accuracy"] == 0.5  # the key leaves it out of a copy
    other = compose_config(*TINY, "optimizer.lr=3", "dataset.target_accuracy=0.8")
    assert run.network_key(plain(other), 3, settings) == run.network_key(data, 3, settings)
