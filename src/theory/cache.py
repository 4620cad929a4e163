"""Measurements at init shared by a sweep's processes: one small JSON file per measurement in
`<sweep folder>/theory_cache/`, named by a hash of everything the measurement depends on.

Cells that share a network, seed and batch size but run in different processes (joblib
workers, SLURM array tasks, one job per cell) read what the first of them wrote instead of
measuring again. A file is written atomically, so a reader sees all of it or none; two
processes measuring the same key at once both write the same value. A file that does not hold
this key's value (damaged, edited, another format) is measured again and rewritten. Values
round-trip exactly (JSON writes a float's shortest repr), so a cell's metrics do not depend on
which process measured them. A single run keeps its measurements in its process only.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
from collections.abc import Callable
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode

from src.results import write_json_atomic

log = logging.getLogger(__name__)
FOLDER = "theory_cache"
_memo: dict[str, float] = {}  # this process' measurements, by key


def sweep_folder() -> Path | None:
    """`<hydra.sweep.dir>/theory_cache` inside a multirun job; None in a single run and outside
    Hydra (the process memo only)."""
    if not HydraConfig.initialized():
        return None
    hydra = HydraConfig.get()
    return Path(hydra.sweep.dir) / FOLDER if hydra.mode == RunMode.MULTIRUN else None


def cached(keys: list[str], compute: Callable[[list[str]], list[float]],
           folder: Path | None) -> dict[str, float]:  # fmt: skip
    """The value of each measurement in `keys`: from this process' memo, else from its file in
    `folder`, else computed -- all those missing in one call, `compute(missing)` giving their
    values in order -- and written there (`folder` None: the memo only). A value that is not
    finite is stored as null and read back as nan."""
    missing = []
    for key in dict.fromkeys(keys):  # each once, in order
        if key not in _memo:
            value = None if folder is None else _read(_path(folder, key), key)
            if value is None:
                missing.append(key)
            else:
                _memo[key] = value
    if missing:
        for key, value in zip(missing, compute(missing), strict=True):
            _memo[key] = float(value)
            if folder is not None:
                _write(_path(folder, key), key, _memo[key])
    return {key: _memo[key] for key in keys}


@functools.cache
def code_version() -> str:
    """A hash of the trainer's source, part of each key: a sweep resumed after the code changed
    measures its new cells again instead of reading what the older code measured (an edit
    anywhere under src/ counts, harmlessly)."""
    return source_hash(Path(__file__).resolve().parents[1])


def source_hash(root: Path) -> str:
    """16 hex digits of a SHA-256 over every .py file under `root`, names and contents."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def forget() -> None:
    """Drop this process' memo: each key is read from its file or measured again, as in a new
    process (the stack benchmark times each path with its own measurements)."""
    _memo.clear()


def _path(folder: Path, key: str) -> Path:
    return folder / f"{key_hash(key)}.json"


def key_hash(key: str) -> str:
    """The file name's stem for `key`: 24 hex digits of its SHA-256."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def _read(path: Path, key: str) -> float | None:
    """The value `path` holds for `key`; None when there is no file or it holds no such value."""
    try:
        record = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:  # ValueError: not JSON, not UTF-8
        log.warning(f"{path}: unreadable ({err}); measuring again")
        return None
    if not (isinstance(record, dict) and record.get("key") == key and _is_value(record)):
        log.warning(f"{path}: not a stored measurement of this key; measuring again")
        return None
    return math.nan if record["value"] is None else float(record["value"])


def _is_value(record: dict) -> bool:
    """Whether `record` has a `value` that `_write` could have written: a number or null."""
    return "value" in record and (record["value"] is None or type(record["value"]) in (int, float))


def _write(path: Path, key: str, value: float) -> None:
    """Store `value` for `key` atomically; a failure only costs other processes a measurement."""
    try:
        write_json_atomic(path, {"key": key, "value": value if math.isfinite(value) else None})
    except OSError as err:
        log.warning(f"{path}: not written ({err}); other processes will measure it again")
