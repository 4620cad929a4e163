"""Run folders with a diagnosis, and a launcher stand-in that writes scripted attempt results."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.sweep.fake import make_cell


def finding(cause: str, suggestion: str) -> dict[str, Any]:
    return {"cause": cause, "confidence": 0.8, "summary": "", "evidence": {},
            "suggestion": suggestion}  # fmt: skip


def result(outcome: str, accuracy: float, *findings: dict[str, Any]) -> dict[str, Any]:
    """metrics.json content of a finished run: outcome, accuracy and its diagnosis."""
    cause = findings[0]["cause"] if findings else None
    return {"outcome": outcome, "test_accuracy": accuracy, "diagnosis": list(findings),
            "cause": cause}  # fmt: skip


def make_run(parent: Path, overrides: list[str], metrics: dict[str, Any]) -> Path:
    return make_cell(parent, overrides, metrics)


class ScriptedLauncher:
    """Stands in for the Hydra launcher: each attempt gets `answer(overrides)` as its metrics."""

    def __init__(self, answer: Callable[[list[str]], dict[str, Any]]) -> None:
        self.answer = answer
        self.rounds: list[list[tuple[Path, list[str]]]] = []

    def __call__(self, jobs: list[tuple[Path, list[str]]], launcher: list[str]) -> None:
        self.rounds.append(jobs)
        for folder, overrides in jobs:
            (folder / ".hydra").mkdir(parents=True)
            (folder / ".hydra" / "overrides.yaml").write_text(
                "".join(f"- {o}\n" for o in overrides)
            )
            metrics = {"first_nonfinite_step": None, **self.answer(overrides)}
            (folder / "metrics.json").write_text(json.dumps(metrics))
