"""`bench/compare_lakes.py`'s comparison for the tests (bench/ is not a package: loaded by path)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def compare_lakes(*args: object) -> list[str]:
    """One line per warehouse table of two lakes: `same …` or what differs (`compare`)."""
    spec = importlib.util.spec_from_file_location("compare_lakes", ROOT / "bench/compare_lakes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.compare(*args)
