"""The labelled battery: broken configs with the cause that really breaks them, healthy ones.

Labels come from running each config and looking at what happens (see docs/diagnosis.md),
not from folklore: raw 0-16 digits at batch size 32, U(0, 0.1) weights on digits and a tanh
output against 0/1 targets all converge here, so they are in the healthy list.

    python -m tests.diagnosis.battery    # run it all, print the confusion table (Markdown)
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from src.diagnosis import watch
from src.diagnosis.evidence import Evidence
from src.train import train
from tests.conftest import compose_config

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION = ("dataset=fashion_mnist", "dataset.limit_train=2000", "dataset.limit_test=1000")
NO_CAUSE = "(none)"


@dataclass(frozen=True)
class Case:
    label: str | None  # the cause that should come first; None: healthy, no cause
    what: str
    overrides: tuple[str, ...]

    @property
    def needs_fashion(self) -> bool:
        return "dataset=fashion_mnist" in self.overrides


def case(label: str | None, what: str, *overrides: str) -> Case:
    return Case(label, what, overrides)


BROKEN = (
    case("unnormalized_input", "digits 0-16 at batch size 1",
         "dataset.normalize=none", "trainer.batch_size=1", "trainer.epochs=5"),
    case("unnormalized_input", "Fashion-MNIST 0-255", *FASHION, "dataset.normalize=none"),
    case("unnormalized_input", "cifar_cnn_naive twin: raw, bs 1, U(0, 0.1) dense",
         "experiment=cifar_cnn_naive", *FASHION),
    case("dead_relu", "lr 10 at batch size 1",
         "optimizer.lr=10", "trainer.batch_size=1", "trainer.epochs=3"),
    case("dead_relu", "all-negative init U(-0.1, 0): every ReLU off at init",
         "init=uniform", "init.low=-0.1", "init.high=0"),
    case("dead_relu", "Adam at lr 1", "optimizer=adam", "optimizer.lr=1"),
    case("dead_relu", "lr 2 at batch size 16, just past the edge",
         "optimizer.lr=2", "trainer.batch_size=16"),
    case("learning_rate_too_low", "lr 1e-4 at batch size 64",
         "optimizer.lr=1e-4", "trainer.batch_size=64"),
    case("learning_rate_too_low", "Adam at lr 1e-5", "optimizer=adam", "optimizer.lr=1e-5"),
    case("all_positive_init", "U(0, 0.1) weights on Fashion-MNIST",
         *FASHION, "init=uniform", "init.low=0", "init.high=0.1"),
    case("saturated_activation", "wide_sigmoid_mse on digits (output sigmoids)",
         "experiment=wide_sigmoid_mse", "dataset=digits"),
    case("saturated_activation", "wide_sigmoid_mse on Fashion (output and hidden sigmoids)",
         "experiment=wide_sigmoid_mse", *FASHION),
    case("saturated_activation", "sigmoid with N(0, 5^2) weights",
         "activation=sigmoid", "init=normal", "init.std=5"),
    case("saturated_activation", "tanh at lr 10", "activation=tanh", "optimizer.lr=10"),
    case("loss_output_mismatch", "MSE on softmax outputs, 5 epochs",
         "loss=mse", "model.output_activation=softmax", "trainer.epochs=5"),
    case("loss_output_mismatch", "sigmoid output against -1/+1 targets",
         "loss=mse", "loss.targets=pm1", "model.output_activation=sigmoid"),
    case("learning_rate_too_high", "MSE at lr 50, batch size 1 (NaN at step 3)",
         "loss=mse", "optimizer.lr=50", "trainer.batch_size=1"),
    case("learning_rate_too_high", "synthetic blobs at lr 10, batch size 1 (NaN)",
         "dataset=synthetic", "optimizer.lr=10", "trainer.batch_size=1"),
    case("learning_rate_too_high", "leaky ReLU at lr 3, batch size 4 (NaN)",
         "activation=leaky_relu", "optimizer.lr=3", "trainer.batch_size=4"),
    case("vanishing_gradient", "6 x 64 sigmoid layers",
         "model.hidden=[64,64,64,64,64,64]", "activation=sigmoid"),
    case("vanishing_gradient", "4 x 64 sigmoid layers, Xavier init",
         "model.hidden=[64,64,64,64]", "activation=sigmoid", "init=xavier_normal"),
    case("exploding_gradient", "6 x 64 ReLU layers, N(0, 1) weights",
         "model.hidden=[64,64,64,64,64,64]", "init=normal", "init.std=1"),
    case("exploding_gradient", "4 x 64 ReLU layers, N(0, 0.5^2) weights",
         "model.hidden=[64,64,64,64]", "init=normal", "init.std=0.5"),
    case("bad_init_scale", "3 x 100 ReLU layers, N(0, 0.001^2) weights",
         "model.hidden=[100,100,100]", "init=normal", "init.std=1e-3"),
    case("bad_init_scale", "2 x 100 ReLU layers, N(0, 0.01^2) weights",
         "model.hidden=[100,100]", "init=normal", "init.std=1e-2"),
    case("batch_too_small_for_lr", "leaky ReLU at lr 1, batch size 1",
         "activation=leaky_relu", "optimizer.lr=1", "trainer.batch_size=1", "trainer.epochs=3"),
    case("batch_too_small_for_lr", "leaky ReLU at lr 1.5, batch size 2",
         "activation=leaky_relu", "optimizer.lr=1.5", "trainer.batch_size=2", "trainer.epochs=5"),
)  # fmt: skip

HEALTHY = (
    case(None, "the default run"),
    case(None, "tanh with Xavier init", "activation=tanh", "init=xavier_normal"),
    case(None, "sigmoid at lr 1", "activation=sigmoid", "optimizer.lr=1"),
    case(None, "synthetic blobs", "dataset=synthetic"),
    case(None, "Adam at lr 1e-3", "optimizer=adam", "optimizer.lr=1e-3"),
    case(None, "momentum", "optimizer=momentum"),
    case(None, "CNN, 5 epochs", "model=cnn", "trainer.epochs=5"),
    case(None, "6 x 64 ReLU layers, He init", "model.hidden=[64,64,64,64,64,64]"),
    case(None, "Fashion-MNIST, 40 epochs", *FASHION, "trainer.epochs=40"),
    case(None, "raw digits 0-16 at batch size 32", "dataset.normalize=none"),
    case(None, "U(0, 0.1) weights on digits", "init=uniform", "init.low=0", "init.high=0.1"),
    case(None, "tanh output against 0/1 targets", "loss=mse", "model.output_activation=tanh"),
    case(None, "the 8-3-8 encoder", "experiment=autoencoder_838"),
    case(None, "tanh_mse_pm1 on digits", "experiment=tanh_mse_pm1", "dataset=digits"),
)  # fmt: skip


@dataclass
class Result:
    case: Case
    metrics: dict[str, Any]
    evidence: Evidence

    @property
    def top(self) -> str:
        return self.metrics["cause"] or NO_CAUSE

    @property
    def expected(self) -> str:
        return self.case.label or NO_CAUSE


def available(cases: tuple[Case, ...]) -> list[Case]:
    return [c for c in cases if not c.needs_fashion or FASHION_DIR.exists()]


def run(cases: list[Case], out_dir: Path) -> list[Result]:
    """Train every case in-process (no event files), keeping its Evidence for inspection."""
    seen: list[Evidence] = []
    real = watch.diagnose

    def spy(e: Evidence):
        seen.append(e)
        return real(e)

    results = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(watch, "diagnose", spy)
        for i, c in enumerate(cases):
            metrics = train(compose_config("logger=none", *c.overrides), out_dir / str(i))
            results.append(Result(c, metrics, seen.pop()))
    return results


def confusion(results: list[Result]) -> str:
    """Markdown: one row per expected cause, one column per cause ranked first."""
    rows = list(dict.fromkeys(r.expected for r in results))
    cols = list(dict.fromkeys([*rows, *(r.top for r in results)]))
    counts = Counter((r.expected, r.top) for r in results)
    used = [c for c in cols if any(counts[(row, c)] for row in rows)]
    lines = ["| expected \\ ranked first | " + " | ".join(used) + " |",
             "| --- |" + " --- |" * len(used)]  # fmt: skip
    for row in rows:
        cells = [str(counts[(row, c)] or "") for c in used]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cases_table(results: list[Result]) -> str:
    """Markdown: each case, its outcome, the cause ranked first and the suggestion."""
    lines = ["| expected | case | outcome | ranked first | suggestion |", "| --- " * 5 + "|"]
    for r in results:
        m = r.metrics
        acc = "NaN" if m["test_accuracy"] is None else f"{m['test_accuracy']:.2f}"
        mark = "" if r.top == r.expected else " ✗"
        fix = f"`{m['diagnosis'][0]['suggestion']}`" if m["diagnosis"] else ""
        head = f"| {r.expected} | {r.case.what} | {m['outcome']} {acc} | {r.top}{mark} |"
        lines.append(f"{head} {fix} |")
    return "\n".join(lines)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        done = run(available(BROKEN + HEALTHY), Path(tmp))
    print(confusion(done), "\n")
    print(cases_table(done))
