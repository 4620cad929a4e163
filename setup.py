"""Ship conf/ and sweeps/ inside the installed package, as src/conf and src/sweeps.

Everything else is declared in pyproject.toml. An editable install copies nothing: it keeps
reading the checkout's own conf/ and sweeps/ (src/config_files.py picks whichever exists).
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = ("conf", "sweeps")


class BuildPyWithConfigs(build_py):
    """`build_py`, plus a copy of each SHIPPED folder into the built `src` package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in SHIPPED:
            self.copy_tree(name, str(Path(self.build_lib) / "src" / name))


setup(cmdclass={"build_py": BuildPyWithConfigs})
