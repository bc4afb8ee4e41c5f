"""The Dagster code location: the definitions of `pipelines/defs/` for the `CIEM_*` settings."""

from __future__ import annotations

from pipelines.defs.location import build_definitions
from pipelines.defs.resources import settings_from_env
from pipelines.lib.lake import set_private_umask, use_system_allocator

# Private by default: the processes that load this code location (the code server, each run's
# worker) write the lake owner-only, whatever the umask they were started with.
set_private_umask()
use_system_allocator()

defs = build_definitions(settings_from_env())
