"""The nightly loop for three consecutive nights, as a deployment runs it (issue 14): a moto
organization collected live every night and a moto CloudTrail bucket that receives each day's
delivery files, then `ciem_nightly` for the day (collect + land the CloudTrail day) and
`ciem_models` for the same as-of day (what the sensor `ciem_models_after_landing` requests), on
the definitions of `pipelines/defs/location.py`, with a webhook on loopback.

- Night 1 is the baseline: nothing is sent.
- Night 2: a role of the dev account gains AdministratorAccess. Exactly one notification arrives
  (admin-iam-role, opened) and `detection_timeline` shows exactly that change that night.
- Night 3: the prod account's eu-west-1 trail delivers nothing. `cloudtrail_coverage` shows that
  day missing (and nothing else), the rule cloudtrail-coverage-gap reports prod, and no "unused"
  verdict appears in prod: what was unused there on night 2 is unobservable (`cloudtrail_gap`),
  while the other accounts' verdicts are those of night 2.

The window is two days (`window_days`), so each night reads the day before too; the day before
night 1 is landed first.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import duckdb
import pytest

import pipelines.lib.findings.notify as notify_module
from pipelines.defs.event_map import ref_event_action_map
from pipelines.defs.landing import ref_iam_actions, reference_tables
from pipelines.defs.location import build_definitions
from pipelines.defs.models import ref_suppressions
from pipelines.defs.resources import CiemSettings
from pipelines.lib.warehouse.daily import DAILY_MODELS
from tests.fixtures.moto_org import (
    ADMIN_POLICY,
    REGIONS,
    MotoOrg,
    build_moto_org,
    member_session,
    point_boto3_at,
)
from tests.fixtures.notify_server import Webhook, webhook_server

BUCKET = "ciem-three-nights-trail"
EXTERNAL_ID = "ciem-example-external-id"  # docs/collector-trust-policy.json
WINDOW_DAYS = 2
# Yesterday is the last night: the partitions end there, as a rolling deployment's would.
NIGHTS = tuple(date.today() - timedelta(days=n) for n in (3, 2, 1))
DAY_BEFORE = NIGHTS[0] - timedelta(days=1)
SILENT_REGION = REGIONS[1]  # eu-west-1 of the prod account, night 3
USAGE_RULES = (
    "inactive-identity",
    "inactive-admin",
    "large-permissions-gap",
    "unused-role",
    "unused-password",
    "unused-access-key",
)


@dataclass
class Nights:
    org: MotoOrg
    lake: Path
    hook: Webhook
    prod: str
    dev: str
    sent_by_night: dict[date, list[dict[str, Any]]] = field(default_factory=dict)
    tables: dict[date, dict[str, set[tuple]]] = field(default_factory=dict)


def _event(account: str, region: str, user: str, moment: datetime, n: int) -> dict[str, Any]:
    return {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": f"AIDA{user.upper()}{account}",
            "arn": f"arn:aws:iam::{account}:user/{user}",
            "accountId": account,
            "userName": user,
        },
        "eventTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "ec2.amazonaws.com",
        "eventName": "DescribeInstances",
        "awsRegion": region,
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": None,
        "responseElements": None,
        "eventID": f"{account}-{region}-{moment:%Y%m%d%H%M}-{n}",
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }


def deliver_day(org: MotoOrg, day: date, silent: set[tuple[str, str]]) -> None:
    """The day's delivery files of every account and region (except the `silent` ones): one at
    06:05 (bob's call at 06:00) and one at 23:55 (alice's at 23:50), so a covered day has no
    silent hour at either end."""
    s3 = boto3.client("s3")
    for account in sorted(org.all_account_ids):
        for region in REGIONS:
            if (account, region) in silent:
                continue
            for n, (user, hour, minute) in enumerate((("bob", 6, 0), ("alice", 23, 50))):
                moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
                delivered = moment + timedelta(minutes=5)
                key = (
                    f"AWSLogs/{org.organization_id}/{account}/CloudTrail/{region}/"
                    f"{day:%Y/%m/%d}/{account}_CloudTrail_{region}_{delivered:%Y%m%dT%H%MZ}_"
                    f"n{n}.json.gz"
                )
                records = {"Records": [_event(account, region, user, moment, n)]}
                s3.put_object(
                    Bucket=BUCKET, Key=key, Body=gzip.compress(json.dumps(records).encode())
                )


def _settings(lake: Path, snapshots: Path, hook: Webhook) -> CiemSettings:
    return CiemSettings(
        cloudtrail_dir=f"s3://{BUCKET}/",
        snapshot_root=str(snapshots),
        lake_dir=str(lake),
        window_days=WINDOW_DAYS,
        notify_webhook=hook.url,
        notify_webhook_format="json",
    )


def run_night(defs: dg.Definitions, instance: dg.DagsterInstance, day: date, snapshots: Path):
    """`ciem_nightly` for the day (collect, land), then `ciem_models` for it as the sensor asks."""
    collect = {
        "snapshot_root": str(snapshots),
        "organization": True,
        "regions": list(REGIONS),
        "external_id": EXTERNAL_ID,
    }
    landed = defs.resolve_job_def("ciem_nightly").execute_in_process(
        partition_key=day.isoformat(),
        instance=instance,
        run_config={"ops": {"iam_snapshot_collected": {"config": collect}}},
    )
    assert landed.success
    sensor = defs.resolve_sensor_def("ciem_models_after_landing")
    assert sensor.job_name == "ciem_models"
    modelled = defs.resolve_job_def("ciem_models").execute_in_process(
        partition_key=day.isoformat(), instance=instance
    )
    assert modelled.success


def _rows(lake: Path, sql: str) -> set[tuple]:
    with duckdb.connect(str(lake / "warehouse" / "ciem.duckdb"), read_only=True) as con:
        return set(con.execute(sql).fetchall())


def _tables(lake: Path, day: date) -> dict[str, set[tuple]]:
    return {
        "verdicts": _rows(
            lake,
            "select account_id, principal_arn, action, usage_status, unobservable_reason "
            "from permission_insights where usage_status != 'used'",
        ),
        "gaps": _rows(
            lake,
            "select account_id, region, day, coverage from cloudtrail_coverage "
            "where coverage != 'covered'",
        ),
        "detections": _rows(lake, "select rule_id, account_id, resource_arn from detections"),
        "timeline_changes": _rows(
            lake,
            "select detection_id, event_type from detection_timeline "
            f"where event_at = '{day}' and event_type in ('opened', 'reopened', "
            "'severity_changed')",
        ),
        "coverage_evidence": _rows(
            lake,
            "select account_id, evidence from detections where rule_id = 'cloudtrail-coverage-gap'",
        ),
    }


@pytest.fixture(scope="module")
def nights(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nights]:
    base = tmp_path_factory.mktemp("three-nights")
    lake, snapshots = base / "lake", base / "snapshots"
    with pytest.MonkeyPatch.context() as env, webhook_server() as hook:
        point_boto3_at(env, moto_endpoint, REGIONS[0])
        env.setattr(notify_module, "BACKOFF_S", 0.01)
        # The partitions of a live (S3) source: from the first landed day to the night's.
        env.setenv("CIEM_CLOUDTRAIL_START", DAY_BEFORE.isoformat())
        env.setenv("CIEM_LATEST_DAY", NIGHTS[-1].isoformat())
        org = build_moto_org(moto_endpoint)
        names = {fixture.name: fixture.account_id for fixture in org.accounts.values()}
        prod, dev = names["prod"], names["dev"]
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        # The dev account's ops role: read-only until night 2, trusted by a service nobody passes.
        dev_iam = _member_iam(dev)
        trust = {"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}}
        dev_iam.create_role(
            RoleName="ops-role",
            AssumeRolePolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{**trust, "Action": "sts:AssumeRole"}]}
            ),
        )
        result = Nights(org=org, lake=lake, hook=hook, prod=prod, dev=dev)
        settings = _settings(lake, snapshots, hook)
        defs = build_definitions(settings, collect=True)
        with dg.DagsterInstance.ephemeral() as instance:
            references = dg.materialize(
                [ref_iam_actions, reference_tables, ref_event_action_map, ref_suppressions],
                resources={"ciem": settings},
                instance=instance,
            )
            assert references.success
            # The day before night 1 only lands (night 1 collects the first snapshot).
            deliver_day(org, DAY_BEFORE, set())
            landed = defs.resolve_job_def("ciem_nightly").execute_in_process(
                partition_key=DAY_BEFORE.isoformat(),
                instance=instance,
                asset_selection=[dg.AssetKey(k) for k in ("raw_cloudtrail_events", *DAILY_MODELS)],
            )
            assert landed.success
            for night, day in enumerate(NIGHTS, start=1):
                if night == 2:
                    dev_iam.attach_role_policy(RoleName="ops-role", PolicyArn=ADMIN_POLICY)
                silent = {(prod, SILENT_REGION)} if night == 3 else set()
                deliver_day(org, day, silent)
                before = len(hook.requests)
                run_night(defs, instance, day, snapshots)
                result.sent_by_night[day] = [r["body"] for r in hook.requests[before:]]
                result.tables[day] = _tables(lake, day)
        yield result


def _member_iam(account: str) -> Any:
    return member_session(boto3.Session(region_name=REGIONS[0]), account).client("iam")


def _sent(bodies: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {
        (n["detection_id"], n["change"], n["rule_id"]) for b in bodies for n in b["notifications"]
    }


def test_the_first_night_is_the_baseline(nights: Nights) -> None:
    assert nights.sent_by_night[NIGHTS[0]] == []
    assert nights.tables[NIGHTS[0]]["gaps"] == set()


def test_night_two_sends_exactly_the_new_admin_role_once(nights: Nights) -> None:
    day = NIGHTS[1]
    [body] = nights.sent_by_night[day]
    [(detection_id, change, rule_id)] = _sent([body])
    assert (change, rule_id) == ("opened", "admin-iam-role")
    [notification] = body["notifications"]
    assert notification["resource_arn"] == f"arn:aws:iam::{nights.dev}:role/ops-role"
    assert nights.tables[day]["timeline_changes"] == {(detection_id, "opened")}
    assert ("admin-iam-role", nights.dev, notification["resource_arn"]) in nights.tables[day][
        "detections"
    ]


def test_night_three_shows_the_silent_region_and_no_new_unused_verdict(nights: Nights) -> None:
    second, third = (nights.tables[d] for d in NIGHTS[1:])
    assert third["gaps"] == {(nights.prod, SILENT_REGION, NIGHTS[2], "missing")}
    [(account, evidence)] = third["coverage_evidence"]
    assert account == nights.prod
    [region] = json.loads(evidence)["regions"]
    assert region["region"] == SILENT_REGION
    assert region["missing_days"] == [NIGHTS[2].isoformat()]
    assert region["partial_days"] == []

    def verdicts(tables: dict[str, set[tuple]], account: str) -> set[tuple]:
        return {v[1:] for v in tables["verdicts"] if v[0] == account}

    unused_before = {v[:2] for v in verdicts(second, nights.prod) if v[2] == "unused"}
    assert unused_before  # the prod principals had unused permissions on night 2
    assert {v[2] for v in verdicts(third, nights.prod)} <= {"unobservable"}
    gap = {v[:2] for v in verdicts(third, nights.prod) if v[3] == "cloudtrail_gap"}
    assert unused_before <= gap
    # Elsewhere the verdicts are night 2's: the gap is the silent account's only.
    others = nights.org.all_account_ids - {nights.prod}
    for account in others:
        assert verdicts(third, account) == verdicts(second, account)
    assert {v for a in others for v in verdicts(third, a) if v[2] == "unused"}
    usage = {d for d in third["detections"] if d[0] in USAGE_RULES and d[1] == nights.prod}
    assert usage == set()
    assert ("cloudtrail-coverage-gap", nights.prod) in {d[:2] for d in third["detections"]}
