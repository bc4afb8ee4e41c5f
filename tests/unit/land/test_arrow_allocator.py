"""Arrow's allocator in the processes of ciem (`use_system_allocator`): the C library's, not the
mimalloc pool Arrow's wheels default to, which held about 55 MiB more in a process landing
CloudTrail. Each case runs in a new interpreter, as the processes do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa

from pipelines.lib.land.cloudtrail_landing import WorkerPool

ROOT = Path(__file__).resolve().parents[3]


def _backend(code: str, tmp_path: Path, **env: str) -> str:
    """The Arrow pool's backend after `code` runs in a new interpreter (its last line printed)."""
    environ = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    environ.update(PYTHONPATH=str(ROOT), CIEM_LAKE=str(tmp_path / "lake"), **env)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            code + "\nimport pyarrow; print(pyarrow.default_memory_pool().backend_name)",
        ],
        capture_output=True,
        text=True,
        env=environ,
        cwd=ROOT,
        check=True,
    )
    return done.stdout.splitlines()[-1]


def test_arrow_defaults_to_mimalloc_here(tmp_path: Path) -> None:
    """The premise: without the call, this machine's Arrow allocates from mimalloc."""
    assert _backend("pass", tmp_path) == "mimalloc"


def test_the_entry_points_use_the_system_allocator(tmp_path: Path) -> None:
    entry_points = {
        "function": "from pipelines.lib.lake import use_system_allocator; use_system_allocator()",
        "ciem": (
            "from pipelines.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n"
            "    pass"
        ),
        "code location": "import pipelines.definitions",
    }
    found = {name: _backend(code, tmp_path) for name, code in entry_points.items()}
    assert found == dict.fromkeys(entry_points, "system")


def test_an_arrow_pool_chosen_by_the_environment_is_kept(tmp_path: Path) -> None:
    code = "from pipelines.lib.lake import use_system_allocator; use_system_allocator()"
    assert _backend(code, tmp_path, ARROW_DEFAULT_MEMORY_POOL="jemalloc") == "jemalloc"


def _pool_backend() -> str:
    return pa.default_memory_pool().backend_name


def test_the_parsing_processes_use_the_system_allocator() -> None:
    with WorkerPool(1) as pool:
        assert pool.get().submit(_pool_backend).result() == "system"
