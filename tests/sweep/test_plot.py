"""The PNG's words: a cell never shows a cause name that could be read as an outcome, codes are
spelled out in the legend, the title names the sweep, and wide maps fall back to colour only."""

from __future__ import annotations

from src.sweep.collect import collect
from src.sweep.layout import layout
from src.sweep.phase_map import COLORS, title
from src.sweep.plot import TEXT_INCHES, cause_code, cause_codes, cell_text, square_inches
from tests.sweep.fake import make_cell

CAUSES = {"0.0001": "learning_rate_too_low", "100": "dead_relu", "10": "learning_rate_too_high"}


def grid_with_causes(sweep_dir, lrs=("0.0001", "0.1", "10", "100"), batches=("1", "16")):
    for batch in batches:
        for lr in lrs:
            cause = CAUSES.get(lr)
            metrics = {"outcome": "stalled" if cause else "converged",
                       "test_accuracy": 0.11 if cause else 0.97, "cause": cause}  # fmt: skip
            make_cell(sweep_dir, [f"trainer.batch_size={batch}", f"optimizer.lr={lr}",
                                  "sweep=bs_lr"], metrics)  # fmt: skip
    sweep = collect(sweep_dir)
    return sweep, layout(sweep)


def test_a_cell_shows_its_accuracy_and_a_cause_code_never_a_wrapped_cause(tmp_path):
    sweep, grid = grid_with_causes(tmp_path)
    codes = cause_codes(grid)
    assert codes == {
        "learning_rate_too_low": ("LRTL", 2), "learning_rate_too_high": ("LRTH", 2),
        "dead_relu": ("DR", 2),
    }  # fmt: skip
    texts = [cell_text(spot, codes) for spot in grid.panels[0].cells.values()]
    assert sorted(texts) == ["0.11\nDR", "0.11\nDR", "0.11\nLRTH", "0.11\nLRTH",
                             "0.11\nLRTL", "0.11\nLRTL", "0.97", "0.97"]  # fmt: skip
    words = {word for text in texts for word in text.split()}
    assert not words & set(COLORS)  # no text in a cell reads as an outcome


def test_clashing_codes_get_a_digit(tmp_path):
    assert cause_code("batch_too_small_for_lr") == "BTSFL"
    for lr, cause in (("1", "dead_relu"), ("2", "dead_relu"), ("3", "dying_relu")):
        make_cell(tmp_path, [f"optimizer.lr={lr}"], {"outcome": "stalled", "cause": cause})
    grid = layout(collect(tmp_path))
    assert cause_codes(grid) == {"dead_relu": ("DR", 2), "dying_relu": ("DR1", 1)}


def test_the_title_names_the_sweep_and_its_axes_not_the_folder(tmp_path):
    sweep, grid = grid_with_causes(tmp_path / "s")
    assert title(sweep, grid).startswith("sweep=bs_lr: trainer.batch_size × optimizer.lr — fixed")
    assert " s " not in f" {title(sweep, grid)} "


def test_text_up_to_32_columns_colour_only_beyond(tmp_path):
    lrs = [f"{x:.3g}" for x in (10 ** (-4 + 6 * i / 31) for i in range(32))]
    _, fine = grid_with_causes(tmp_path / "fine", lrs=lrs)
    wide_lrs = [f"{x:.3g}" for x in (10 ** (-4 + 6 * i / 63) for i in range(64))]
    _, wide = grid_with_causes(tmp_path / "wide", lrs=wide_lrs, batches=("1",))
    _, small = grid_with_causes(tmp_path / "small")
    assert square_inches(small) == 0.7
    assert square_inches(fine) >= TEXT_INCHES > square_inches(wide)
