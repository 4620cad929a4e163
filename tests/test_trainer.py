from __future__ import annotations

import math
from dataclasses import FrozenInstanceError

import numpy as np
import pytest
from omegaconf import OmegaConf

from src import init, trainer
from src.activation import ReLU
from src.layers.conv import Conv2D
from src.loss import MSE, CrossEntropy
from src.model.mlp import mlp
from src.optimizer import SGD
from src.trainer import FiniteGuard, Hooks, Settings, evaluate, fit
from tests.conftest import CONF_DIR


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


@pytest.mark.parametrize("shape", [(3, 1, 4), (3, 5, 1), (3, 2, 2, 1, 3), (3, 1, 1)])
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


def frozen_run(batch_size, epochs=2, hooks=None):
    """A run whose steps are too small to move a weight: every loss is a function of init only."""
    loss = CrossEntropy()
    model = tiny_model(loss)
    init_out = model.forward(tiny_problem()[0][None])[0]
    settings = Settings(epochs=epochs, batch_size=batch_size, dtype="float64")
    (history,) = fit(model, loss, SGD(model.parameters(), lr=1e-300), tiny_problem(), settings,
                     [np.random.default_rng(0)], hooks)  # fmt: skip
    return history, init_out


def test_epoch_loss_is_the_mean_over_samples_not_over_batches():
    # 50 samples at batch 16: batches of 16, 16, 16 and 2. Averaging batch means would give the
    # last 2 samples the weight of 16; dropping the weights entirely would give 1/16 of the loss.
    x, y, x_test, y_test = tiny_problem()
    history, init_out = frozen_run(batch_size=16)
    by_hand = float(np.mean(np.log(np.exp(init_out).sum(axis=1)) - init_out[np.arange(50), y]))
    assert history.epoch_losses == pytest.approx([by_hand, by_hand], rel=1e-12)
    test_out = init_out[:20]  # the test set is the first 20 training samples
    test_loss = np.mean(np.log(np.exp(test_out).sum(axis=1)) - test_out[np.arange(20), y_test])
    assert history.test_losses == pytest.approx([test_loss, test_loss], rel=1e-12)
    accuracy = float(np.mean(test_out.argmax(axis=1) == y_test))
    assert history.test_accuracies == [accuracy, accuracy]
    np.testing.assert_array_equal(history.test_predictions, test_out.argmax(axis=1))


def test_each_step_reports_its_batch_loss_and_each_epoch_reshuffles():
    steps, values, epochs = [], [], []

    def on_step(step, losses, runs):
        assert runs == [0] and losses.shape == (1,)
        steps.append(step)
        values.append(float(losses[0]))

    def on_epoch(epoch, runs, histories):
        epochs.append((epoch, runs, histories[0].epochs_completed))

    history, _ = frozen_run(16, epochs=2, hooks=Hooks(on_step=on_step, on_epoch=on_epoch))
    assert steps == list(range(1, 9)) and history.steps == 8
    assert epochs == [(0, [0], 1), (1, [0], 2)]
    sizes = np.array([16, 16, 16, 2])
    for epoch in range(2):
        batch = np.array(values[4 * epoch : 4 * epoch + 4])
        assert np.dot(batch, sizes) / 50 == pytest.approx(history.epoch_losses[epoch], rel=1e-12)
    assert values[:4] != values[4:]  # another order in epoch 2, same frozen weights


def test_a_nonfinite_loss_stops_before_any_epoch_is_recorded():
    calls, left = [], []
    loss = MSE()
    model = tiny_model(loss)
    x, y, x_test, y_test = tiny_problem()
    x = x.copy()
    x[:] = np.inf  # the first forward pass already gives a non-finite loss
    hooks = Hooks(on_epoch=lambda e, runs, h: calls.append(e),
                  on_leave=lambda run, model: left.append(run))  # fmt: skip
    (history,) = fit(model, loss, SGD(model.parameters(), lr=0.1), (x, y, x_test, y_test),
                     Settings(epochs=3, batch_size=8, dtype="float64"),
                     [np.random.default_rng(0)], hooks)  # fmt: skip
    assert history.first_nonfinite_step == 0 and history.steps == 0 and left == [0]
    assert history.epochs_completed == 0 and history.epoch_losses == [] and calls == []
    assert history.test_accuracies == [] and history.test_predictions is None


class ConstantLoss:
    """A loss that stays finite whatever the weights: only the parameter guard can stop a run."""

    def forward(self, out, y):
        self.shape = out.shape
        return np.ones(len(out))

    def backward(self):
        return np.zeros(self.shape)


class PoisonAt:
    """SGD that writes a NaN into the first weight of run 0 at update `step`."""

    def __init__(self, params, step):
        self.sgd, self.w, self.step_at, self.count = SGD(params, lr=0.1), params[0][0], step, 0

    def step(self):
        self.sgd.step()
        self.count += 1
        if self.count == self.step_at:
            self.w[0].flat[0] = np.nan

    def select(self, runs, params):
        self.sgd.select(runs, params)


def test_a_nonfinite_parameter_stops_the_run_at_that_step_even_if_the_loss_stays_finite():
    model = tiny_model(CrossEntropy(), seeds=(0, 1))
    steps = []
    hooks = Hooks(on_step=lambda s, v, runs: steps.append((s, runs)))
    first, second = fit(model, ConstantLoss(), PoisonAt(model.parameters(), step=6),
                        tiny_problem(), Settings(epochs=4, batch_size=16, dtype="float64"),
                        [np.random.default_rng(0), np.random.default_rng(1)], hooks)  # fmt: skip
    # 4 updates per epoch: the poisoned update 6 is in epoch 2, so only epoch 1 is recorded.
    assert first.first_nonfinite_step == 6 and first.steps == 6
    assert first.epochs_completed == 1 and first.epoch_losses == [1.0]
    assert steps[:6] == [(s, [0, 1]) for s in range(1, 7)]
    assert steps[6:] == [(s, [1]) for s in range(7, 17)]  # run 1 trains on alone
    assert second.first_nonfinite_step is None and second.steps == 16
    assert second.epoch_losses == [1.0] * 4


def test_settings_defaults_are_the_config_defaults_and_frozen():
    yaml = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "trainer" / "default.yaml"))
    yaml.pop("_target_")
    assert Settings() == Settings(**yaml)
    with pytest.raises(FrozenInstanceError):
        Settings().epochs = 3


def test_a_conv_kernel_view_is_guarded_through_its_live_array():
    # Conv2D's kernel is a view of a weight-and-bias array: its runs are not one matrix apart.
    he = init.stacked([init.he_normal] * 3, [np.random.default_rng(0)] * 3)
    layer = Conv2D(1, 2, 2, 1, 0, he, np.dtype(np.float64))  # 2 filters: not K
    guard = FiniteGuard([layer.params["W"], layer.params["b"]])
    assert guard.all_finite() and guard.finite().tolist() == [True] * 3
    layer.params["W"][1, 0, 1, 0, 1] = np.nan
    with np.errstate(invalid="ignore"):
        assert not guard.all_finite() and guard.finite().tolist() == [True, False, True]


def test_gathering_per_batch_gives_the_same_runs(monkeypatch):
    # Above GATHER_BYTES the batches are gathered one by one: the same samples, the same runs.
    _, per_epoch = run_stack([0.1, 0.3], [0, 1])
    monkeypatch.setattr(trainer, "GATHER_BYTES", 0)
    _, per_batch = run_stack([0.1, 0.3], [0, 1])
    assert [h.epoch_losses for h in per_batch] == [h.epoch_losses for h in per_epoch]
