"""The command-line boundary: user errors become one line on stderr and a non-zero exit."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException, MissingConfigException
from omegaconf.errors import OmegaConfBaseException

from src.errors import TrainmapError

HYDRA_FLAG_ERROR = "Only one of --run, --multirun, --cfg"  # Hydra raises a bare ValueError
MULTIRUN_MODE = "hydra.mode=MULTIRUN"  # what `--multirun` adds to the overrides


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


@contextmanager
def compose_primary_once() -> Iterator[None]:
    """Let Hydra compose a multirun's primary config once instead of twice in a row.

    `hydra.main` composes it first only to read `hydra.mode` (without checking the sweep
    overrides), then again to run, ~0.2 s each before a sweep can start. With the same config
    name, overrides and mode, the second is the first plus that check: the check is run and
    the first returned. `--multirun` appends `hydra.mode=MULTIRUN` to the overrides between
    the two: the first is then returned with what that override adds (the value, its line in
    `hydra.overrides.hydra`).
    """
    original = ConfigLoaderImpl.load_configuration
    kept: dict[tuple, Any] = {}

    def load(self: ConfigLoaderImpl, config_name: str | None, overrides: list[str],
             run_mode: Any, from_shell: bool = True, validate_sweep_overrides: bool = True,
             ) -> Any:  # fmt: skip
        def key(given: list[str]) -> tuple:
            return id(self), config_name, tuple(given), run_mode, from_shell

        if not validate_sweep_overrides:  # only Hydra's look at `hydra.mode` skips the check
            kept.clear()
            kept[key(overrides)] = original(self, config_name, overrides, run_mode, from_shell,
                                            False)  # fmt: skip
            return kept[key(overrides)]
        cfg, added = kept.pop(key(overrides), None), []
        if cfg is None and overrides[-1:] == [MULTIRUN_MODE]:  # appended by `--multirun`
            cfg, added = kept.pop(key(overrides[:-1]), None), overrides[-1:]
        if cfg is None:
            return original(self, config_name, overrides, run_mode, from_shell, True)
        parsed = OverridesParser.create().parse_overrides(overrides=overrides)
        self.validate_sweep_overrides_legal(parsed, run_mode, from_shell)
        if added:  # what composing with it adds: the value, then its line
            ConfigLoaderImpl._apply_overrides_to_config(parsed[-1:], cfg)
            cfg.hydra.overrides.hydra.append(added[0])
        return cfg

    ConfigLoaderImpl.load_configuration = load  # type: ignore[method-assign]
    try:
        yield
    finally:
        ConfigLoaderImpl.load_configuration = original  # type: ignore[method-assign]


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
