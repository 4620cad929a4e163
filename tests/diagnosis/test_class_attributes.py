"""The diagnosis reads behaviour from class attributes, never from class names.

A rename is simulated faithfully: each class the rules care about gets a subclass under an
unrelated name in its own module, and a copy of `conf/` targets it; the run is then diagnosed
exactly as with the original class.
"""

from __future__ import annotations

import json
import math
import re
import shutil

import pytest
from hydra import compose, initialize_config_dir

from src import activation, loss, optimizer
from src.diagnosis import suggest
from src.diagnosis.evidence import read_facts
from src.train import train
from tests.conftest import CONF_DIR

RENAMES = {  # module, original name -> new name
    (activation, "ReLU"): "Hinge",
    (activation, "LeakyReLU"): "Slanted",
    (activation, "Sigmoid"): "Logistic",
    (activation, "Tanh"): "Hyperbolic",
    (loss, "MSE"): "SquaredError",
    (optimizer, "Adam"): "Adaptive",
    (optimizer, "Momentum"): "HeavyBall",
}


@pytest.fixture
def renamed(monkeypatch, tmp_path):
    """A config folder whose `_target_`s name the renamed subclasses, installed in their
    modules."""
    conf = tmp_path / "conf"
    shutil.copytree(CONF_DIR, conf)
    for (module, name), new in RENAMES.items():
        cls = getattr(module, name)
        monkeypatch.setattr(module, new, type(new, (cls,), {"__module__": module.__name__}),
                            raising=False)  # fmt: skip
        old = re.compile(rf"\b{re.escape(f'{module.__name__}.{name}')}\b")
        for path in conf.rglob("*.yaml"):
            path.write_text(old.sub(f"{module.__name__}.{new}", path.read_text()))
    return conf


def composed(conf, *overrides: str):
    with initialize_config_dir(config_dir=str(conf), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def diagnosed(conf, out, *overrides: str) -> str:
    """The run's diagnosis and signals as JSON, with the renamed classes named as before; the
    suggestions read the same config folder as the run."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(suggest, "CONF", conf)
        m = train(composed(conf, "logger=none", *overrides), out)
    text = json.dumps({k: m.get(k) for k in ("cause", "diagnosis", "signals")}, sort_keys=True)
    for (_, name), new in RENAMES.items():
        text = text.replace(new, name)
    return text


CASES = [  # (overrides, the cause ranked first)
    (("init=uniform", "init.low=-0.1", "init.high=0", "trainer.epochs=3"), "dead_relu"),
    (("activation=sigmoid", "init=normal", "init.std=5", "trainer.epochs=3"),
     "saturated_activation"),
    (("activation=tanh", "optimizer.lr=10", "trainer.epochs=3"), "saturated_activation"),
    (("activation=leaky_relu", "model.hidden=[64,64,64,64]", "init=normal", "init.std=0.5",
      "trainer.epochs=2"), "exploding_gradient"),
    (("loss=mse", "model.output_activation=softmax", "trainer.epochs=2"),
     "loss_output_mismatch"),
    (("optimizer=adam", "optimizer.lr=1", "trainer.epochs=3"), "dead_relu"),
    (("optimizer=momentum", "optimizer.lr=1e-4", "trainer.epochs=3"), "learning_rate_too_low"),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(("overrides", "cause"), CASES)
def test_a_renamed_class_gets_the_same_diagnosis(renamed, tmp_path, overrides, cause):
    original = diagnosed(CONF_DIR, tmp_path / "original", *overrides)
    assert json.loads(original)["cause"] == cause
    assert diagnosed(renamed, tmp_path / "renamed", *overrides) == original


def facts(*overrides: str, conf=CONF_DIR):
    return read_facts(composed(conf, *overrides), batch_size=32, n_train=1438, n_classes=10)


def test_facts_carry_the_attributes_of_the_configured_classes():
    default = facts()
    assert (default.rectifier, default.keeps_scale, default.saturates) == (True, True, False)
    assert (default.step_scale, default.normalizes_gradient) == (1.0, False)
    assert default.takes_logits and default.baseline_loss == pytest.approx(math.log(10))
    sigmoid = facts("activation=sigmoid")
    assert (sigmoid.rectifier, sigmoid.keeps_scale, sigmoid.saturates) == (False, False, True)
    tanh, leaky = facts("activation=tanh"), facts("activation=leaky_relu")
    assert (tanh.rectifier, tanh.keeps_scale, tanh.saturates) == (False, True, True)
    assert (leaky.rectifier, leaky.keeps_scale, leaky.saturates) == (True, True, False)
    assert facts("optimizer=momentum", "optimizer.momentum=0.8").step_scale == pytest.approx(5.0)
    assert facts("optimizer=adam").normalizes_gradient
    mse = facts("loss=mse", "loss.targets=pm1", "model.output_activation=sigmoid")
    assert not mse.takes_logits and mse.baseline_loss == pytest.approx(1.8)
    assert (mse.targets, mse.output_activation) == ("pm1", "sigmoid")


@pytest.mark.parametrize(
    "choice",
    ["activation=relu", "activation=leaky_relu", "activation=sigmoid", "activation=tanh",
     "loss=mse", "optimizer=adam", "optimizer=momentum"],
)  # fmt: skip
def test_facts_of_a_renamed_class_differ_only_in_the_names_they_hold(renamed, choice):
    before, after = facts(choice), facts(choice, conf=renamed)
    names = {"activation": after.activation, "loss_node": after.loss_node}  # shown, not read
    assert after.__dict__ == {**before.__dict__, **names}


@pytest.mark.parametrize(
    ("made", "expected"),
    [(loss.CrossEntropy(), math.log(10)), (loss.MSE("onehot"), 0.45), (loss.MSE("pm1"), 1.8)],
)
def test_constant_output_baselines(made, expected):
    assert made.baseline_loss(10) == pytest.approx(expected)
