"""Reading cell folders: override parsing, swept vs fixed keys, pending cells, bad folders."""

from __future__ import annotations

import pytest

from src.errors import DataError
from src.sweep.collect import collect, parse_overrides, parse_value
from tests.sweep.fake import make_cell, make_grid


@pytest.mark.parametrize(
    ("text", "expected"),
    [("16", 16), ("0.1", 0.1), ("1e-4", 1e-4), ("1E3", 1000.0), ("relu", "relu"),
     ("'a b'", "a b"), ("[256,256]", "[256,256]")],
)  # fmt: skip
def test_values_parse_as_hydra_reads_them(text, expected):
    value = parse_value(text)
    assert value == expected and type(value) is type(expected)


def test_overrides_drop_plus_prefixes_sweep_and_hydra_keys():
    lines = ["++trainer.epochs=3", "+init.std=1e-2", "+sweep=bs_lr", "hydra.launcher.n_jobs=2"]
    assert parse_overrides(lines) == {"trainer.epochs": 3, "init.std": 0.01}


def test_grid_has_swept_and_fixed_keys_and_a_pending_cell(tmp_path):
    sweep = collect(make_grid(tmp_path))
    assert len(sweep.cells) == 6  # multirun.yaml and logs/ are not cells
    assert sweep.swept == ["trainer.batch_size", "optimizer.lr"]
    assert sweep.fixed == {"activation": "sigmoid"}
    pending = [cell for cell in sweep.cells if cell.metrics is None]
    assert [cell.overrides["optimizer.lr"] for cell in pending] == [1]
    assert pending[0].outcome == "pending"


def test_a_truncated_metrics_file_is_pending(tmp_path):
    folder = make_cell(tmp_path, ["optimizer.lr=0.1"], {"outcome": "converged"})
    (folder / "metrics.json").write_text('{"outcome": "conv')
    assert collect(tmp_path).cells[0].outcome == "pending"


def test_missing_folder_is_a_one_line_data_error(tmp_path):
    with pytest.raises(DataError, match=r"no such folder; a sweep folder holds one subfolder"):
        collect(tmp_path / "nope")


def test_folder_without_cells_is_a_data_error_naming_it(tmp_path):
    (tmp_path / "logs").mkdir()
    with pytest.raises(DataError) as info:
        collect(tmp_path)
    message = str(info.value)
    assert str(tmp_path) in message and ".hydra/overrides.yaml" in message
    assert "\n" not in message


def test_a_single_run_folder_is_pointed_to_its_parent(tmp_path):
    folder = make_cell(tmp_path, ["optimizer.lr=0.1"], None)
    with pytest.raises(DataError, match="pass its parent"):
        collect(folder)


def test_overrides_that_are_not_a_list_are_a_data_error(tmp_path):
    folder = make_cell(tmp_path, ["optimizer.lr=0.1"], None)
    (folder / ".hydra" / "overrides.yaml").write_text("optimizer.lr: 0.1\n")
    with pytest.raises(DataError, match="expected a YAML list"):
        collect(tmp_path)
