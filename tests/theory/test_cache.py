"""The sweep's shared record of measurements at init: a second process reads, never re-measures."""

from __future__ import annotations

import json
import math

import pytest

from src.results import write_json_atomic
from src.theory import cache, run
from src.train import train
from tests.cli import run_train
from tests.conftest import compose_config
from tests.sweep.test_sweep_run import sweep
from tests.theory.test_run import TINY


def one(key: str, compute, folder):
    """The value of one measurement."""
    return cache.cached([key], lambda keys: [compute()], folder)[key]


def test_values_read_back_are_the_computed_ones_bit_for_bit(tmp_path):
    values = {"third": 1 / 3, "sum": 0.1 + 0.2, "tiny": 5e-324, "big": 1.7976931348623157e308}
    for key, value in values.items():
        cache.forget()
        assert one(key, lambda v=value: v, tmp_path) == value
    cache.forget()  # another process
    read = {key: one(key, pytest.fail, tmp_path) for key in values}
    assert {k: v.hex() for k, v in read.items()} == {k: v.hex() for k, v in values.items()}
    assert len(list(tmp_path.glob("*.json"))) == len(values)


def test_a_value_that_is_not_finite_is_stored_as_null_and_read_as_nan(tmp_path):
    cache.forget()
    assert math.isnan(one("k", lambda: math.nan, tmp_path))
    (path,) = tmp_path.glob("*.json")
    assert json.loads(path.read_text()) == {"key": "k", "value": None}
    cache.forget()
    assert math.isnan(one("k", pytest.fail, tmp_path))


@pytest.mark.parametrize(
    "damage",
    [b'{"key": "k", "val', b"\xff\xfe", b"[1.5]", b'{"key": "other", "value": 1.5}',
     b'{"key": "k", "value": "1.5"}', b'{"key": "k", "value": true}', b'{"key": "k"}'],
)  # fmt: skip
def test_a_damaged_file_is_measured_again_and_rewritten(tmp_path, damage, caplog):
    path = tmp_path / f"{cache.key_hash('k')}.json"
    path.write_bytes(damage)
    cache.forget()
    assert one("k", lambda: 2.5, tmp_path) == 2.5
    assert str(path) in caplog.text and "measuring again" in caplog.text
    assert json.loads(path.read_text()) == {"key": "k", "value": 2.5}


def test_the_keys_not_stored_are_measured_in_one_call_each_once(tmp_path):
    cache.forget()
    one("in file", lambda: 1.0, tmp_path)
    cache.forget()  # another process: "in file" is on disk only
    one("in memo", lambda: 2.0, None)
    calls = []

    def compute(keys):
        calls.append(keys)
        return [10.0 * len(key) for key in keys]

    keys = ["new b", "in memo", "in file", "new a", "new b"]
    values = cache.cached(keys, compute, tmp_path)
    assert calls == [["new b", "new a"]]  # the missing ones, each once, in order
    assert values == {"new b": 50.0, "in memo": 2.0, "in file": 1.0, "new a": 50.0}
    assert len(list(tmp_path.glob("*.json"))) == 3  # and written
    assert cache.cached(keys, pytest.fail, tmp_path) == values


def test_a_single_run_writes_no_cache(tmp_path):
    cache.forget()  # measured here, kept in the process only
    assert run_train(tmp_path, *TINY, f"hydra.run.dir={tmp_path / 'run'}").returncode == 0
    assert (tmp_path / "run" / "metrics.json").is_file()
    assert cache.sweep_folder() is None and not list(tmp_path.rglob(cache.FOLDER))


def counting(monkeypatch, name: str) -> list:
    """Replace `run.<name>` by a wrapper that records each call, then calls it."""
    calls: list = []
    real = getattr(run, name)
    monkeypatch.setattr(run, name, lambda *args: calls.append(args) or real(*args))
    return calls


def test_a_second_process_in_the_sweep_reads_what_the_first_measured(tmp_path, monkeypatch):
    folder = tmp_path / "sweep" / cache.FOLDER
    monkeypatch.setattr(run, "sweep_folder", lambda: folder)
    sharpness, noise = counting(monkeypatch, "sharpness_at"), counting(monkeypatch, "noise_at")

    def cell(*overrides: str) -> dict:
        cache.forget()  # each cell in a process of its own
        metrics = train(compose_config(*TINY, *overrides), tmp_path / "_".join(overrides))
        assert metrics["noise_scale_final"] is not None  # measured at the end: one noise call
        return {k: metrics[k] for k in ("sharpness_init", "noise_scale_init")}

    first = cell("optimizer.lr=0.01")
    assert (len(sharpness), len(noise), len(list(folder.glob("*.json")))) == (1, 2, 2)
    # Another learning rate, optimizer, length or target: the same measurements, read.
    assert cell("optimizer=momentum", "optimizer.lr=0.1", "trainer.epochs=1",
                "dataset.target_accuracy=0.5") == first  # fmt: skip
    assert (len(sharpness), len(noise), len(list(folder.glob("*.json")))) == (1, 3, 2)
    # Another seed or network: both measured; another batch size: its own λ only.
    for overrides, measured in [(("trainer.seed=1",), (2, 5, 4)),
                                (("model.hidden=[16]",), (3, 7, 6)),
                                (("trainer.batch_size=4",), (4, 8, 7))]:  # fmt: skip
        assert cell(*overrides) != first
        assert (len(sharpness), len(noise), len(list(folder.glob("*.json")))) == measured


@pytest.mark.slow
def test_a_sweep_job_reads_the_file_another_job_wrote(tmp_path):
    cell = ["hydra/sweeper=basic", *TINY, "trainer.batch_size=16"]  # one job per cell
    assert sweep(tmp_path, *cell, "optimizer.lr=0.01").returncode == 0
    records = {path: json.loads(path.read_text()) for path in (tmp_path / cache.FOLDER).iterdir()}
    assert len(records) == 2  # λ at batch size 16 and B_simple, of the one network and seed
    (path,) = [p for p, record in records.items() if "|sharpness_init|" in record["key"]]
    write_json_atomic(path, {**records[path], "value": 123.25})  # what the next job must read
    proc = sweep(tmp_path, *cell, "optimizer.lr=0.01,0.1")  # the first cell is done: skipped
    assert proc.returncode == 0, proc.stderr
    read = {p.parent.name: json.loads(p.read_text()) for p in tmp_path.glob("*/metrics.json")}
    assert len(read) == 2 and len(list((tmp_path / cache.FOLDER).iterdir())) == 2
    (second,) = [metrics for name, metrics in read.items() if "optimizer.lr=0.1," in name]
    assert second["sharpness_init"] == 123.25


def test_the_source_hash_changes_with_any_file_and_only_then(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "pkg" / "b.py").write_text("y = 2\n")
    (tmp_path / "notes.txt").write_text("not source")
    first = cache.source_hash(tmp_path)
    assert len(first) == 16 and cache.source_hash(tmp_path) == first
    (tmp_path / "notes.txt").write_text("edited")
    assert cache.source_hash(tmp_path) == first  # only .py files count
    (tmp_path / "pkg" / "b.py").write_text("y = 3\n")
    edited = cache.source_hash(tmp_path)
    assert edited != first
    (tmp_path / "pkg" / "b.py").rename(tmp_path / "pkg" / "c.py")
    assert cache.source_hash(tmp_path) not in (first, edited)


def test_a_measurement_stored_by_other_code_is_measured_again(monkeypatch):
    cfg = compose_config(*TINY)
    settings = run.theory_settings(cfg)
    key = run.network_key(cfg, 0, settings)
    assert cache.code_version() in key  # this source tree's
    monkeypatch.setattr(run, "code_version", lambda: "0123456789abcdef")
    assert run.network_key(cfg, 0, settings) != key
