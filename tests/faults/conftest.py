"""Fault-injection fixtures (helpers in `tests/faults/harness.py`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.flaky_s3 import flaky_endpoint  # noqa: F401 (a fixture for tests/faults)
from tests.faults.harness import DEMO_AS_OF, DEMO_CLOUDTRAIL, DEMO_SNAPSHOTS, copy_tree, run_ciem


@pytest.fixture
def demo_snapshot(tmp_path: Path) -> Path:
    """A writable copy of the demo's 2026-11-20 snapshot folder."""
    return copy_tree(DEMO_SNAPSHOTS / DEMO_AS_OF, tmp_path / "snapshot" / DEMO_AS_OF)


@pytest.fixture
def demo_cloudtrail(tmp_path: Path) -> Path:
    """A writable copy of the demo's CloudTrail folder (S3 delivery layout)."""
    return copy_tree(DEMO_CLOUDTRAIL, tmp_path / "cloudtrail")


@pytest.fixture(scope="session")
def clean_demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One clean `ciem run` on the demo as of 2026-11-20: what every damaged run is compared to."""
    lake = tmp_path_factory.mktemp("clean-demo-lake")
    assert run_ciem(lake) == 0
    return lake
