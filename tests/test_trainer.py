from __future__ import annotations

import math
from dataclasses import FrozenInstanceError

import numpy as np
import pytest
from omegaconf import OmegaConf

from src import init, trainer
from src.activation import ReLU
from src.loss import MSE, CrossEntropy
from src.model.mlp import mlp
from src.optimizer import SGD
from src.trainer import FiniteGuard, Settings, evaluate, fit
from tests.conftest import CONF_DIR


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


def frozen_run(batch_size, epochs=2, on_step=None, on_epoch=None):
    """A run whose steps are too small to move a weight: every loss is a function of init only."""
    loss = CrossEntropy()
    model = tiny_model(loss)
    init_out = model.forward(tiny_problem()[0])
    settings = Settings(epochs=epochs, batch_size=batch_size, dtype="float64")
    hooks = {k: v for k, v in (("on_step", on_step), ("on_epoch", on_epoch)) if v}
    history = fit(model, loss, SGD(model.parameters(), lr=1e-300), tiny_problem(), settings,
                  np.random.default_rng(0), **hooks)  # fmt: skip
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
    history, _ = frozen_run(
        16, epochs=2, on_step=lambda s, v: (steps.append(s), values.append(v)),
        on_epoch=lambda e, h: epochs.append((e, h.epochs_completed)),
    )  # fmt: skip
    assert steps == list(range(1, 9)) and history.steps == 8
    assert epochs == [(0, 1), (1, 2)]
    sizes = np.array([16, 16, 16, 2])
    for epoch in range(2):
        batch = np.array(values[4 * epoch : 4 * epoch + 4])
        assert np.dot(batch, sizes) / 50 == pytest.approx(history.epoch_losses[epoch], rel=1e-12)
    assert values[:4] != values[4:]  # another order in epoch 2, same frozen weights


def test_a_nonfinite_loss_stops_before_any_epoch_is_recorded():
    calls = []
    loss = MSE()
    model = tiny_model(loss)
    x, y, x_test, y_test = tiny_problem()
    x = x.copy()
    x[:] = np.inf  # the first forward pass already gives a non-finite loss
    history = fit(model, loss, SGD(model.parameters(), lr=0.1), (x, y, x_test, y_test),
                  Settings(epochs=3, batch_size=8, dtype="float64"), np.random.default_rng(0),
                  on_epoch=lambda e, h: calls.append(e))  # fmt: skip
    assert history.first_nonfinite_step == 0 and history.steps == 0
    assert history.epochs_completed == 0 and history.epoch_losses == [] and calls == []
    assert history.test_accuracies == [] and history.test_predictions is None


class ConstantLoss:
    """A loss that stays finite whatever the weights: only the parameter guard can stop a run."""

    def forward(self, out, y):
        self.shape = out.shape
        return 1.0

    def backward(self):
        return np.zeros(self.shape)


class PoisonAt:
    """SGD that writes a NaN into the first weight at update `step`."""

    def __init__(self, params, step):
        self.sgd, self.w, self.step_at, self.count = SGD(params, lr=0.1), params[0][0], step, 0

    def step(self):
        self.sgd.step()
        self.count += 1
        if self.count == self.step_at:
            self.w.flat[0] = np.nan


def test_a_nonfinite_parameter_stops_the_run_at_that_step_even_if_the_loss_stays_finite():
    model = tiny_model(CrossEntropy())
    steps = []
    history = fit(model, ConstantLoss(), PoisonAt(model.parameters(), step=6), tiny_problem(),
                  Settings(epochs=4, batch_size=16, dtype="float64"), np.random.default_rng(0),
                  on_step=lambda s, v: steps.append(s))  # fmt: skip
    # 4 updates per epoch: the poisoned update 6 is in epoch 2, so only epoch 1 is recorded.
    assert history.first_nonfinite_step == 6 and history.steps == 6 and steps == list(range(1, 7))
    assert history.epochs_completed == 1 and history.epoch_losses == [1.0]


def test_settings_defaults_are_the_config_defaults_and_frozen():
    yaml = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "trainer" / "default.yaml"))
    yaml.pop("_target_")
    assert Settings() == Settings(**yaml)
    with pytest.raises(FrozenInstanceError):
        Settings().epochs = 3
