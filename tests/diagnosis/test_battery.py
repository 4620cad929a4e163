"""The labelled battery, end to end: the right cause first, healthy runs quiet, fixes valid."""

from __future__ import annotations

import pytest

from src.diagnosis.report import cause_lines, merge_overrides
from src.diagnosis.rules import RULES
from src.train import train, validate
from tests.conftest import compose_config
from tests.diagnosis.battery import (
    BROKEN,
    FASHION_DIR,
    HEALTHY,
    available,
    cases_table,
    confusion,
    run,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return run(available(BROKEN + HEALTHY), tmp_path_factory.mktemp("battery"))


def test_every_cause_is_ranked_first_for_one_of_its_cases(results):
    ran = {r.case.label for r in results if r.case.label}
    recognised = {r.top for r in results if r.case.label and r.top == r.case.label}
    assert recognised == ran, sorted(ran - recognised)
    fashion_only = {"all_positive_init"}  # its one case needs Fashion-MNIST
    assert recognised >= {
        "unnormalized_input", "learning_rate_too_high", "learning_rate_too_low",
        "batch_too_small_for_lr", "saturated_activation", "vanishing_gradient",
        "exploding_gradient", "dead_relu", "bad_init_scale", "all_positive_init",
        "loss_output_mismatch",
    } - (set() if FASHION_DIR.exists() else fashion_only)  # fmt: skip


def test_fashion_mnist_cases_train_on_their_2000_images(results):
    if not FASHION_DIR.exists():
        pytest.skip("needs apt-get install dataset-fashion-mnist; its cases were left out")
    fashion = [r for r in results if r.case.needs_fashion]
    assert fashion and all(r.evidence.facts.n_train == 2000 for r in fashion)
    assert all(r.evidence.facts.n_train != 2000 for r in results if not r.case.needs_fashion)


def test_expected_cause_is_ranked_first_for_90_percent(results):
    broken = [r for r in results if r.case.label]
    hits = sum(r.top == r.expected for r in broken)
    table = confusion(results)
    print(f"\n{table}\n\n{cases_table(results)}")
    assert hits >= 0.9 * len(broken), f"{hits}/{len(broken)} ranked first\n{table}"


def test_healthy_runs_report_no_cause(results):
    healthy = [r for r in results if not r.case.label]
    alarms = [r for r in healthy if r.metrics["cause"] is not None]
    assert all(r.metrics["outcome"] == "converged" for r in healthy)
    assert len(alarms) <= 1, [(r.case.what, r.metrics["cause"]) for r in alarms]
    assert all(cause_lines(r.metrics) == [] for r in healthy)


def test_rules_stay_quiet_on_most_healthy_runs_even_ungated(results):
    # Rules speak only for runs that did not converge. Without that gate the fallbacks
    # (confidence < 0.5, e.g. too_few_epochs: a converged loss still falls) would fire, but
    # the measured rules alone keep healthy runs clean (docs/diagnosis.md lists the one).
    healthy = [r for r in results if not r.case.label]
    loud = [r for r in healthy if any((f := rule(r.evidence)) and f.confidence >= 0.5
                                      for rule in RULES)]  # fmt: skip
    assert len(loud) <= 1, [r.case.what for r in loud]


def test_every_finding_is_complete_and_json_plain(results):
    for r in results:
        for f in r.metrics["diagnosis"]:
            assert set(f) == {"cause", "confidence", "summary", "evidence", "suggestion"}
            assert f["suggestion"] and f["summary"] and 0 < f["confidence"] <= 1
        confidences = [f["confidence"] for f in r.metrics["diagnosis"]]
        assert confidences == sorted(confidences, reverse=True)


def test_every_suggestion_composes_on_top_of_its_run(results):
    for r in results:
        for f in r.metrics["diagnosis"]:
            merged = merge_overrides(list(r.case.overrides), f["suggestion"])
            validate(compose_config("logger=none", *merged))  # raises on a bad suggestion


def test_the_cause_line_gives_the_top_cause_and_its_fix(results):
    for r in results:
        if r.case.label:
            (line,) = cause_lines(r.metrics)
            top = r.metrics["diagnosis"][0]
            assert line == f"cause={r.top}: {top['summary']}; try {top['suggestion']}"


@pytest.mark.parametrize(
    "overrides",
    [
        ("optimizer.lr=10", "trainer.batch_size=1", "trainer.epochs=3"),
        ("optimizer.lr=1e-4", "trainer.batch_size=64"),
        ("model.hidden=[64,64,64,64]", "init=normal", "init.std=0.5"),
        ("loss=mse", "loss.targets=pm1", "model.output_activation=sigmoid"),
        ("model.hidden=[64,64,64,64]", "activation=sigmoid", "init=xavier_normal"),
        ("trainer.batch_size=1024", "optimizer.lr=0.01"),  # 40 updates: lr 0.1 alone is 0.86
    ],
)
def test_applying_the_suggestion_makes_the_run_converge(overrides, tmp_path):
    before = train(compose_config("logger=none", *overrides), tmp_path / "before")
    fixed = merge_overrides(list(overrides), before["diagnosis"][0]["suggestion"])
    after = train(compose_config("logger=none", *fixed), tmp_path / "after")
    assert before["outcome"] != "converged" and after["outcome"] == "converged"
    assert after["cause"] is None and after["diagnosis"] == []
