"""What a run folder holds, and reading and writing its `metrics.json` atomically."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from src.names import INSTANTIATE_KEYS
from src.stackable import plain

METRICS = "metrics.json"
OVERRIDES = Path(".hydra") / "overrides.yaml"  # Hydra's record of the run's overrides


def flatten_config(cfg: DictConfig | Mapping[str, Any]) -> dict[str, Any]:
    """{'optimizer.lr': 0.1, 'model.hidden': '[100]', ...}: plain scalars, one level deep; `cfg`
    may be the config's plain data (`OmegaConf.to_container(cfg, resolve=True)`) already."""
    flat: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key not in INSTANTIATE_KEYS:
                    walk(value, f"{prefix}{key}.")
        else:
            is_scalar = node is None or isinstance(node, (bool, int, float, str))
            flat[prefix[:-1]] = node if is_scalar else json.dumps(node)

    container = plain(cfg)
    walk({k: v for k, v in container.items() if k != "hydra"}, "")
    return flat


def write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    """Write `payload` as indented JSON, atomically (see `write_bytes_atomic`)."""
    write_text_atomic(path, json.dumps(payload, indent=2, allow_nan=False) + "\n")


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` as UTF-8, atomically (see `write_bytes_atomic`)."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write via a temp file in the same folder + rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_metrics(run_dir: Path) -> dict[str, Any] | None:
    """The run's metrics, or None when the run has not finished (no complete file)."""
    try:
        return json.loads((Path(run_dir) / METRICS).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
