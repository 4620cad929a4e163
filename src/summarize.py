"""Summarize a sweep folder: summary.csv, phase_map.md and phase_map.png, and print the map.

Usage: `python -m src.summarize <sweep_dir> [--rows KEY] [--cols KEY]`, e.g.
`python -m src.summarize outputs/sweeps/bs_lr/2026-11-25_23-50-00 --rows activation`.
Works on a sweep that is still running or was interrupted: unfinished cells show as `pending`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from src.cli import print_error
from src.errors import TrainmapError
from src.sweep.summary import OUTPUT_FILES, write_summary


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m src.summarize", description=__doc__.split("\n")[0]
    )
    parser.add_argument("sweep_dir", type=Path, help="the sweep folder (one subfolder per cell)")
    parser.add_argument("--rows", help="swept key for the rows (default trainer.batch_size)")
    parser.add_argument("--cols", help="swept key for the columns (default optimizer.lr)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Print the phase map and the written files; a user error is one line on stderr."""
    args = parse_args(argv)
    try:
        text = write_summary(args.sweep_dir, rows=args.rows, cols=args.cols)
    except TrainmapError as err:
        return print_error(err)
    print(text)
    for name in OUTPUT_FILES:
        print(f"wrote {args.sweep_dir / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
