"""The bad-input battery: every case is one line naming the key or file, exit 2 (config) or 3
(data), no traceback, and no run folder or file left behind.

The cases run in-process through the same entry point as `python -m src.train`; two of them
also run as real commands, so the exit status a shell sees is checked end to end.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from src import summarize
from tests.cli import Result, assert_one_error_line, call, run_train
from tests.dataset.files import write_mnist

ROOT = Path(__file__).resolve().parents[1]
IMAGES = "train-images-idx3-ubyte"
pytestmark = pytest.mark.slow  # ~35 runs of the entry point, ~1 s each


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
CONFIG_CASES = {**CASES, **PAIR_CASES}
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


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "src.train", *args],
        cwd=cwd, env={**os.environ, "PYTHONWARNINGS": "error"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def assert_one_clear_line(result: Result | subprocess.CompletedProcess, expected: str, cwd: Path,
                          code: int = 2) -> str:  # fmt: skip
    assert result.returncode == code, result.stderr
    line = assert_one_error_line(result, expected)
    left = [p for p in (cwd / "outputs").rglob("*") if p.is_file()]
    assert left == []  # nothing half-written
    return line


@pytest.fixture(scope="module")
def config_errors(tmp_path_factory) -> dict[str, tuple[Path, Result]]:
    """Every config case, run once, each in its own folder."""
    found = {}
    for case, (overrides, _) in CONFIG_CASES.items():
        folder = tmp_path_factory.mktemp("case")
        found[case] = folder, run_train(folder, *overrides)
    return found


@pytest.mark.parametrize("case", CONFIG_CASES)
def test_bad_config(case, config_errors):
    folder, result = config_errors[case]
    assert_one_clear_line(result, CONFIG_CASES[case][1], folder)


def test_an_unknown_top_level_key_is_not_offered_as_valid(config_errors):
    line = config_errors["unknown top-level key"][1].stderr.strip()
    assert line.endswith("valid: dataset, model, activation, loss, init, optimizer, trainer, "
                         "theory, logger, diagnosis")  # fmt: skip


def test_each_bad_config_gets_its_own_message(config_errors):
    # A catch-all ("invalid config") would pass the substring checks above only by luck:
    # every case's line differs, because each echoes the key or value it rejects.
    lines = [result.stderr.strip() for _, result in config_errors.values()]
    assert len(set(lines)) == len(lines)


@pytest.mark.parametrize("case", DATA_CASES)
def test_bad_data(case, tmp_path):
    make, expected = DATA_CASES[case]
    folder = make(tmp_path)
    result = run_train(tmp_path, "dataset=mnist", f"dataset.path={folder}")
    assert str(folder) in assert_one_clear_line(result, expected, tmp_path, code=3)


def test_nan_inside_csv_data(tmp_path):
    path = csv_with_nan(tmp_path)
    result = run_train(tmp_path, "dataset=mnist_csv", f"dataset.train_file={path}",
                       f"dataset.test_file={path}")  # fmt: skip
    assert_one_clear_line(result, f"{path}, line 1: column 785 (pixel): NaN", tmp_path, code=3)


def test_gzip_that_is_not_gzip(tmp_path):
    folder = mnist_dir(tmp_path)
    (folder / f"{IMAGES}.gz").write_bytes(gzip.compress(b"x")[:10])
    (folder / IMAGES).unlink()
    result = run_train(tmp_path, "dataset=mnist", f"dataset.path={folder}")
    assert_one_clear_line(result, "corrupt gzip stream", tmp_path, code=3)


def test_output_folder_not_writable(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    result = run_train(tmp_path, f"hydra.run.dir={blocker / 'run'}")
    assert_one_clear_line(result, str(blocker), tmp_path)


def test_summarize_on_a_folder_that_is_not_a_sweep(tmp_path):
    result = call(lambda: summarize.main([str(tmp_path)]), tmp_path, {}, ["src/summarize.py"])
    assert_one_clear_line(result, "no cell folders", tmp_path, code=3)


@pytest.mark.parametrize(
    ("args", "expected", "code"),
    [(["optimizer.lr=0"], "optimizer.lr=0: expected a number > 0", 2),
     (["dataset=mnist", "dataset.path=nowhere"], "not found in", 3),
     (["-m", "optimizer.lr=0.1,1", "--cfg", "hydra"], "Only one of --run, --multirun, --cfg", 2)],
)  # fmt: skip
def test_the_real_command_exits_with_the_code_and_one_line(args, expected, code, tmp_path):
    assert_one_clear_line(run(tmp_path, *args), expected, tmp_path, code=code)
