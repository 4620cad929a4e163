"""How Hydra finds our configs: `conf/` (the groups) and `sweeps/` (the named grids).

A checkout or an editable install reads the repo's folders beside `src/`; `pip install .` copies
them into the package as `src/conf` and `src/sweeps` (see `setup.py`), which are then found
instead. Each `sweeps/<name>.yaml` is the option `sweep=<name>`: Hydra looks for a group's
options in a folder named like the group, so `register_sweeps` puts the grids into Hydra's
config store (which is on every search path) under the group `sweep`, as `# @package _global_`
files; workers receive the store from the launcher.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from src.errors import ConfigError, one_line

PACKAGE = Path(__file__).resolve().parent
SWEEP_GROUP = "sweep"


def find_dir(name: str) -> Path:
    """The installed copy `src/<name>` if there is one, else the checkout's `<name>/`."""
    installed = PACKAGE / name
    return installed if installed.is_dir() else PACKAGE.parent / name


CONF_DIR = find_dir("conf")
SWEEPS_DIR = find_dir("sweeps")


def register_sweeps(folder: Path = SWEEPS_DIR) -> list[str]:
    """Offer every `<name>.yaml` in `folder` as `sweep=<name>`; return the names.

    Raises:
        ConfigError: a sweep file is not valid YAML or not a mapping.
    """
    store = ConfigStore.instance()
    names = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            node = OmegaConf.load(path)
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: not valid YAML ({one_line(err)})") from err
        if not isinstance(node, DictConfig):
            raise ConfigError(f"{path}: a sweep file is a mapping, e.g. hydra.sweeper.params")
        store.store(group=SWEEP_GROUP, name=path.stem, node=node, package="_global_")
        names.append(path.stem)
    return names
