"""Find a folder's failed runs and repair them in rounds: one launch per round of attempts."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from src.errors import ConfigError
from src.repair.attempts import Repair, is_run, read_overrides
from src.repair.launch import launch_round, launcher_overrides
from src.results import METRICS, OVERRIDES, read_metrics
from src.sweep.collect import Sweep, collect
from src.sweep.progress import SweepProgress

FOLDER_HINT = f"pass a run folder (with {METRICS} and {OVERRIDES}) or a sweep folder (one per cell)"


def find_runs(folder: Path) -> tuple[list[Path], Sweep | None]:
    """(the finished runs in `folder`, the sweep when it is one). Raises ConfigError otherwise."""
    if is_run(folder):
        if read_metrics(folder) is None:
            raise ConfigError(f"{folder}: the run has not finished (no {METRICS}); {FOLDER_HINT}")
        return [folder], None
    if folder.is_dir() and any(is_run(child) for child in folder.iterdir()):
        sweep = collect(folder)
        return [cell.folder for cell in sweep.cells if cell.metrics is not None], sweep
    raise ConfigError(f"{folder}: not a run or sweep folder; {FOLDER_HINT}")


def failed_runs(runs: list[Path]) -> list[Repair]:
    """A Repair for every finished run that did not converge; converged runs are left alone."""
    return [
        Repair(run, read_overrides(run))
        for run in runs
        if (read_metrics(run) or {}).get("outcome") != "converged"
    ]


Launch = Callable[[list[tuple[Path, list[str]]], list[str]], None]


def repair_rounds(repairs: list[Repair], tries: int, launch: Launch = launch_round) -> None:
    """Up to `tries` rounds; each launches the next attempt of every repair still failing.

    Failed cells often get the same fix (at batch size 32, lr 8 and lr 28 both get lr=0.1), and
    the same overrides train the same numbers: such an attempt trains once, in the folder of the
    first repair that planned it, and every repair that planned it records that folder."""
    attempts: dict[tuple[str, ...], Path] = {}  # each distinct attempt's sorted overrides: folder
    for round_ in range(1, tries + 1):
        jobs: dict[Path, list[str]] = {}  # the folders to train this round: their overrides
        waiting = 0  # repairs whose attempt trains this round (more than jobs when shared)
        for repair in repairs:
            planned = None if repair.stop else repair.next_attempt()
            if planned is None:
                continue
            suggestion, overrides = planned
            folder, trains = _folder_for(repair, overrides, attempts, jobs)
            repair.applied.append(suggestion)
            repair.folders.append(folder)
            if trains:  # else: it trains for another repair, or trained before (resume)
                jobs[folder] = overrides
            waiting += folder in jobs
        if not jobs:
            continue  # every attempt of this round was done before: the next round may not be
        plural = "s" * (len(jobs) != 1)
        folders = list(jobs)
        shared = f" (for {waiting} failed runs: the same overrides train once)"
        print(f"round {round_}: {len(jobs)} attempt{plural} into {folders[0].parent}"
              f"{shared if waiting > len(jobs) else ''}")  # fmt: skip
        progress = SweepProgress(folders[0].parent, len(jobs), folders=folders, unit="attempt")
        progress.start()
        try:
            launch(list(jobs.items()), launcher_overrides(repairs[0].origin))
        finally:
            progress.stop()
        print(f"round {round_}: {_tally(folders)}")
    for repair in repairs:
        if not repair.stop and repair.next_attempt() is not None:
            repair.stop = f"{tries} tries used"


def _folder_for(repair: Repair, overrides: list[str], attempts: dict[tuple[str, ...], Path],
                jobs: dict[Path, list[str]]) -> tuple[Path, bool]:  # fmt: skip
    """Where `repair`'s next attempt runs, and whether it is still to train there: its own
    folder, unless another repair's attempt with the same overrides trains this round or has
    trained (not into an error) and its own has not."""
    folder = repair.attempt_folder()
    _drop_if_stale(folder, overrides)
    key = tuple(sorted(overrides))
    if _finished(folder):
        attempts[key] = folder
        return folder, False
    same = attempts.get(key)
    if same is not None and (same in jobs or _finished(same)):
        return same, False
    attempts[key] = folder  # the one to share from now on (another's may have ended in error)
    return folder, True


def _finished(folder: Path) -> bool:
    """An attempt that need not train (again): it has a result that is not an error."""
    return (read_metrics(folder) or {}).get("outcome") not in (None, "error")


def _drop_if_stale(folder: Path, overrides: list[str]) -> None:
    """An earlier repair's attempt with other overrides (the suggestions changed) is redone.
    Their order aside: a stack records its attempts' overrides sorted by key."""
    if is_run(folder) and sorted(read_overrides(folder)) != sorted(overrides):
        shutil.rmtree(folder)


def _tally(folders: Iterable[Path]) -> str:
    """'15 converged, 11 learning' over the attempts just run."""
    outcomes = Counter((read_metrics(f) or {"outcome": "pending"})["outcome"] for f in folders)
    return ", ".join(f"{n} {outcome}" for outcome, n in outcomes.most_common())
