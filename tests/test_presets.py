"""The experiment presets: each composes; the ones needing absent data say so; twins run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from src.train import validate
from tests.cli import assert_one_error_line, run_train
from tests.conftest import CONF_DIR, compose_config
from tests.dataset.files import write_cifar

ROOT = Path(__file__).resolve().parents[1]
PRESETS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))
FASHION = Path("/usr/share/datasets/fashion-mnist")


def train(cwd: Path, *overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "src.train", *overrides, f"hydra.run.dir={cwd / 'run'}"],
        cwd=cwd, env={**os.environ, "PYTHONWARNINGS": "error"},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def last_line(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_composes_and_validates(preset):
    validate(compose_config(f"experiment={preset}"))


def test_cifar_preset_is_the_classic_network():
    cfg = compose_config("experiment=cifar_cnn_naive")
    assert cfg.dataset.normalize == "none" and cfg.trainer.batch_size == 1
    assert cfg.model.conv_init.std == 0.01
    assert (cfg.model.dense_init.low, cfg.model.dense_init.high) == (0.0, 0.1)


@pytest.mark.parametrize("preset", ["cifar_cnn_naive", "wide_sigmoid_mse", "tanh_fullbatch"])
def test_preset_without_its_data_names_the_missing_file(preset, tmp_path):
    result = run_train(tmp_path, f"experiment={preset}", f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode == 3
    assert_one_error_line(result, "not found in")
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_cifar_preset_trains_on_official_format_files(tmp_path):
    write_cifar(tmp_path / "data" / "cifar-10-batches-py", n_train=4, n_test=6)
    proc = train(tmp_path, "experiment=cifar_cnn_naive")
    assert proc.returncode == 0, proc.stderr
    assert "steps=20 " in last_line(proc)  # 5 batches x 4 images at batch size 1


@pytest.mark.slow
def test_autoencoder_838_learns_all_eight_patterns(tmp_path):
    proc = train(tmp_path, "experiment=autoencoder_838")
    assert proc.returncode == 0, proc.stderr
    assert last_line(proc).startswith("outcome=converged test_accuracy=1.0000 chance=0.1250")


@pytest.mark.slow
@pytest.mark.skipif(not FASHION.exists(), reason="needs apt-get install dataset-fashion-mnist")
@pytest.mark.parametrize(
    ("preset", "extra"),
    [
        ("cifar_cnn_naive", ["dataset.limit_train=2000"]),
        ("wide_sigmoid_mse", ["dataset.limit_train=2000", "trainer.epochs=1"]),
        ("tanh_fullbatch", ["dataset.limit_train=5000", "trainer.epochs=20"]),
        ("tanh_mse_pm1", ["dataset.limit_train=5000", "trainer.epochs=2"]),
    ],
)
def test_fashion_mnist_twin_runs(preset, extra, tmp_path):
    twin = [f"experiment={preset}", "dataset=fashion_mnist", "dataset.limit_test=2000"]
    proc = train(tmp_path, *twin, *extra)
    assert proc.returncode == 0, proc.stderr
    assert last_line(proc).startswith("outcome=")
