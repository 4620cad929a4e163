from __future__ import annotations

import math

import numpy as np
import pytest

from src import init, trainer
from src.activation import ReLU
from src.loss import MSE, CrossEntropy
from src.model.mlp import mlp
from src.optimizer import SGD
from src.trainer import FiniteGuard, Hooks, Settings, evaluate, fit


def tiny_problem(n=50, d=3, k=2, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = (x[:, 0] > 0).astype(np.int64) % k
    return x, y, x[:20], y[:20]


def tiny_model(loss, seeds=(0,)):
    rngs = [np.random.default_rng(seed) for seed in seeds]
    return mlp((3,), 2, ReLU, [init.he_normal] * len(rngs), rngs, np.dtype("float64"),
               loss.takes_logits, hidden=[4])  # fmt: skip


def run_stack(lrs, seeds, batch_size=16, epochs=3, loss=None, hooks=None):
    loss = loss or CrossEntropy()
    model = tiny_model(loss, seeds)
    settings = Settings(epochs=epochs, batch_size=batch_size, dtype="float64")
    histories = fit(model, loss, SGD(model.parameters(), lr=lrs), tiny_problem(), settings,
                    [np.random.default_rng(seed) for seed in seeds], hooks)  # fmt: skip
    return model, histories


def run(lr=0.1, batch_size=16, epochs=3, loss=None, seed=0):
    model, (history,) = run_stack([lr], [seed], batch_size, epochs, loss)
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


def test_a_run_that_diverges_leaves_and_the_others_train_on_unchanged():
    lrs, seeds = [0.1, 1e6, 0.05, 1e5], [0, 1, 2, 3]
    left = []
    hooks = Hooks(on_leave=lambda run, model: left.append((run, model.runs)))
    _, stacked = run_stack(lrs, seeds, batch_size=1, epochs=3, loss=MSE(), hooks=hooks)
    assert sorted(run for run, _ in left) == [1, 3] and all(k == 1 for _, k in left)
    for lr, seed, history in zip(lrs, seeds, stacked):
        _, (alone,) = run_stack([lr], [seed], batch_size=1, epochs=3, loss=MSE())
        assert history.first_nonfinite_step == alone.first_nonfinite_step
        assert history.steps == alone.steps
        assert history.epoch_losses == alone.epoch_losses  # bit for bit
        assert history.test_accuracies == alone.test_accuracies
    assert stacked[1].first_nonfinite_step is not None and stacked[0].steps == 3 * 50


def test_each_run_shuffles_with_its_own_rng():
    _, (a, b) = run_stack([0.1, 0.1], [5, 6])
    _, (alone,) = run_stack([0.1], [6])
    assert a.epoch_losses != b.epoch_losses and b.epoch_losses == alone.epoch_losses


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_finite_guard_catches_each_kind_of_nonfinite_in_its_run(bad):
    w = np.ones((3, 3, 4), dtype=np.float32)  # (K, rows, cols)
    guard = FiniteGuard([w, np.ones((3, 1, 4), dtype=np.float32)])
    assert guard.finite().tolist() == [True] * 3
    w[1, 1, 2] = bad  # in place: the guard watches the live array
    with np.errstate(invalid="ignore"):
        assert guard.finite().tolist() == [True, False, True]


@pytest.mark.parametrize("shape", [(3, 1, 4), (3, 5, 1), (3, 2, 2, 1, 3)])
def test_finite_guard_sees_a_nan_in_biases_width_one_layers_and_kernels(shape):
    w = np.zeros(shape, dtype=np.float32)
    guard = FiniteGuard([np.ones((3, 2, 2), np.float32), w])
    w.reshape(3, -1)[2, -1] = np.nan
    with np.errstate(invalid="ignore"):
        assert guard.finite().tolist() == [True, True, False]


def test_finite_guard_does_not_overflow_on_huge_finite_weights():
    w = np.full((2, 1000), 3e38, dtype=np.float32)
    assert FiniteGuard([w]).finite().all()


def test_evaluate_gives_predictions_and_whole_set_loss_across_chunks(monkeypatch):
    model, _ = run_stack([0.1, 0.3], [0, 1], epochs=1)
    loss = CrossEntropy()
    _, _, x, y = tiny_problem()
    out = model.forward(np.stack([x, x]))  # (2, 20, 2)
    expected_loss = loss.forward(out, np.stack([y, y]))
    monkeypatch.setattr(trainer, "EVAL_CHUNK", 7)  # 20 samples: chunks of 7, 7 and 6
    predictions, mean = evaluate(model, loss, x, y)
    np.testing.assert_array_equal(predictions, out.argmax(axis=2))
    np.testing.assert_allclose(mean, expected_loss, rtol=1e-12)


def test_history_records_test_loss_per_epoch():
    _, history = run(epochs=3)
    assert len(history.test_losses) == 3 and all(np.isfinite(history.test_losses))


def test_epoch_loss_is_the_sample_weighted_mean_of_batch_losses():
    seen = []
    hooks = Hooks(on_step=lambda step, values, runs: seen.append(values.copy()))
    _, (a, b) = run_stack([0.1, 0.2], [0, 1], batch_size=16, epochs=1, hooks=hooks)
    sizes = np.array([16, 16, 16, 2])  # 50 samples
    expected = (np.array(seen) * sizes[:, None]).sum(axis=0) / 50
    np.testing.assert_allclose([a.epoch_losses[0], b.epoch_losses[0]], expected, rtol=1e-12)
    assert not np.allclose(expected, np.array(seen).mean(axis=0))  # the weighting matters
