"""`logger=none`: the logger that writes nothing."""

from __future__ import annotations

from src.logger.base import Logger


class NoLogger(Logger):
    """Writes nothing; costs one no-op call per step (metrics.json is written regardless)."""
