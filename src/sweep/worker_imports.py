"""What the fork server of `src.sweep.fork_server` imports before forking workers: the modules
named in $TRAINMAP_WORKER_IMPORTS, comma-separated.

The server itself stops at the first module that raises anything but ImportError, and then no
worker starts at all; here a module that fails to import is skipped, so a worker imports it on
its own and the cells that need it record the error, as without the server.
"""

import importlib
import os

VARIABLE = "TRAINMAP_WORKER_IMPORTS"

for _name in filter(None, os.environ.get(VARIABLE, "").split(",")):
    try:
        importlib.import_module(_name)
    except Exception:  # noqa: BLE001, S112 -- the worker meets it again and reports it
        continue
