"""HParams values, final metrics and the tensorboardX import, without writing files."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from src.logger.records import MISSING, final_metrics, hparam_value, hparam_values, tag
from tests.conftest import compose_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.float32(0.5), 0.5),
        (np.int64(3), 3),
        (np.bool_(True), True),
        (None, "None"),
        ([100, 100], "[100, 100]"),
        (math.nan, "nan"),
        (math.inf, "inf"),
        ("relu", "relu"),
        (0.1, 0.1),
    ],
)
def test_plain_keeps_what_tensorboardx_would_drop(value, expected):
    converted = hparam_value(value)
    assert converted == expected and type(converted) is type(expected)


def test_hparams_hold_group_choices_flattened_config_and_outcome():
    cfg = compose_config("activation=sigmoid", "model.hidden=[8,8]")
    values = hparam_values(cfg, "diverged")
    assert values["activation"] == "Sigmoid"  # parameter-free: only the target tells it
    assert values["optimizer"] == "SGD" and values["optimizer.lr"] == 0.1
    assert values["model.hidden"] == "[8, 8]"
    assert values["dataset.limit_train"] == "None"
    assert values["outcome"] == "diverged"
    assert all(type(v) in (bool, int, float, str) for v in values.values())


def test_final_metrics_are_numbers_with_minus_one_for_none():
    diverged = {"outcome": "diverged", "test_accuracy": None, "first_nonfinite_step": 7}
    assert final_metrics(diverged) == {
        "final/test_accuracy": MISSING,
        "final/outcome_code": 3.0,
        "final/first_nonfinite_step": 7.0,
    }
    converged = {"outcome": "converged", "test_accuracy": 0.97, "first_nonfinite_step": None}
    assert final_metrics(converged)["final/outcome_code"] == 0.0
    assert final_metrics(converged)["final/first_nonfinite_step"] == MISSING
    assert final_metrics({"outcome": "error"})["final/outcome_code"] == 4.0


def test_tags_have_no_characters_tensorboardx_would_rename():
    assert tag("1.Dense:W") == "1.Dense.W"


def test_logger_does_not_import_torch_but_torch_still_imports_later():
    code = (
        "import sys, importlib.util\n"
        "import src.logger.tensorboard\n"
        "print('torch' in sys.modules, 'boto3' in sys.modules)\n"
        "if importlib.util.find_spec('torch'):\n"
        "    import torch\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONWARNINGS": "error"}, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False"]
