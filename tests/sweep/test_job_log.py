"""A job of several stacks logs each later stack where the stack's own job would have."""

from __future__ import annotations

import logging

from src.sweep.job_log import cell_log, job_log_at


def test_a_later_stack_logs_into_its_first_cells_log_and_its_cells_copies(tmp_path):
    job, first, other = (tmp_path / name for name in ("a", "b", "c"))
    job.mkdir()
    other.mkdir()  # a cell folder: its .hydra files are written first
    root = logging.getLogger()
    handler = logging.FileHandler(job / "train.log")
    handler.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(handler)
    level, root.level = root.level, logging.INFO
    try:
        logging.info("job")
        with job_log_at(first):
            logging.info("stack")
            with cell_log(other):
                logging.info("cell")
        with job_log_at(None):
            logging.info("again")
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(level)
    assert (job / "train.log").read_text() == "job\nagain\n"
    assert (first / "train.log").read_text() == "stack\ncell\n"
    assert (other / "train.log").read_text() == "cell\n"
    assert handler not in root.handlers and not any(
        isinstance(h, logging.FileHandler) and "train.log" in h.baseFilename for h in root.handlers
    )
