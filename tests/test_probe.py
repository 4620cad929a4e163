"""The probe measures without changing anything, matches finite differences, never raises."""

from __future__ import annotations

import math

import numpy as np
import pytest

from src import init
from src.activation import ReLU, Tanh
from src.loss import MSE, CrossEntropy
from src.model.mlp import mlp
from src.optimizer import SGD
from src.probe import norm, probe, ratio
from src.trainer import Hooks, Settings, fit
from tests.test_trainer import tiny_problem


def tiny(activation=Tanh, loss=None, seed=0, hidden=(4, 3)):
    loss = loss or CrossEntropy()
    model = mlp((3,), 2, activation, [init.he_normal], [np.random.default_rng(seed)],
                np.dtype("float64"), loss.takes_logits, hidden=list(hidden))  # fmt: skip
    return model, loss


def test_keys_follow_named_parameters_and_activation_layers():
    model, loss = tiny()
    x, y, _, _ = tiny_problem()
    state = probe(model, loss, x, y, lr=0.1)
    assert list(state.weights) == list(model.named_parameters())
    assert list(state.grads) == list(state.grad_norms) == list(state.update_ratios)
    assert list(state.preactivations) == ["1.Tanh", "3.Tanh"]  # layers 0 and 2 are Dense
    dense = model.layers[0]
    expected = x @ dense.params["W"] + dense.params["b"]  # (1, N, 4): the input of layer 1
    np.testing.assert_allclose(state.preactivations["1.Tanh"], expected)


def test_gradients_match_central_differences():
    model, loss = tiny(loss=MSE())
    x, y, _, _ = tiny_problem(n=12)
    state = probe(model, loss, x, y, lr=0.1)
    eps = 1e-6
    for name, w in model.named_parameters().items():
        for index in [(0,) * w.ndim, tuple(s - 1 for s in w.shape)]:
            saved = w[index]
            w[index] = saved + eps
            up = loss.forward(model.forward(x[None]), y[None])[0]
            w[index] = saved - eps
            down = loss.forward(model.forward(x[None]), y[None])[0]
            w[index] = saved
            numeric = (up - down) / (2 * eps)
            analytic = state.grads[name][index]
            assert abs(numeric - analytic) <= 1e-6 * max(1.0, abs(numeric)), (name, index)


def test_changes_no_parameter_and_returns_copies():
    model, loss = tiny()
    x, y, _, _ = tiny_problem()
    before = {k: v.copy() for k, v in model.named_parameters().items()}
    state = probe(model, loss, x, y, lr=0.1)
    for name, w in model.named_parameters().items():
        np.testing.assert_array_equal(w, before[name])
        assert not np.shares_memory(state.weights[name], w)


def test_probing_between_epochs_leaves_training_bit_identical():
    def train(with_probe: bool):
        model, loss = tiny(activation=ReLU)
        data = tiny_problem()

        def on_epoch(epoch, runs, histories):
            if with_probe:
                probe(model, loss, data[0][:7], data[1][:7], lr=0.5)

        settings = Settings(epochs=4, batch_size=8, dtype="float64")
        (history,) = fit(model, loss, SGD(model.parameters(), lr=0.5), data, settings,
                         [np.random.default_rng(3)], Hooks(on_epoch=on_epoch))  # fmt: skip
        return history, model.named_parameters()

    (plain, w_plain), (probed, w_probed) = train(False), train(True)
    assert plain.epoch_losses == probed.epoch_losses
    assert all(np.array_equal(w_plain[k], w_probed[k]) for k in w_plain)


def test_norms_and_update_ratio():
    model, loss = tiny()
    x, y, _, _ = tiny_problem()
    state = probe(model, loss, x, y, lr=0.1)
    name = "0.Dense:W"
    assert state.weight_norms[name][0] == pytest.approx(np.linalg.norm(state.weights[name][0]))
    assert state.grad_norms[name][0] == pytest.approx(np.linalg.norm(state.grads[name][0]))
    expected = 0.1 * state.grad_norms[name] / state.weight_norms[name]
    assert state.update_ratios[name][0] == pytest.approx(expected[0])
    one = state.run(0)  # run 0's own values: floats and arrays without the run axis
    assert one.weight_norms[name] == state.weight_norms[name][0]
    assert one.weights[name].shape == state.weights[name].shape[1:]


def test_zero_weights_give_inf_or_nan_ratios_not_errors():
    assert ratio(1.0, 0.0) == math.inf
    assert math.isnan(ratio(0.0, 0.0))
    huge = np.full((2, 3), 3e38, dtype=np.float32)  # (K, size)
    np.testing.assert_allclose(norm(huge), 3e38 * math.sqrt(3), rtol=1e-6)


def test_nonfinite_weights_never_raise():
    model, loss = tiny()
    x, y, _, _ = tiny_problem()
    model.layers[0].params["W"][0, 0, 0] = np.nan
    model.layers[2].params["W"][:] = np.inf
    state = probe(model, loss, x, y, lr=0.1).run(0)  # filterwarnings=error: warnings fail
    assert math.isnan(state.loss)
    assert math.isnan(state.weight_norms["0.Dense:W"])
    assert state.weight_norms["2.Dense:W"] == math.inf
    assert 0.0 <= state.accuracy <= 1.0


def test_a_stacked_probe_gives_each_run_its_probe_alone():
    x, y, _, _ = tiny_problem()
    rngs = [np.random.default_rng(s) for s in (0, 1, 2)]
    stack = mlp((3,), 2, Tanh, [init.he_normal] * 3, rngs, np.dtype("float64"), True,
                hidden=[4, 3])  # fmt: skip
    lrs = np.array([0.1, 0.2, 0.3])
    stacked = probe(stack, CrossEntropy(), x, y, lrs)
    for k in range(3):
        model, loss = tiny(seed=k)
        alone, mine = probe(model, loss, x, y, lrs[k]).run(0), stacked.run(k)
        assert (alone.loss, alone.accuracy) == (mine.loss, mine.accuracy)
        assert alone.update_ratios == mine.update_ratios and alone.grad_norms == mine.grad_norms
        for name in alone.grads:
            np.testing.assert_array_equal(alone.grads[name], mine.grads[name])
        for name in alone.preactivations:
            np.testing.assert_array_equal(alone.preactivations[name], mine.preactivations[name])
