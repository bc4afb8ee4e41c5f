"""The suppressions file reader: valid entries become rows; a bad file is an error naming it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipelines.lib.findings.suppressions import (
    SuppressionError,
    load_suppressions,
    resolve_path,
)

EXAMPLE = Path(__file__).resolve().parents[3] / "suppressions.example.yaml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "suppressions.yaml"
    path.write_text(text)
    return path


def test_valid_file_becomes_rows(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
- rule: admin-iam-role
  resource: "arn:aws:iam::222222222222:role/break-glass-*"
  reason: Break-glass role, reviewed quarterly
  expires: 2027-01-31
- rule: "*"
  resource: arn:aws:iam::*:role/aws-reserved/*
  reason: "  Managed in IAM Identity Center  "
  expires: "2026-12-31"
- rule: inactive-identity
  resource: arn:aws:iam::333333333333:user/legacy-backup
  reason: kept for the yearly restore test
""",
    )
    assert load_suppressions(path).to_pylist() == [
        {
            "entry_index": 0,
            "rule_id": "admin-iam-role",
            "resource_pattern": "arn:aws:iam::222222222222:role/break-glass-*",
            "reason": "Break-glass role, reviewed quarterly",
            "expires_at": date(2027, 1, 31),
            "source_file": str(path),
        },
        {
            "entry_index": 1,
            "rule_id": "*",
            "resource_pattern": "arn:aws:iam::*:role/aws-reserved/*",
            "reason": "Managed in IAM Identity Center",
            "expires_at": date(2026, 12, 31),
            "source_file": str(path),
        },
        {
            "entry_index": 2,
            "rule_id": "inactive-identity",
            "resource_pattern": "arn:aws:iam::333333333333:user/legacy-backup",
            "reason": "kept for the yearly restore test",
            "expires_at": None,
            "source_file": str(path),
        },
    ]


def test_mapping_form_empty_file_and_no_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "suppressions:\n  - {rule: unused-role, resource: 'a*', reason: why}\n")
    assert [r["rule_id"] for r in load_suppressions(path).to_pylist()] == ["unused-role"]
    assert load_suppressions(_write(tmp_path, "# nothing yet\n")).num_rows == 0
    assert load_suppressions(None).num_rows == 0


def test_shipped_example_is_valid() -> None:
    assert load_suppressions(EXAMPLE).num_rows >= 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "- rule: unused-role\n  resource: x\n",
            "entry 0: field 'reason' is required",
        ),
        (
            "- {rule: unused-role, resource: x, reason: ok}\n- {rule: unused-role, reason: ok}\n",
            "entry 1: field 'resource' is required",
        ),
        (
            "- {rule: unused-role, resource: x, reason: '  '}\n",
            "entry 0: field 'reason' must be a non-empty string",
        ),
        (
            "- {rule: 5, resource: x, reason: ok}\n",
            "entry 0: field 'rule' must be a non-empty string",
        ),
        (
            "- {rule: unused-role, resource: x, reason: ok, expires: 31/12/2026}\n",
            "entry 0: field 'expires' must be a YYYY-MM-DD date, got '31/12/2026'",
        ),
        (
            "- {rule: unused-role, resource: x, reason: ok, expires: 2026-12-31 10:00:00}\n",
            "entry 0: field 'expires' must be a YYYY-MM-DD date, got '2026-12-31 10:00:00'",
        ),
        (
            "- {rule: unused-role, resource: x, reason: ok, expires: 2026-02-30}\n",
            "entry 0: field 'expires' must be a YYYY-MM-DD date, got '2026-02-30'",
        ),
        (
            "- {rule: unused-role, resource: x, reason: ok, until: 2026-12-31}\n",
            "entry 0: unknown field(s) until (allowed: rule, resource, reason, expires)",
        ),
        (
            "- rule: unused-role\n  resource: x\n  reason: ok\n  reason: second thoughts\n",
            "entry 0: field 'reason' is given more than once",
        ),
        (
            "- {rule: unused-role, resource: x, reason: ok}\n"
            "- {rule: admin-iam-rol, resource: x, reason: ok}\n",
            "entry 1: field 'rule': unknown rule id 'admin-iam-rol'",
        ),
        (
            "- {rule: '*', resource: 'arn:aws:iam::*:role/x', reason: ok}\n"
            "- {rule: unused-role, resource: y, reason: ok}\n"
            "- {rule: '*', resource: 'arn:aws:iam::*:role/x', reason: renewed, "
            "expires: 2027-01-01}\n",
            "entry 2: same rule and resource as entry 0 (edit that entry instead)",
        ),
        (
            "suppressions: []\nsuppressions: [{rule: unused-role, resource: y, reason: ok}]\n",
            "'suppressions' is given more than once",
        ),
        (
            "- just a string\n",
            "entry 0: must be a mapping with rule, resource and reason",
        ),
        (
            "rule: unused-role\nresource: x\nreason: ok\n",
            "expected a list of suppressions (or a mapping with a 'suppressions' list)",
        ),
        (
            "- rule: unused-role\n  resource: [unclosed\n",
            "invalid YAML at line 3 column 1: expected ',' or ']', but got '<stream end>'",
        ),
    ],
)
def test_bad_file_is_an_error_naming_file_entry_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(SuppressionError) as exc:
        load_suppressions(path)
    assert str(exc.value) == f"{path}: {message}"


def test_resolve_path(tmp_path: Path) -> None:
    assert resolve_path("", cwd=tmp_path) is None
    default = _write(tmp_path, "[]\n")
    assert resolve_path("", cwd=tmp_path) == default
    assert resolve_path(str(default), cwd=Path("/")) == default
    with pytest.raises(SuppressionError) as exc:
        resolve_path(str(tmp_path / "missing.yaml"))
    assert str(exc.value) == f"{tmp_path / 'missing.yaml'}: suppressions file not found"
