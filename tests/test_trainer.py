from __future__ import annotations

import math

import numpy as np
import pytest

from src import init, trainer
from src.activation import ReLU
from src.loss import MSE, CrossEntropy
from src.model.mlp import mlp
from src.optimizer import SGD
from src.trainer import FiniteGuard, Settings, evaluate, fit


def tiny_problem(n=50, d=3, k=2, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = (x[:, 0] > 0).astype(np.int64) % k
    return x, y, x[:20], y[:20]


def tiny_model(loss, seed=0):
    return mlp((3,), 2, ReLU, init.he_normal, np.random.default_rng(seed), np.dtype("float64"),
               loss.takes_logits, hidden=[4])  # fmt: skip


def run(lr=0.1, batch_size=16, epochs=3, loss=None, seed=0):
    loss = loss or CrossEntropy()
    model = tiny_model(loss, seed)
    settings = Settings(epochs=epochs, batch_size=batch_size, dtype="float64")
    history = fit(model, loss, SGD(model.parameters(), lr=lr), tiny_problem(), settings,
                  np.random.default_rng(seed))  # fmt: skip
    return model, history


def test_last_partial_batch_is_kept():
    _, history = run(batch_size=16, epochs=3)  # 50 samples -> 16+16+16+2
    assert history.steps == 4 * 3
    assert history.epochs_completed == 3
    assert len(history.test_accuracies) == len(history.epoch_losses) == 3


def test_same_seed_gives_identical_history():
    a, b = run(seed=5)[1], run(seed=5)[1]
    assert a.epoch_losses == b.epoch_losses and a.test_accuracies == b.test_accuracies
    assert run(seed=6)[1].epoch_losses != a.epoch_losses


def test_divergence_stops_at_first_nonfinite_step_without_raising():
    _, history = run(lr=1e6, batch_size=1, epochs=5, loss=MSE())
    assert history.first_nonfinite_step is not None
    assert history.steps == history.first_nonfinite_step  # stopped right there
    assert history.steps < 5 * 50


def test_learning_reduces_loss():
    _, history = run(lr=0.5, epochs=10)
    assert history.epoch_losses[-1] < history.epoch_losses[0]
    assert history.test_accuracies[-1] >= 0.9


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_finite_guard_catches_each_kind_of_nonfinite(bad):
    w = np.ones((3, 4), dtype=np.float32)
    guard = FiniteGuard([w])
    assert guard.all_finite()
    w[1, 2] = bad  # in place: the guard watches the live array
    with np.errstate(invalid="ignore"):
        assert not guard.all_finite()


def test_finite_guard_does_not_overflow_on_huge_finite_weights():
    w = np.full(1000, 3e38, dtype=np.float32)
    assert FiniteGuard([w]).all_finite()


def test_evaluate_gives_predictions_and_whole_set_loss_across_chunks(monkeypatch):
    model, _ = run(epochs=1)
    loss = CrossEntropy()
    _, _, x, y = tiny_problem()
    out = model.forward(x)
    expected_loss = loss.forward(out, y)
    monkeypatch.setattr(trainer, "EVAL_CHUNK", 7)  # 20 samples: chunks of 7, 7 and 6
    predictions, mean = evaluate(model, loss, x, y)
    np.testing.assert_array_equal(predictions, out.argmax(axis=1))
    assert mean == pytest.approx(expected_loss, rel=1e-12)


def test_history_records_test_loss_per_epoch():
    _, history = run(epochs=3)
    assert len(history.test_losses) == 3 and all(np.isfinite(history.test_losses))
