"""The bad-input corpus of `bench/bad_input_corpus.py` (issue 18) cannot silently shrink.

Fast: no pipeline run. Every case is applied to a fresh copy of the demo's inputs and must change
what it says it changes; `make bench-bad-input` runs them end to end and writes
bench/results/bad_input_corpus.md.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.faults.harness import ROOT

MINIMUM_CASES = 80


def _load_corpus() -> ModuleType:
    path = ROOT / "bench" / "bad_input_corpus.py"
    spec = importlib.util.spec_from_file_location("bad_input_corpus", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


corpus = _load_corpus()
CASES = [case for case in corpus.CASES if not case.heavy]


def test_the_corpus_has_at_least_80_distinct_cases() -> None:
    ids = [case.id for case in corpus.CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    assert len(CASES) >= MINIMUM_CASES
    assert len({(case.kind, case.damage) for case in CASES}) == len(CASES)
    kinds = {case.kind for case in CASES}
    assert kinds == {"snapshot", "scp", "resource-policy", "cloudtrail", "valid-variant"}
    for case in CASES:
        assert case.expect in {"same", "scoped", "quarantine", "either"}, case.id
        if case.expect == "quarantine":
            assert case.file, case.id


def _signature(path: Path) -> tuple[str, bytes]:
    """What is at a path: its kind and, for a regular file, its bytes."""
    if path.is_symlink():
        return "symlink", str(path.readlink()).encode()
    if path.is_dir():
        return "dir", b""
    if path.is_file():
        return "file", path.read_bytes()
    return "absent", b""


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_each_case_applies_cleanly_to_a_fresh_copy(case, tmp_path: Path) -> None:
    snapshot, trail, changed = corpus.make_inputs(case, tmp_path)
    assert changed is not None
    if changed.is_relative_to(snapshot):
        original = corpus.SNAPSHOT / changed.relative_to(snapshot)
    else:
        assert case.cloudtrail and changed.is_relative_to(trail), (case.id, changed)
        original = corpus.CLOUDTRAIL / changed.relative_to(trail)
    assert os.path.lexists(changed), case.id
    assert _signature(changed) != _signature(original), case.id
    # The demo itself is never touched.
    assert not case.cloudtrail or trail != corpus.CLOUDTRAIL
    shutil.rmtree(tmp_path, ignore_errors=True)
