"""One failed run's repair: its overrides, the suggestions applied so far and where they ran."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from src.diagnosis.report import merge_overrides
from src.errors import ConfigError
from src.results import OVERRIDES, read_metrics
from src.sweep.collect import override_lines

REPAIRS = "repairs"  # beside the original runs; holds no .hydra/, so a sweep never reads it


@dataclass
class Repair:
    """A run that did not converge, and each attempt at repairing it (oldest first)."""

    origin: Path
    overrides: list[str]  # the original's overrides
    applied: list[str] = field(default_factory=list)  # the suggestion each attempt applied
    folders: list[Path] = field(default_factory=list)  # each attempt's run folder
    stop: str = ""  # why no further attempt: '' while one may follow

    @property
    def latest(self) -> Path:
        return self.folders[-1] if self.folders else self.origin

    def metrics(self, folder: Path | None = None) -> dict[str, Any]:
        return read_metrics(folder or self.latest) or {"outcome": "pending"}

    def outcomes(self) -> list[str]:
        return [str(self.metrics(folder).get("outcome")) for folder in self.folders]

    def current_overrides(self) -> list[str]:
        merged = self.overrides
        for suggestion in self.applied:
            merged = merge_overrides(merged, suggestion)
        return merged

    def next_attempt(self) -> tuple[str, list[str]] | None:
        """(suggestion, overrides) of the next attempt, or None (and `stop` says why)."""
        metrics = self.metrics()
        if metrics.get("outcome") in ("converged", "pending"):
            self.stop = "converged" if metrics["outcome"] == "converged" else "did not finish"
            return None
        suggestion = top_suggestion(metrics)
        if suggestion is None:
            self.stop = "no suggestion" if metrics.get("outcome") != "error" else "error"
            return None
        overrides = merge_overrides(self.current_overrides(), suggestion)
        if overrides == self.current_overrides():  # the same run again cannot end differently
            self.stop = "suggestion already applied"
            return None
        return suggestion, overrides

    def attempt_folder(self) -> Path:
        """Where the next attempt runs: `<parent>/repairs/<name>.repair<k>`."""
        return self.origin.parent / REPAIRS / f"{self.origin.name}.repair{len(self.folders) + 1}"


def top_suggestion(metrics: dict[str, Any]) -> str | None:
    """The first cause's override to try; None for a converged, unfinished or undiagnosed run."""
    if metrics.get("outcome") in ("converged", "error", "pending"):
        return None
    findings = metrics.get("diagnosis") or []
    return str(findings[0]["suggestion"]) if findings and findings[0].get("suggestion") else None


def read_overrides(run_dir: Path) -> list[str]:
    """The run's recorded overrides. Raises ConfigError when the file is not a YAML list."""
    return override_lines(run_dir, ConfigError)


def is_run(folder: Path) -> bool:
    return (folder / OVERRIDES).is_file()
