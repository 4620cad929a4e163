"""Speed benchmarks (not tests): run as modules from the repository root, see README.md here."""

from src.config_files import register_sweeps

# The benchmarks compose configs in-process, as `python -m src.train` does after registering the
# sweeps: the default config's `sweep: grid` names one of them.
register_sweeps()
