"""The command-line boundary: user errors become one line on stderr and a non-zero exit."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException, MissingConfigException
from hydra.types import RunMode
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from src.errors import TrainmapError

HYDRA_FLAG_ERROR = "Only one of --run, --multirun, --cfg"  # Hydra raises a bare ValueError


@contextmanager
def report_errors() -> Iterator[Path]:
    """Yield the run's output folder; on a TrainmapError remove it, print one line, exit."""
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        yield out_dir
    except TrainmapError as err:
        # Hydra made the folder before we could validate: leave nothing half-written.
        shutil.rmtree(out_dir, ignore_errors=True)
        _remove_if_empty(out_dir.parent)
        sys.exit(print_error(err))


def _remove_if_empty(folder: Path) -> None:
    with suppress(OSError):
        folder.rmdir()


def run_cli(hydra_main: Callable[[], None]) -> None:
    """Run a `@hydra.main` function, turning Hydra's multi-line compose errors into one line."""
    # Without this Hydra prints its own multi-line report; with it, the exception reaches us.
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        with compose_primary_once():
            hydra_main()
    except (HydraException, OmegaConfBaseException) as err:
        print(f"error: {hydra_message(err)}", file=sys.stderr)
        sys.exit(2)
    except ValueError as err:  # Hydra's check of its own flags, e.g. --multirun with --cfg
        if not str(err).startswith(HYDRA_FLAG_ERROR):
            raise
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except TrainmapError as err:  # raised before a run folder exists
        sys.exit(print_error(err))
    except OSError as err:  # e.g. Hydra cannot create the run folder
        print(f"error: cannot write {err.filename}: {err.strerror}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:  # a sweep's callback still summarizes what finished, at exit
        print("interrupted", file=sys.stderr)
        sys.exit(130)


@dataclass
class Composition:
    """A composition of the primary config and what it was asked for."""

    loader: int  # id() of the config loader
    call: tuple[str | None, bool]  # config name, from_shell
    overrides: list[str]
    run_mode: RunMode
    config: Any


@contextmanager
def compose_primary_once() -> Iterator[None]:
    """Let Hydra compose the primary config once instead of twice in a row.

    `hydra.main` composes it first only to read `hydra.mode` (as for a multirun, without
    checking the sweep overrides), then again to run, ~0.2 s each before a run or sweep can
    start. The second is the first plus that check when config name and overrides are the same
    (a named sweep), or when they add only the mode Hydra appends between the two
    (`hydra.mode=MULTIRUN` for `--multirun`, `hydra.mode=RUN` for a single run): the check is
    run, and the first returned with that override applied and listed. A single run composes
    anew if the first skipped a group left `???`, which a run's composition fails on.
    """
    original = ConfigLoaderImpl.load_configuration
    kept: list[Composition] = []  # the look at `hydra.mode`, until the next composition

    def load(self: ConfigLoaderImpl, config_name: str | None, overrides: list[str],
             run_mode: RunMode, from_shell: bool = True, validate_sweep_overrides: bool = True,
             ) -> Any:  # fmt: skip
        first = kept.pop() if kept else None
        if not validate_sweep_overrides:  # only Hydra's look at `hydra.mode` skips the check
            cfg = original(self, config_name, overrides, run_mode, from_shell, False)
            kept.append(Composition(id(self), (config_name, from_shell), list(overrides),
                                    run_mode, cfg))  # fmt: skip
            return cfg
        asked = Composition(id(self), (config_name, from_shell), list(overrides), run_mode, None)
        added = mode_added(first, asked) if first else None
        if added is None:
            return original(self, config_name, overrides, run_mode, from_shell, True)
        parsed = OverridesParser.create().parse_overrides(overrides=overrides)
        self.validate_sweep_overrides_legal(parsed, run_mode, from_shell)
        cfg = first.config
        if added:  # what composing with it adds: the value, then its line
            ConfigLoaderImpl._apply_overrides_to_config(parsed[-1:], cfg)
            cfg.hydra.overrides.hydra.append(added[0])
        return cfg

    ConfigLoaderImpl.load_configuration = load  # type: ignore[method-assign]
    try:
        yield
    finally:
        ConfigLoaderImpl.load_configuration = original  # type: ignore[method-assign]


def mode_added(first: Composition, asked: Composition) -> list[str] | None:
    """The overrides `asked` adds to `first` (none, or Hydra's mode line) when composing them
    would give `first`'s config plus those; None when it would not."""
    if (first.loader, first.call) != (asked.loader, asked.call):
        return None
    given = len(first.overrides)
    added = asked.overrides[given:]
    if asked.overrides[:given] != first.overrides or added not in ([], [mode_line(asked)]):
        return None
    if asked.run_mode == first.run_mode:
        return added
    choices = first.config.hydra.runtime.choices
    skipped = any(OmegaConf.is_missing(choices, group) for group in choices)
    return added if asked.run_mode == RunMode.RUN and not skipped else None


def mode_line(composition: Composition) -> str:
    return f"hydra.mode={composition.run_mode.name}"


def print_error(err: TrainmapError) -> int:
    """Print a user error as one line on stderr; return the exit code it calls for."""
    print(f"error: {err}", file=sys.stderr)
    return err.exit_code


def hydra_message(err: BaseException) -> str:
    """Hydra's message (and its cause) folded into one line, without the search-path dump."""
    if isinstance(err, MissingConfigException) and err.options:
        return f"{err.missing_cfg_file} not found; valid options: {', '.join(err.options)}"
    text = str(err) + ("\n" + str(err.__cause__) if err.__cause__ else "")
    text = text.split("Config search path:")[0]
    lines = [line.strip() for line in text.splitlines()]
    kept = [line for line in lines if line and not line.startswith(("full_key:", "object_type="))]
    return " ".join(dict.fromkeys(kept))  # causes often repeat the outer message
