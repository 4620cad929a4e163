"""The command-line boundary: user errors become one line on stderr and a non-zero exit."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException, MissingConfigException
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
