"""Fixtures of the snapshot reader tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def snap(tmp_path: Path) -> Path:
    """The snapshot folder a test writes its files into (not created: the files' folders are)."""
    return tmp_path / "snap"
