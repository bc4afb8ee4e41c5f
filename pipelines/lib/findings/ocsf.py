"""Serve layer: detections as OCSF 1.3 Detection Finding events (class 2004), for SIEMs and
security lakes.

Mapping (https://schema.ocsf.io/1.3.0/classes/detection_finding):
- `activity_id` 1 Create for an open or suppressed detection, 3 Close for a resolved one;
  `type_uid` = class_uid * 100 + activity_id.
- `status_id` 1 New (open), 3 Suppressed, 4 Resolved; `severity_id` low 2, medium 3, high 4,
  critical 5.
- `finding_info.first_seen_time`/`last_seen_time`: the as-of dates of the first and the latest
  run that found the detection, as epoch milliseconds (OCSF `timestamp_t`), midnight UTC. `time`
  is the latest run that found it, except for a resolved detection: the run that resolved it
  (`resolved_at`, the latest `resolved` event of `detection_timeline`), also given as
  `finding_info.modified_time`; without `resolved_at` (a warehouse without the timeline) it falls
  back to the last-seen date. (`end_time` is not used: OCSF defines it as the time of the most
  recent event in the finding, not the close time.)
- No `is_alert`: OCSF 1.3 Detection Finding has no such attribute (later versions added it);
  `status_id` says the same.
- `finding_info.uid` = detection_id, `analytic` = the rule; `resources[0]` the risky resource,
  `cloud` the AWS account; `remediation` the rule's advice with its reference and the console
  link; `evidences[0].data` the detection's evidence JSON; everything ciem-specific without an
  OCSF attribute (rule id, category, suppression, suggested policy, `account_incomplete` and
  `incomplete_reason`) goes to `unmapped`.
- A detection of an account whose input this run could not read in full (`account_incomplete`)
  is never sent as resolved: `detection_findings` leaves out its resolved rows (the run that
  resolved one had the account complete and exported the close then).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

OCSF_VERSION = "1.3.0"
CLASS_UID = 2004
CATEGORY_UID = 2
PRODUCT = {"name": "ciem", "vendor_name": "ciem (open source)"}

SEVERITY_IDS = {"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
STATUS_IDS = {"open": (1, "New"), "suppressed": (3, "Suppressed"), "resolved": (4, "Resolved")}
ACTIVITIES = {1: "Create", 3: "Close"}
# The AWS resource types (CloudFormation names) of ciem's resource_type values.
RESOURCE_TYPES = {
    "iam_user": "AWS::IAM::User",
    "iam_role": "AWS::IAM::Role",
    "iam_group": "AWS::IAM::Group",
    "ec2_instance": "AWS::EC2::Instance",
    "lambda_function": "AWS::Lambda::Function",
    "s3_bucket": "AWS::S3::Bucket",
    "kms_key": "AWS::KMS::Key",
    "sqs_queue": "AWS::SQS::Queue",
    "sns_topic": "AWS::SNS::Topic",
    "secretsmanager_secret": "AWS::SecretsManager::Secret",
    "aws_account": "AWS::::Account",
}
# OCSF account type_id 10 = "AWS Account".
AWS_ACCOUNT_TYPE = {"type": "AWS Account", "type_id": 10}

Detection = Mapping[str, Any]

# What an ARN's partition and region look like; anything else is not exported as one.
_PARTITION = re.compile(r"aws(?:-[a-z]+)*", re.ASCII)
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]+", re.ASCII)
# The console links `int_console_links` builds: https, an AWS console host (global, regional or
# S3; aws, aws-cn, aws-us-gov), then printable ASCII without spaces or quotes. A warehouse built
# before links were validated may hold others: they are left out of the export.
_CONSOLE_URL = re.compile(
    r"https://(?:(?:s3|[a-z]{2}(?:-[a-z]+)+-[0-9]+)\.)?console\."
    r"(?:aws\.amazon\.com|amazonaws\.cn|amazonaws-us-gov\.com)/[!#-~]*",
    re.ASCII,
)


def epoch_ms(day: date | datetime | None) -> int | None:
    if day is None:
        return None
    if not isinstance(day, datetime):
        day = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return int(day.timestamp() * 1000)


def _arn_parts(arn: str) -> tuple[str | None, str | None]:
    """(partition, region) of an ARN; region None for global resources (IAM, S3)."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return None, None
    partition = parts[1] if _PARTITION.fullmatch(parts[1]) else None
    return partition, parts[3] if _REGION.fullmatch(parts[3]) else None


def _console_url(url: Any) -> str | None:
    """The detection's console link if it is one `int_console_links` builds, else None."""
    return url if isinstance(url, str) and _CONSOLE_URL.fullmatch(url) else None


def _json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _drop_none(value: Any) -> Any:
    """OCSF omits absent attributes rather than sending nulls."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def detection_finding(detection: Detection, product_version: str) -> dict[str, Any]:
    """One detection (a row of the `detections` mart) as an OCSF Detection Finding."""
    status = detection["status"]
    status_id, status_name = STATUS_IDS[status]
    activity_id = 3 if status == "resolved" else 1
    severity = detection["severity"]
    partition, region = _arn_parts(detection["resource_arn"])
    account = {"uid": detection["account_id"], **AWS_ACCOUNT_TYPE}
    console_url = _console_url(detection.get("console_url"))
    references = [u for u in (detection.get("reference_url"), console_url) if u]
    resolved_at = detection.get("resolved_at") if status == "resolved" else None
    finding = {
        "activity_id": activity_id,
        "activity_name": ACTIVITIES[activity_id],
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Detection Finding",
        "type_uid": CLASS_UID * 100 + activity_id,
        "type_name": f"Detection Finding: {ACTIVITIES[activity_id]}",
        "severity_id": SEVERITY_IDS.get(severity, 99),
        "severity": severity.capitalize() if severity in SEVERITY_IDS else severity,
        "status_id": status_id,
        "status": status_name,
        "time": epoch_ms(resolved_at or detection["last_seen_at"]),
        "message": detection["title"],
        "metadata": {
            "version": OCSF_VERSION,
            "product": {**PRODUCT, "version": product_version},
            "uid": detection["detection_id"],
        },
        "finding_info": {
            "uid": detection["detection_id"],
            "title": detection["title"],
            "desc": detection.get("description"),
            "types": [detection["category"]] if detection.get("category") else None,
            "first_seen_time": epoch_ms(detection["first_seen_at"]),
            "last_seen_time": epoch_ms(detection["last_seen_at"]),
            "modified_time": epoch_ms(resolved_at),
            "analytic": {
                "uid": detection["rule_id"],
                "name": detection["rule_id"],
                "type": "Rule",
                "type_id": 1,
            },
        },
        "cloud": {"provider": "AWS", "account": account, "region": region},
        "resources": [
            {
                "uid": detection["resource_arn"],
                "name": detection["resource_arn"].rsplit("/", 1)[-1].rsplit(":", 1)[-1],
                "type": RESOURCE_TYPES.get(detection["resource_type"], detection["resource_type"]),
                "cloud_partition": partition,
                "region": region,
                "owner": {"account": account},
            }
        ],
        "remediation": (
            {"desc": detection["remediation"], "references": references or None}
            if detection.get("remediation")
            else None
        ),
        "unmapped": {
            "rule_id": detection["rule_id"],
            "category": detection.get("category"),
            "resource_type": detection["resource_type"],
            "principal_arn": detection.get("principal_arn"),
            "console_url": console_url,
            "suppression_reason": detection.get("suppression_reason"),
            "account_incomplete": detection.get("account_incomplete") or None,
            "incomplete_reason": detection.get("incomplete_reason"),
            "suppression_expires_at": (
                detection["suppression_expires_at"].isoformat()
                if detection.get("suppression_expires_at")
                else None
            ),
        },
    }
    result = _drop_none(finding)
    # JSON payloads are passed through verbatim (their own nulls included).
    if detection.get("evidence") is not None:
        result["evidences"] = [{"data": _json(detection["evidence"])}]
    for key in ("suggested_policy", "suggested_policy_verification"):
        if detection.get(key) is not None:
            result["unmapped"][key] = _json(detection[key])
    return result


def detection_findings(
    detections: Iterable[Detection], product_version: str
) -> Iterable[dict[str, Any]]:
    for detection in detections:
        if detection["status"] == "resolved" and detection.get("account_incomplete"):
            continue  # an incomplete account's detection is never closed on unreadable input
        yield detection_finding(detection, product_version)
