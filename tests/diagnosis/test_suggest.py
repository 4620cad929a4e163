"""Suggested overrides: numbers people would type, computed so they compose on the run."""

from __future__ import annotations

import pytest

from src.diagnosis import suggest
from src.diagnosis.report import merge_overrides
from src.train import validate
from tests.conftest import compose_config
from tests.diagnosis.factories import FACTS


@pytest.mark.parametrize(
    ("x", "expected"), [(0.124, 0.1), (0.57, 0.5), (6.7e-4, 5e-4), (2.0, 2.0), (0.0199, 0.01)]
)
def test_rates_round_down_to_one_two_five(x, expected):
    assert suggest.nice_below(x) == pytest.approx(expected)


def test_numbers_keep_two_digits_and_read_back():
    assert [suggest.number(v) for v in (0.0335, 0.1, 32.0, 1e-5)] == ["0.034", "0.1", "32", "1e-05"]


def test_batch_size_from_the_noise_model():
    facts = FACTS.__class__(**{**FACTS.__dict__, "batch_size": 1})
    # noise 4.6 at batch 1: variance 20.2 / B; ratio 0.26 -> step <= 0.35 from B ~ 26.
    assert suggest.batch_size(facts, 4.6, 0.26, 0.35) == "trainer.batch_size=32"
    assert suggest.batch_size(facts, 4.6, 0.4, 0.35).endswith(f"={FACTS.n_train}")  # capped


@pytest.mark.parametrize(
    ("node", "rectifier", "expected"),
    [
        ({"_target_": "src.init.normal", "std": 1.0}, True, "init.std=0.18"),
        ({"_target_": "src.init.uniform", "low": 0.0, "high": 1.0}, True,
         "init.low=-0.31 init.high=0.31"),
        ({"_target_": "src.init.he_normal"}, False, "init=xavier_normal"),
        ({"_target_": "src.init.xavier_normal"}, True, "init=he_normal"),
    ],
)  # fmt: skip
def test_init_scale_stays_in_the_runs_init_family(node, rectifier, expected):
    facts = FACTS.__class__(**{**FACTS.__dict__, "rectifier": rectifier, "inits": {"init": node}})
    assert suggest.init_scale(facts, [(64, 64), (64, 10)]) == expected


def test_zero_mean_init_flips_the_missing_side_of_each_one_signed_uniform():
    inits = {
        "init": {"_target_": "src.init.uniform", "low": -0.1, "high": 0.0},
        "model.dense_init": {"_target_": "src.init.uniform", "low": 0.0, "high": 0.1},
    }
    facts = FACTS.__class__(**{**FACTS.__dict__, "inits": inits})
    assert suggest.zero_mean_init(facts) == "init.high=0.1 model.dense_init.low=-0.1"


def test_a_switch_deletes_keys_the_new_option_does_not_take_unless_they_were_defaults():
    mse = {"_target_": "src.loss.MSE", "targets": "onehot"}
    assert suggest.switch("loss", "cross_entropy", mse) == "loss=cross_entropy"
    pm1 = {"_target_": "src.loss.MSE", "targets": "pm1"}
    assert suggest.switch("loss", "cross_entropy", pm1) == "loss=cross_entropy ~loss.targets"
    normal = {"_target_": "src.init.normal", "std": 1.0}
    assert suggest.switch("init", "xavier_normal", normal) == "init=xavier_normal ~init.std"


@pytest.mark.parametrize(
    ("overrides", "suggestion"),
    [
        (["experiment=wide_sigmoid_mse", "dataset=digits"], "init=xavier_normal ~init.std"),
        (["init=normal", "init.std=1"], "init=xavier_normal ~init.std"),
        (["loss=mse", "loss.targets=pm1", "model.output_activation=softmax"],
         "loss=cross_entropy ~loss.targets"),
        (["experiment=tanh_mse_pm1", "dataset=digits"], "loss=cross_entropy ~loss.targets"),
        (["experiment=cifar_cnn_naive"], "model.dense_init.low=-0.1 dataset.normalize=unit"),
    ],
)  # fmt: skip
def test_switches_compose_whether_the_key_came_from_a_preset_or_the_command_line(
    overrides, suggestion
):
    validate(compose_config(*merge_overrides(overrides, suggestion)))


@pytest.mark.parametrize(
    ("batch", "ratio", "step", "expected"),
    [
        (1024, 0.025, 0.025, "trainer.batch_size=128"),  # 200 updates: 10 per epoch, 143 each
        (1024, 0.025, 0.1, "trainer.epochs=100"),  # steps too large for a noisier batch
        (64, 0.001, 0.001, "trainer.epochs=218"),  # 5000 updates: not even batch 32 gives them
    ],
)
def test_more_updates_lowers_the_batch_while_steps_are_small_else_adds_epochs(
    batch, ratio, step, expected
):
    facts = FACTS.__class__(**{**FACTS.__dict__, "batch_size": batch})
    assert suggest.more_updates(facts, ratio, step) == expected


@pytest.mark.parametrize(
    ("pace", "expected"),
    [
        # The digits sigmoid net at batch 128, lr 1e-4: 240 updates of 5.4e-6. Raised x3800 and
        # rounded down to lr 0.2 (x2000), they add up to 2.6: a rerun that ended at 0.88.
        (5.4e-6, "optimizer.lr=0.2 trainer.batch_size=32"),
        (6.5e-6, "optimizer.lr=0.2"),  # 240 x 0.013 = 3.1: enough
    ],
)
def test_a_raised_rate_that_leaves_the_run_short_of_sure_movement_also_gets_more_updates(
    pace, expected
):
    facts = FACTS.__class__(**{**FACTS.__dict__, "batch_size": 128, "lr": 1e-4, "n_train": 1437})
    assert suggest.learning_rate(facts, 3800, pace, step=2e-5) == expected
