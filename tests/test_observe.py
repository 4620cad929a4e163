"""One probe per epoch, shared by the diagnosis and the TensorBoard logger, and only if wanted."""

from __future__ import annotations

import pytest

from src import observe
from src.train import train_stack
from tests.conftest import compose_config


def probes_per_run(monkeypatch, tmp_path, runs: int, *overrides: str) -> tuple[int, list]:
    calls = []
    real = observe.probe

    def counted(model, *args, **kwargs):
        calls.append(model.runs)
        return real(model, *args, **kwargs)

    monkeypatch.setattr(observe, "probe", counted)
    cfgs = [compose_config("trainer.epochs=3", f"trainer.seed={seed}", *overrides)
            for seed in range(runs)]  # fmt: skip
    metrics = train_stack(cfgs, [tmp_path / str(i) for i in range(runs)])
    return len(calls), metrics


@pytest.mark.parametrize(
    ("logger", "diagnosis", "expected"),
    [("tensorboard", "on", 1 + 3), ("none", "on", 1 + 3), ("tensorboard", "off", 3),
     ("none", "off", 0)],
)  # fmt: skip
def test_one_stacked_probe_per_epoch_for_all_runs(monkeypatch, tmp_path, logger, diagnosis,
                                                  expected):  # fmt: skip
    count, metrics = probes_per_run(monkeypatch, tmp_path, 3, f"logger={logger}",
                                    f"diagnosis={diagnosis}")  # fmt: skip
    assert count == expected  # at init (diagnosis only) and after each epoch, never per run
    assert all(m["outcome"] == "converged" for m in metrics)
    assert all(("signals" in m) == (diagnosis == "on") for m in metrics)


def test_diagnosis_off_trains_the_same_run(tmp_path):
    on = train_stack([compose_config("logger=none", "trainer.epochs=2")], [tmp_path / "on"])[0]
    off = train_stack([compose_config("logger=none", "trainer.epochs=2", "diagnosis=off")],
                      [tmp_path / "off"])[0]  # fmt: skip
    assert off["diagnosis"] == [] and off["cause"] is None
    assert off["final_train_loss"] == on["final_train_loss"]  # probing changes nothing
    assert off["test_accuracy"] == on["test_accuracy"]
