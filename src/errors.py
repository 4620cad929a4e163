"""Errors that the command line turns into one line and a non-zero exit."""

from __future__ import annotations


class TrainmapError(Exception):
    """A user-facing problem: the message alone tells what is wrong and what is valid."""

    exit_code = 2


class ConfigError(TrainmapError):
    """A config value that is unknown, of the wrong type or out of range."""


class DataError(TrainmapError):
    """A data file that is missing, truncated or not in the expected format."""

    exit_code = 3


def one_line(err: BaseException) -> str:
    """The error's message with its line breaks and runs of spaces folded into single spaces."""
    return " ".join(str(err).split()) or type(err).__name__
