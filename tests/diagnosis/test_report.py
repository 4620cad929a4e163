"""The printed cause line, merging a suggestion into the run's overrides, the full report."""

from __future__ import annotations

from src.diagnosis.report import NO_RULE, cause_lines, full_report, merge_overrides

FINDING = {
    "cause": "dead_relu", "confidence": 0.9, "summary": "100% of hidden ReLUs never fire",
    "evidence": {"dead_relu": 1.0, "step_ratio": 12.1}, "suggestion": "optimizer.lr=0.1",
}  # fmt: skip


def test_cause_line_for_a_failed_run_only():
    failed = {"outcome": "stalled", "diagnosis": [FINDING], "cause": "dead_relu"}
    assert cause_lines(failed) == [
        "cause=dead_relu: 100% of hidden ReLUs never fire; try optimizer.lr=0.1"
    ]
    assert cause_lines({"outcome": "converged", "diagnosis": [], "cause": None}) == []
    assert cause_lines({"outcome": "learning", "diagnosis": [], "cause": None}) == [NO_RULE]
    assert cause_lines({"outcome": "error", "error": "boom"}) == []


def test_merge_replaces_a_key_set_again():
    merged = merge_overrides(["optimizer.lr=10", "trainer.batch_size=1"], "optimizer.lr=0.1")
    assert merged == ["trainer.batch_size=1", "optimizer.lr=0.1"]


def test_merge_of_a_group_switch_drops_the_old_options_keys():
    merged = merge_overrides(["init=normal", "init.std=1", "+init.extra=2"], "init=he_normal")
    assert merged == ["init=he_normal"]


def test_merge_of_a_deletion_drops_the_runs_own_setting_or_keeps_the_deletion():
    assert merge_overrides(
        ["loss=mse", "loss.targets=pm1"], "loss=cross_entropy ~loss.targets"
    ) == ["loss=cross_entropy"]
    assert merge_overrides(["experiment=x"], "init=xavier_normal ~init.std") == [
        "experiment=x", "init=xavier_normal", "~init.std",
    ]  # fmt: skip


def test_full_report_lists_every_cause_and_the_command_that_applies_it():
    metrics = {"outcome": "stalled", "test_accuracy": 0.09, "chance": 0.117,
               "predicted_class_share": 1.0, "steps": 4311, "first_nonfinite_step": None,
               "diagnosis": [FINDING, {**FINDING, "cause": "output_collapse",
                                       "confidence": 0.3}]}  # fmt: skip
    text = full_report(metrics, ["optimizer.lr=10", "trainer.batch_size=1"])
    assert text.splitlines()[0].startswith("outcome=stalled test_accuracy=0.09 ")
    assert text.splitlines()[0].endswith("first_nonfinite_step=None")
    assert "1. dead_relu (confidence 0.90)" in text and "2. output_collapse" in text
    assert "evidence: dead_relu=1 step_ratio=12.1" in text
    assert "rerun: python -m src.train trainer.batch_size=1 optimizer.lr=0.1" in text


def test_full_report_of_runs_without_a_diagnosis():
    assert "converged: no cause" in full_report({"outcome": "converged", "diagnosis": []}, None)
    assert "predates" in full_report({"outcome": "stalled"}, None)
    assert "error: boom" in full_report({"outcome": "error", "error": "boom"}, None)
