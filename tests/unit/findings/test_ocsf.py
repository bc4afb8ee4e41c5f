"""Detections as OCSF Detection Finding (class 2004): whole records for hand-made detections
(a resolved one dated by the run that resolved it), the class's required attributes with their
types, and the resolution dates `ciem export` reads from a warehouse with and without
`detection_timeline`."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from pipelines.cli.export import read_detections, write_findings
from pipelines.lib.findings.ocsf import detection_finding

ARN = "arn:aws:iam::222222222222:role/batch-admin-ec2-role"
DETECTION: dict[str, Any] = {
    "detection_id": "0123456789abcdef",
    "rule_id": "admin-iam-role",
    "severity": "high",
    "resource_arn": ARN,
    "resource_type": "iam_role",
    "account_id": "222222222222",
    "title": "IAM role batch-admin-ec2-role has administrative privileges",
    "first_seen_at": date(2026, 11, 19),
    "last_seen_at": date(2026, 11, 20),
    "status": "open",
    "evidence": '{"policies": ["AdministratorAccess"], "last_event": null}',
    "category": "admin-rights",
    "description": "The role can perform every action on every resource.",
    "remediation": "Replace AdministratorAccess with a least-privilege policy.",
    "reference_url": "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html",
    "principal_arn": ARN,
    "suppression_reason": None,
    "suppression_expires_at": None,
    "console_url": "https://console.aws.amazon.com/iam/home#/roles/details/batch-admin-ec2-role",
    "suggested_policy": None,
    "suggested_policy_verification": None,
}
T_19 = 1795046400000  # 2026-11-19T00:00:00Z in epoch milliseconds
T_20 = T_19 + 86_400_000
T_21 = T_20 + 86_400_000


def _expected_open() -> dict[str, Any]:
    account = {"uid": "222222222222", "type": "AWS Account", "type_id": 10}
    return {
        "activity_id": 1,
        "activity_name": "Create",
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": 2004,
        "class_name": "Detection Finding",
        "type_uid": 200401,
        "type_name": "Detection Finding: Create",
        "severity_id": 4,
        "severity": "High",
        "status_id": 1,
        "status": "New",
        "time": T_20,
        "message": "IAM role batch-admin-ec2-role has administrative privileges",
        "metadata": {
            "version": "1.3.0",
            "product": {"name": "ciem", "vendor_name": "ciem (open source)", "version": "9.9"},
            "uid": "0123456789abcdef",
        },
        "finding_info": {
            "uid": "0123456789abcdef",
            "title": "IAM role batch-admin-ec2-role has administrative privileges",
            "desc": "The role can perform every action on every resource.",
            "types": ["admin-rights"],
            "first_seen_time": T_19,
            "last_seen_time": T_20,
            "analytic": {
                "uid": "admin-iam-role",
                "name": "admin-iam-role",
                "type": "Rule",
                "type_id": 1,
            },
        },
        "cloud": {"provider": "AWS", "account": account},
        "resources": [
            {
                "uid": ARN,
                "name": "batch-admin-ec2-role",
                "type": "AWS::IAM::Role",
                "cloud_partition": "aws",
                "owner": {"account": account},
            }
        ],
        "remediation": {
            "desc": "Replace AdministratorAccess with a least-privilege policy.",
            "references": [
                "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html",
                "https://console.aws.amazon.com/iam/home#/roles/details/batch-admin-ec2-role",
            ],
        },
        "evidences": [{"data": {"policies": ["AdministratorAccess"], "last_event": None}}],
        "unmapped": {
            "rule_id": "admin-iam-role",
            "category": "admin-rights",
            "resource_type": "iam_role",
            "principal_arn": ARN,
            "console_url": (
                "https://console.aws.amazon.com/iam/home#/roles/details/batch-admin-ec2-role"
            ),
        },
    }


def test_epoch_constant() -> None:
    from datetime import UTC, datetime

    assert datetime(2026, 11, 19, tzinfo=UTC).timestamp() * 1000 == T_19


def test_open_detection_whole_record() -> None:
    assert detection_finding(DETECTION, "9.9") == _expected_open()


def test_suppressed_and_resolved_detections_whole_records() -> None:
    lambda_arn = "arn:aws:lambda:us-east-1:222222222222:function:hotfix-admin-fn"
    suppressed = {
        **DETECTION,
        "rule_id": "admin-lambda-function",
        "severity": "critical",
        "resource_arn": lambda_arn,
        "resource_type": "lambda_function",
        "status": "suppressed",
        "suppression_reason": "hotfix, removed Friday",
        "suppression_expires_at": date(2026, 11, 27),
        "suggested_policy": '{"Version": "2012-10-17", "Statement": []}',
        "suggested_policy_verification": '{"passed": true}',
        "reference_url": None,
        "console_url": None,
    }
    expected = _expected_open()
    account = expected["cloud"]["account"]
    expected.update(
        severity_id=5,
        severity="Critical",
        status_id=3,
        status="Suppressed",
        cloud={"provider": "AWS", "account": account, "region": "us-east-1"},
        resources=[
            {
                "uid": lambda_arn,
                "name": "hotfix-admin-fn",
                "type": "AWS::Lambda::Function",
                "cloud_partition": "aws",
                "region": "us-east-1",
                "owner": {"account": account},
            }
        ],
        remediation={"desc": "Replace AdministratorAccess with a least-privilege policy."},
        unmapped={
            "rule_id": "admin-lambda-function",
            "category": "admin-rights",
            "resource_type": "lambda_function",
            "principal_arn": ARN,
            "suppression_reason": "hotfix, removed Friday",
            "suppression_expires_at": "2026-11-27",
            "suggested_policy": {"Version": "2012-10-17", "Statement": []},
            "suggested_policy_verification": {"passed": True},
        },
    )
    expected["finding_info"]["analytic"]["uid"] = "admin-lambda-function"
    expected["finding_info"]["analytic"]["name"] = "admin-lambda-function"
    assert detection_finding(suppressed, "9.9") == expected
    # Only a resolved detection is dated by a resolution.
    assert detection_finding({**suppressed, "resolved_at": date(2026, 11, 21)}, "9.9") == expected
    assert detection_finding({**DETECTION, "resolved_at": date(2026, 11, 21)}, "9.9") == (
        _expected_open()
    )


def _expected_resolved() -> dict[str, Any]:
    """The open record closed by the run of 2026-11-21: last seen by the run of the 20th."""
    expected = _expected_open()
    expected.update(
        activity_id=3,
        activity_name="Close",
        type_uid=200403,
        type_name="Detection Finding: Close",
        status_id=4,
        status="Resolved",
        time=T_21,
    )
    expected["finding_info"]["modified_time"] = T_21
    return expected


def test_resolved_detection_whole_record_is_dated_by_its_resolution() -> None:
    resolved = {**DETECTION, "status": "resolved", "resolved_at": date(2026, 11, 21)}
    assert detection_finding(resolved, "9.9") == _expected_resolved()


def test_resolved_detection_without_a_resolution_date_falls_back_to_last_seen() -> None:
    # A warehouse without `detection_timeline`: no resolution date, the last-seen date stands.
    expected = _expected_resolved()
    expected["time"] = T_20
    del expected["finding_info"]["modified_time"]
    for resolved in (
        {**DETECTION, "status": "resolved"},
        {**DETECTION, "status": "resolved", "resolved_at": None},
    ):
        assert detection_finding(resolved, "9.9") == expected


# Required attributes of Detection Finding (OCSF 1.3: base event + finding + cloud profile) and
# of the objects it nests, with their OCSF types (integer_t, timestamp_t = epoch ms, string_t).
REQUIRED: dict[str, type | tuple[type, ...]] = {
    "activity_id": int,
    "category_uid": int,
    "class_uid": int,
    "type_uid": int,
    "severity_id": int,
    "time": int,
    "metadata.version": str,
    "metadata.product.name": str,
    "metadata.product.vendor_name": str,
    "finding_info.uid": str,
    "finding_info.title": str,
    "cloud.provider": str,
}
ENUMS = {
    "activity_id": {1, 2, 3, 99},
    "severity_id": {0, 1, 2, 3, 4, 5, 6, 99},
    "status_id": {0, 1, 2, 3, 4, 5, 6, 99},
    "category_uid": {2},
    "class_uid": {2004},
}


def _get(record: dict[str, Any], dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        value = value[part]
    return value


@pytest.mark.parametrize("status", ["open", "suppressed", "resolved"])
@pytest.mark.parametrize("severity", ["critical", "high", "medium", "low"])
def test_required_attributes_types_and_enums(status: str, severity: str) -> None:
    record = detection_finding({**DETECTION, "status": status, "severity": severity}, "1.0")
    for path, kind in REQUIRED.items():
        assert isinstance(_get(record, path), kind), path
    for path, allowed in ENUMS.items():
        assert record[path] in allowed, path
    assert record["type_uid"] == record["class_uid"] * 100 + record["activity_id"]
    assert all(isinstance(r["uid"], str) for r in record["resources"])
    assert record["finding_info"]["first_seen_time"] <= record["finding_info"]["last_seen_time"]


def test_export_writes_one_json_object_per_line() -> None:
    out = io.StringIO()
    assert write_findings([DETECTION, {**DETECTION, "detection_id": "ffff"}], out) == 2
    lines = out.getvalue().splitlines()
    assert [json.loads(line)["finding_info"]["uid"] for line in lines] == [
        "0123456789abcdef",
        "ffff",
    ]


def _warehouse(root: Path, detections: list[dict[str, Any]], timeline: list[tuple] | None) -> None:
    path = root / "warehouse" / "ciem.duckdb"
    path.parent.mkdir(parents=True)
    table = pa.Table.from_pylist(detections)
    table = table.cast(
        pa.schema(
            [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in table.schema]
        )
    )
    con = duckdb.connect(str(path))
    con.register("detections_arrow", table)
    con.execute("create table detections as select * from detections_arrow")
    if timeline is not None:
        con.execute(
            "create table detection_timeline "
            "(detection_id varchar, event_at date, event_type varchar, change_type varchar)"
        )
        con.executemany("insert into detection_timeline values (?, ?, ?, ?)", timeline)
    con.close()


# Three detections of the same role: resolved (opened the 17th, resolved the 18th, reopened the
# 19th, last seen the 20th and resolved again the 21st), open (resolved once, back since) and
# suppressed.
RESOLVED = {**DETECTION, "detection_id": "a", "status": "resolved"}
OPEN = {**DETECTION, "detection_id": "b", "last_seen_at": date(2026, 11, 21)}
SUPPRESSED = {
    **DETECTION,
    "detection_id": "c",
    "status": "suppressed",
    "last_seen_at": date(2026, 11, 21),
    "suppression_reason": "accepted",
}
TIMELINE = [
    ("a", date(2026, 11, 17), "opened", None),
    ("a", date(2026, 11, 18), "resolved", None),
    ("a", date(2026, 11, 19), "reopened", None),
    ("a", date(2026, 11, 20), "resource_changed", "policy_detached"),
    ("a", date(2026, 11, 21), "resolved", None),
    ("b", date(2026, 11, 18), "opened", None),
    ("b", date(2026, 11, 19), "resolved", None),
    ("b", date(2026, 11, 20), "reopened", None),
    ("c", date(2026, 11, 19), "opened", None),
    ("c", date(2026, 11, 20), "suppressed", None),
]


def test_read_detections_takes_the_latest_resolution_of_resolved_detections(
    tmp_path: Path,
) -> None:
    _warehouse(tmp_path, [SUPPRESSED, OPEN, RESOLVED], TIMELINE)
    assert read_detections(tmp_path, None) == [
        {**RESOLVED, "resolved_at": date(2026, 11, 21)},
        {**OPEN, "resolved_at": None},
        {**SUPPRESSED, "resolved_at": None},
    ]
    assert read_detections(tmp_path, ["resolved"]) == [
        {**RESOLVED, "resolved_at": date(2026, 11, 21)}
    ]

    out = io.StringIO()
    assert write_findings(read_detections(tmp_path, ["resolved"]), out) == 1
    expected = _expected_resolved()
    expected["metadata"]["uid"] = expected["finding_info"]["uid"] = "a"
    del expected["metadata"]["product"]["version"]
    finding = json.loads(out.getvalue())
    del finding["metadata"]["product"]["version"]
    assert finding == expected


def test_read_detections_without_a_timeline_has_no_resolution_dates(tmp_path: Path) -> None:
    _warehouse(tmp_path, [SUPPRESSED, OPEN, RESOLVED], None)
    assert read_detections(tmp_path, None) == [
        {**RESOLVED, "resolved_at": None},
        {**OPEN, "resolved_at": None},
        {**SUPPRESSED, "resolved_at": None},
    ]
