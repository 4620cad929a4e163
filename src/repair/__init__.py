"""Repair failed runs: apply each run's top suggestion, rerun, and check that it converges.

`python -m src.repair <run_dir | sweep_dir>` (see `__main__.py`). Attempts are ordinary run
folders in a `repairs/` folder beside the original (`<parent>/repairs/<name>.repair<k>`), so the
sweep folder's cells, and everything that reads them, stay as they were.
"""
