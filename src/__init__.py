"""trainmap: map where small NumPy networks train, stall or blow up."""

from omegaconf import OmegaConf

from src.names import NOT_A_COORDINATE

# conf/config.yaml reads this set as `${not_a_coordinate:}`. Registered when any part of the
# package is imported, so every process that composes the config (Hydra's workers, tests,
# benchmarks) can resolve it.
OmegaConf.register_new_resolver("not_a_coordinate", lambda: list(NOT_A_COORDINATE), replace=True)
