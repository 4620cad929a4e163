"""Where a sweep job's log lines go: its log file, and each cell's own copy of it.

Hydra logs a job into `<job name>.log` in its folder: for a stack job, its first cell's. A job
of several stacks logs each later stack into that stack's first cell's log instead, where the
stack's own job would have logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def cell_log(out_dir: Path) -> Iterator[None]:
    """Copy what is logged meanwhile into the cell's own copy of the job's log file(s).

    A stack's training is logged once, in its job's log: the first cell's `<job name>.log`.
    """
    root = logging.getLogger()
    added = []
    for job_log in _file_handlers():
        path = out_dir / Path(job_log.baseFilename).name
        if path.resolve() != Path(job_log.baseFilename).resolve():
            added.append(_like(job_log, path))
            root.addHandler(added[-1])
    try:
        yield
    finally:
        for handler in added:
            root.removeHandler(handler)
            handler.close()


@contextmanager
def job_log_at(out_dir: Path | None) -> Iterator[None]:
    """Log into `out_dir`'s copy of the job's log file(s) instead of the job's own meanwhile
    (None: into the job's own)."""
    if out_dir is None:
        yield
        return
    root = logging.getLogger()
    own = _file_handlers()
    out_dir.mkdir(parents=True, exist_ok=True)
    moved = [_like(handler, out_dir / Path(handler.baseFilename).name) for handler in own]
    for old, new in zip(own, moved):
        root.removeHandler(old)
        root.addHandler(new)
    try:
        yield
    finally:
        for old, new in zip(own, moved):
            root.removeHandler(new)
            new.close()
            root.addHandler(old)


def _file_handlers() -> list[logging.FileHandler]:
    return [h for h in logging.getLogger().handlers if isinstance(h, logging.FileHandler)]


def _like(handler: logging.FileHandler, path: Path) -> logging.FileHandler:
    """A file handler on `path` that formats and filters as `handler` does."""
    twin = logging.FileHandler(path)
    twin.setFormatter(handler.formatter)
    twin.setLevel(handler.level)
    return twin
