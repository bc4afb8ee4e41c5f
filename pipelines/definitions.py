"""The Dagster code location: everything under `pipelines/defs/`."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipelines.lib.lake import set_private_umask

# Private by default: the processes that load this code location (the code server, each run's
# worker) write the lake owner-only, whatever the umask they were started with.
set_private_umask()

defs = dg.load_from_defs_folder(path_within_project=Path(__file__).resolve().parent)
