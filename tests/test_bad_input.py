"""The bad-input battery: every case is one line naming the key or file, exit != 0, no
traceback, and no run folder or file left behind."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.dataset.files import write_mnist

ROOT = Path(__file__).resolve().parents[1]
IMAGES = "train-images-idx3-ubyte"


def mnist_dir(tmp: Path, **replace: np.ndarray) -> Path:
    folder = tmp / "mnist"
    write_mnist(folder, gz=False, **replace)
    return folder


def truncated(tmp: Path) -> Path:
    folder = mnist_dir(tmp)
    data = (folder / IMAGES).read_bytes()
    (folder / IMAGES).write_bytes(data[:-100])
    return folder


def wrong_magic(tmp: Path) -> Path:
    folder = mnist_dir(tmp)
    data = bytearray((folder / IMAGES).read_bytes())
    data[3] = 1  # a 1-d file where 3-d images belong
    (folder / IMAGES).write_bytes(bytes(data))
    return folder


def missing_one(tmp: Path) -> Path:
    folder = mnist_dir(tmp)
    (folder / "t10k-labels-idx1-ubyte").unlink()
    return folder


def csv_with_nan(tmp: Path) -> Path:
    row = ",".join(["3", *["0"] * 783, "nan"])
    (tmp / "train.csv").write_text(f"{row}\n{row}\n")
    return tmp / "train.csv"


# (overrides builder, text the one error line must contain)
CASES = {
    "unknown group option": (["activation=relu2"], "valid options: leaky_relu, relu, sigmoid"),
    "unknown key": (["+optimizer.lrr=1"], "optimizer.lrr: unknown key"),
    "misspelled key": (["trainer.batch_sz=3"], "Could not override 'trainer.batch_sz'"),
    "unknown top-level key": (["+optimiser.lr=1"], "optimiser: unknown top-level key"),
    "wrong type": (["optimizer.lr=abc"], "optimizer.lr='abc': expected a number"),
    "lr zero": (["optimizer.lr=0"], "optimizer.lr=0: expected a number > 0"),
    "lr negative": (["optimizer.lr=-0.1"], "optimizer.lr=-0.1: expected a number > 0"),
    "lr inf": (["optimizer.lr=inf"], "optimizer.lr=inf: expected a number > 0"),
    "lr nan": (["optimizer.lr=nan"], "optimizer.lr=nan: expected a number"),
    "batch zero": (["trainer.batch_size=0"], "trainer.batch_size=0: expected an integer >= 1"),
    "batch negative": (["trainer.batch_size=-4"], "trainer.batch_size=-4: expected an integer"),
    "batch fraction": (["trainer.batch_size=0.5"], "trainer.batch_size=0.5: expected an integer"),
    "epochs zero": (["trainer.epochs=0"], "trainer.epochs=0: expected an integer >= 1"),
    "dtype": (["trainer.dtype=float16"], "expected one of 'float32', 'float64'"),
    "normalize": (["dataset.normalize=yes"], "expected one of 'none', 'unit', 'standard'"),
    "hidden item": (["model.hidden=[10,abc]"], "model.hidden=[10, 'abc']: expected a list"),
    "hidden with a cnn": (["model=cnn", "model.hidden=[]"], "Could not override 'model.hidden'"),
    "cnn on vectors": (["model=cnn", "dataset=synthetic"], "model=cnn needs (H, W, C) image"),
    "kernel too big": (["model=cnn", "model.kernel=9"], "model.kernel=9 does not fit"),
    "init std": (["init=normal", "init.std=-1"], "init.std=-1: expected a number > 0"),
    "limit zero": (["dataset.limit_train=0"], "dataset.limit_train=0: expected"),
    "momentum": (["optimizer=momentum", "optimizer.momentum=1.5"], "optimizer.momentum=1.5"),
    "override syntax": (["trainer.batch_size=["], "no viable alternative"),
    "unknown sweep": (["sweep=nope"], "sweep/nope not found; valid options: bs_lr"),
}
# Constraints between two keys (or a key and the data): the same one line, exit 2.
PAIR_CASES = {
    "uniform bounds reversed": (
        ["init=uniform", "init.low=1", "init.high=0"],
        "init.low=1, init.high=0: low must be below high",
    ),
    "uniform bounds equal": (
        ["init=uniform", "init.low=0.1", "init.high=0.1"],
        "init.low=0.1, init.high=0.1: low must be below high",
    ),
    "nested init bounds": (
        ["model=cnn", "+model.dense_init={_target_:src.init.uniform,_partial_:true,low:1,high:-1}"],
        "model.dense_init.low=1, model.dense_init.high=-1: low must be below",
    ),
    "padding not below kernel": (
        ["model=cnn", "model.kernel=3", "model.padding=3"],
        "model.kernel=3, model.padding=3: padding must be below kernel",
    ),
    "kernel wider than padded input": (
        ["model=cnn", "model.kernel=11", "model.padding=1"],
        "model.kernel=11 does not fit the 8x8 map",
    ),
    "pool wider than conv output": (
        ["model=cnn", "model.pool=7"],
        "model.pool=7 does not fit the 6x6 map",
    ),
    "limit_train above the data": (
        ["dataset.limit_train=5000"],
        "dataset.limit_train=5000: the train split has only 1438 samples",
    ),
    "limit_test above the data": (
        ["dataset.limit_test=360"],
        "dataset.limit_test=360: the test split has only 359 samples",
    ),
    "synthetic limit above n_train": (
        ["dataset=synthetic", "dataset.n_train=64", "dataset.limit_train=100"],
        "has only 64 samples",
    ),
    "target at chance": (
        ["dataset.target_accuracy=0.1"],
        "dataset.target_accuracy=0.1, trainer.stall_margin=0.05: the target must be above chance",
    ),
    "stall margin above target": (["trainer.stall_margin=0.9"], "trainer.stall_margin=0.9"),
    "output activation with logits": (
        ["model.output_activation=sigmoid"],
        "model.output_activation=sigmoid: the loss takes logits",
    ),
}
DATA_CASES = {
    "missing data folder": (lambda t: t / "nowhere", "not found in"),
    "missing one IDX file": (missing_one, "t10k-labels-idx1-ubyte (or .gz) not found"),
    "truncated IDX": (truncated, "truncated: expected"),
    "wrong magic": (wrong_magic, "not the expected IDX file: magic 00 00 08 01"),
    "count mismatch": (lambda t: mnist_dir(t, train_labels_idx1_ubyte=np.zeros(4, np.uint8)),
                       "holds 5 images but"),
    "label out of range": (lambda t: mnist_dir(t, t10k_labels_idx1_ubyte=np.full(3, 12, np.uint8)),
                           "label 12 at index 0 is outside 0..9"),
}  # fmt: skip


def run(cwd: Path, *args: str, module: str = "src.train") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd, env={**os.environ, "PYTHONWARNINGS": "error"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def assert_one_clear_line(proc: subprocess.CompletedProcess, expected: str, cwd: Path) -> None:
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and expected in lines[0]
    assert "Traceback" not in proc.stdout + proc.stderr
    left = (
        [p for p in (cwd / "outputs").rglob("*") if p.is_file()]
        if (cwd / "outputs").exists()
        else []
    )
    assert left == []  # nothing half-written


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_bad_config(case, tmp_path):
    overrides, expected = CASES[case]
    assert_one_clear_line(run(tmp_path, *overrides), expected, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("case", PAIR_CASES)
def test_two_keys_that_do_not_fit_together(case, tmp_path):
    overrides, expected = PAIR_CASES[case]
    proc = run(tmp_path, *overrides)
    assert proc.returncode == 2
    assert_one_clear_line(proc, expected, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("case", DATA_CASES)
def test_bad_data(case, tmp_path):
    make, expected = DATA_CASES[case]
    folder = make(tmp_path)
    proc = run(tmp_path, "dataset=mnist", f"dataset.path={folder}")
    assert proc.returncode == 3
    assert_one_clear_line(proc, expected, tmp_path)
    assert str(folder) in proc.stderr  # names the file or folder


@pytest.mark.slow
def test_nan_inside_csv_data(tmp_path):
    path = csv_with_nan(tmp_path)
    proc = run(tmp_path, "dataset=mnist_csv", f"dataset.train_file={path}",
               f"dataset.test_file={path}")  # fmt: skip
    assert_one_clear_line(proc, f"{path}, line 1: column 785 (pixel): NaN", tmp_path)


@pytest.mark.slow
def test_gzip_that_is_not_gzip(tmp_path):
    folder = mnist_dir(tmp_path)
    (folder / f"{IMAGES}.gz").write_bytes(gzip.compress(b"x")[:10])
    (folder / IMAGES).unlink()
    proc = run(tmp_path, "dataset=mnist", f"dataset.path={folder}")
    assert_one_clear_line(proc, "corrupt gzip stream", tmp_path)


@pytest.mark.slow
def test_output_folder_not_writable(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    proc = run(tmp_path, f"hydra.run.dir={blocker / 'run'}")
    assert_one_clear_line(proc, str(blocker), tmp_path)


@pytest.mark.slow
def test_summarize_on_a_folder_that_is_not_a_sweep(tmp_path):
    proc = run(tmp_path, str(tmp_path), module="src.summarize")
    assert_one_clear_line(proc, "no cell folders", tmp_path)


def test_battery_has_at_least_25_cases():
    assert len(CASES) + len(PAIR_CASES) + len(DATA_CASES) + 4 >= 46
