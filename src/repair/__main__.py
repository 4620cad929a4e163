"""Repair failed runs: apply each one's top suggestion, rerun, and retry with the rerun's own.

Usage: `python -m src.repair <run_dir | sweep_dir> [--tries 3]`, e.g.
`python -m src.repair outputs/sweeps/bs_lr/2026-11-30_18-00-00`.
Attempts run through the launcher the original runs used, into `repairs/` beside them
(`<name>.repair1`, `.repair2`, ...); a sweep's failed cells run in parallel, one round per try.
Writes repair.csv, and for a sweep repaired_map.png beside phase_map.png.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hydra.errors import HydraException
from omegaconf.errors import OmegaConfBaseException

from src.cli import hydra_message, print_error
from src.errors import ConfigError, TrainmapError
from src.repair.attempts import REPAIRS, Repair
from src.repair.outputs import REPAIR_CSV, row, write_csv, write_map
from src.repair.rounds import failed_runs, find_runs, repair_rounds


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m src.repair", description=__doc__.split("\n")[0]
    )
    parser.add_argument("folder", type=Path, help="a finished run's folder, or a sweep folder")
    parser.add_argument("--tries", type=int, default=3, help="attempts per run (>= 1; default 3)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Repair, print one line per failed run and the files written; user errors: one line."""
    args = parse_args(argv)
    try:
        if args.tries < 1:
            raise ConfigError(f"--tries={args.tries}: must be an integer >= 1")
        runs, sweep = find_runs(args.folder)
        repairs = failed_runs(runs)
        if sweep is None and not repairs:
            print(f"{args.folder}: converged; nothing to repair")
            return 0
        repair_rounds(repairs, args.tries)
    except TrainmapError as err:
        return print_error(err)
    except (HydraException, OmegaConfBaseException) as err:  # e.g. the recorded launcher is gone
        print(f"error: {hydra_message(err)}", file=sys.stderr)
        return 2
    home = args.folder if sweep is not None else args.folder.parent / REPAIRS
    for repair in repairs:
        print(_line(repair, home))
    print(_tally(repairs))
    write_csv(home / REPAIR_CSV, repairs)
    print(f"wrote {home / REPAIR_CSV}")
    if sweep is not None:
        print(f"wrote {write_map(sweep, repairs)}")
    return 0


def _tally(repairs: list[Repair]) -> str:
    """'converged after repair: 20 of 27 failed runs (15 at the first attempt)'."""
    outcomes = [repair.outcomes() for repair in repairs]
    final = sum(1 for o in outcomes if o and o[-1] == "converged")
    first = sum(1 for o in outcomes if o and o[0] == "converged")
    return (f"converged after repair: {final} of {len(repairs)} failed runs "
            f"({first} at the first attempt)")  # fmt: skip


def _line(repair: Repair, home: Path) -> str:
    r = row(repair, home)
    tried = f" after {r['attempts']} ({r['overrides']})" if r["attempts"] else ""
    return f"{r['cell']}: {r['outcome']} -> {r['final_outcome']}{tried}; stopped: {r['stopped']}"


if __name__ == "__main__":
    sys.exit(main())
