"""Live collection from a moto organization over real HTTP: layout, landing, pipeline, failures,
secrets and least privilege (every API call the collector makes is allowed by its policy)."""

from __future__ import annotations

import argparse
import csv
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import duckdb
import pytest
from botocore.awsrequest import AWSResponse

from pipelines.cli.collect import add_collect_parser
from pipelines.cli.pipeline import run_pipeline
from pipelines.defs.collect import CollectConfig, iam_snapshot_collected
from pipelines.lib.collect.collector import CollectionSummary, CollectOptions, collect
from pipelines.lib.land.quarantine import Quarantine
from pipelines.lib.land.snapshot import read_snapshot
from pipelines.lib.reference.csvs import REFERENCE_DIR
from tests.fixtures.moto_org import (
    MANAGEMENT_ACCOUNT,
    POLICY_MARKERS,
    REGIONS,
    ROLE_NAME,
    MotoOrg,
    build_moto_org,
    point_boto3_at,
)

ROOT = Path(__file__).resolve().parents[2]
POLICY_FILE = ROOT / "docs" / "collector-policy.json"
ASSUME_POLICY_FILE = ROOT / "docs" / "collector-assume-role-policy.json"
EXTERNAL_ID = "ciem-test-external-id"


@dataclass
class Run:
    org: MotoOrg
    snapshot: Path  # organization mode, both regions
    summary: CollectionSummary
    default_snapshot: Path  # the caller's account alone, every enabled region (the default)
    default_summary: CollectionSummary
    operations: set[tuple[str, str, str]] = field(default_factory=set)  # (prefix, signing, op)
    logs: list[str] = field(default_factory=list)
    assume_role_calls: list[dict[str, Any]] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)


class _ListHandler(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _recording_factory(run: Run, unreachable_id: str) -> Callable[..., boto3.Session]:
    """boto3.Session with hooks: record every operation, keep issued keys, refuse one account.

    moto's AssumeRole succeeds even when the role does not exist (moto/sts/models.py: "the role
    does not need to exist"), so the AccessDenied AWS returns for an account without the
    CiemReadOnly role is answered here, before the request is sent, as AWS would answer it.
    """

    def record(model: Any, **_: Any) -> None:
        service = model.service_model
        run.operations.add((service.endpoint_prefix, service.signing_name, model.name))

    def keep_assume_role_params(params: dict[str, Any], **_: Any) -> None:
        run.assume_role_calls.append(dict(params))

    def refuse_unreachable(params: dict[str, Any], **_: Any) -> Any:
        if unreachable_id in str(params.get("body")):
            error = {"Code": "AccessDenied", "Message": "not authorized to perform sts:AssumeRole"}
            return AWSResponse("", 403, {}, None), {"Error": error, "ResponseMetadata": {}}
        return None

    def keep_credentials(parsed: dict[str, Any], **_: Any) -> None:
        credentials = parsed.get("Credentials") or {}
        keys = ("AccessKeyId", "SecretAccessKey", "SessionToken")
        run.secrets |= {credentials[k] for k in keys if k in credentials}

    def factory(**kwargs: Any) -> boto3.Session:
        session = boto3.Session(**kwargs)
        session.events.register("before-call", record)
        session.events.register("provide-client-params.sts.AssumeRole", keep_assume_role_params)
        session.events.register("before-call.sts.AssumeRole", refuse_unreachable)
        session.events.register("after-call.sts.AssumeRole", keep_credentials)
        return session

    return factory


@pytest.fixture(scope="module")
def collected(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """The moto organization, collected once in organization mode over both regions."""
    with pytest.MonkeyPatch.context() as env:
        point_boto3_at(env, moto_endpoint, REGIONS[0])
        org = build_moto_org(moto_endpoint)
        folder = tmp_path_factory.mktemp("collected")
        snapshot, default_snapshot = folder / "organization-mode", folder / "default"
        run = Run(
            org=org,
            snapshot=snapshot,
            summary=CollectionSummary(snapshot, []),
            default_snapshot=default_snapshot,
            default_summary=CollectionSummary(default_snapshot, []),
        )
        factory = _recording_factory(run, org.unreachable_id)
        lines: list[str] = []
        handler = _ListHandler(lines)
        # The collector's own loggers at DEBUG; everything else (botocore…) at INFO, the level a
        # deployment logs at (botocore's DEBUG level dumps whole requests and responses).
        loggers = [logging.getLogger(), logging.getLogger("ciem")]
        levels = [logger.level for logger in loggers]
        for logger, level in zip(loggers, (logging.INFO, logging.DEBUG), strict=True):
            logger.addHandler(handler)
            logger.setLevel(level)
        try:
            options = CollectOptions(organization=True, regions=REGIONS, external_id=EXTERNAL_ID)
            run.summary = collect(snapshot, options, session_factory=factory)
            run.default_summary = collect(default_snapshot, session_factory=factory)
        finally:
            for logger, level in zip(loggers, levels, strict=True):
                logger.removeHandler(handler)
                logger.setLevel(level)
        run.logs = [*lines, run.summary.render(), run.default_summary.render()]
        yield run


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def _expected_files(org: MotoOrg) -> set[str]:
    files = {f"{acct}/{name}" for acct, fixture in org.accounts.items() for name in fixture.files}
    files |= {f"organization/{n}.json" for n in ("describe-organization", "list-accounts")}
    files.add("organization/list-roots.json")
    files |= {f"organization/parents/{c}.json" for c in org.all_account_ids | org.ou_ids}
    files |= {
        f"organization/{kind}/{p}.json" for kind in ("policies", "targets") for p in org.policy_ids
    }
    return files


def test_snapshot_holds_exactly_the_documented_files(collected: Run) -> None:
    assert _files(collected.snapshot) == _expected_files(collected.org)


def test_files_are_written_as_the_aws_cli_writes_them(collected: Run) -> None:
    account = collected.snapshot / MANAGEMENT_ACCOUNT
    gaad_text = (account / "iam" / "get-account-authorization-details.json").read_text()
    gaad = json.loads(gaad_text)
    assert gaad_text == json.dumps(gaad, indent=4, ensure_ascii=False) + "\n"
    assert set(gaad) == {"UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"}
    created = datetime.fromisoformat(gaad["UserDetailList"][0]["CreateDate"])
    assert created.tzinfo is not None and "T" in gaad["UserDetailList"][0]["CreateDate"]
    bucket = account / "s3" / "bucket-policies" / f"ciem-{MANAGEMENT_ACCOUNT}-data.json"
    assert json.loads(bucket.read_text())["Statement"][0]["Sid"] == POLICY_MARKERS[0]
    with (account / "iam" / "credential-report.csv").open() as handle:
        users = {row["user"] for row in csv.DictReader(handle)}
    assert users >= {"alice", "bob"}
    leftovers = [p for p in collected.snapshot.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_snapshot_lands_without_quarantine(collected: Run) -> None:
    quarantine = Quarantine(source="snapshot", partition=collected.snapshot.name)
    tables = read_snapshot(collected.snapshot, quarantine)
    assert quarantine.to_table().to_pylist() == []
    accounts = collected.org.accounts.values()

    def landed(table: str, *columns: str) -> set[tuple]:
        return {tuple(row[c] for c in columns) for row in tables[table].to_pylist()}

    assert landed("raw_iam_users", "account_id", "user_name") == {
        (a.account_id, u) for a in accounts for u in a.users
    }
    assert landed("raw_iam_roles", "account_id", "role_name") == {
        (a.account_id, r) for a in accounts for r in a.roles
    }
    assert landed("raw_ec2_instances", "account_id", "region") == {
        (a.account_id, r) for a in accounts for r in REGIONS
    }
    assert landed("raw_lambda_functions", "account_id", "function_name") == {
        (a.account_id, f"fn-{r}") for a in accounts for r in REGIONS
    }
    assert landed("raw_s3_bucket_policies", "account_id", "bucket") == {
        (a.account_id, f"ciem-{a.account_id}-data") for a in accounts
    }
    # A bucket's owner is known with or without a policy (issue 12 item 4).
    assert landed("raw_s3_buckets", "account_id", "bucket") == {
        (a.account_id, f"ciem-{a.account_id}-{kind}") for a in accounts for kind in ("data", "logs")
    }
    assert {p for (p,) in landed("raw_org_policies", "policy_id")} == collected.org.policy_ids
    assert {c for (c,) in landed("raw_org_parents", "child_id")} == (
        collected.org.all_account_ids | collected.org.ou_ids
    )


def test_unreachable_account_is_reported_and_skipped(collected: Run) -> None:
    org = collected.org
    statuses = {a.account_id: a.status for a in collected.summary.accounts}
    assert statuses == {**dict.fromkeys(org.accounts, "collected"), org.unreachable_id: "failed"}
    [failed] = collected.summary.failed
    assert failed.errors == [f"cannot assume role {ROLE_NAME}: AccessDenied"]
    assert not (collected.snapshot / org.unreachable_id).exists()
    rendered = collected.summary.render()
    assert f"{org.unreachable_id}: cannot assume role {ROLE_NAME}: AccessDenied" in rendered
    assert f"Collected {len(org.accounts)} of {len(org.all_account_ids)} account(s)" in rendered


def test_default_regions_are_every_enabled_region(collected: Run, aws_env: str) -> None:
    described = boto3.client("ec2").describe_regions()["Regions"]
    enabled = {r["RegionName"] for r in described if r["OptInStatus"] != "not-opted-in"}
    account = collected.default_snapshot / MANAGEMENT_ACCOUNT
    assert {p.parent.parent.name for p in account.glob("*/ec2/describe-instances.json")} == enabled
    [result] = collected.default_summary.accounts
    assert (result.status, set(result.regions)) == ("collected", enabled)
    assert not (collected.default_snapshot / "organization").exists()


def test_pipeline_runs_on_the_collected_snapshot(collected: Run, tmp_path: Path) -> None:
    cloudtrail = tmp_path / "cloudtrail"
    cloudtrail.mkdir()
    lake = tmp_path / "lake"
    run_pipeline(collected.snapshot, cloudtrail, datetime.now(UTC).date(), 15, lake)
    with duckdb.connect(str(lake / "warehouse" / "ciem.duckdb"), read_only=True) as con:
        principals = set(
            con.execute("select principal_type, principal_arn from principals").fetchall()
        )
        quarantined = con.execute("select count(*) from quarantine").fetchall()[0][0]
        admins = set(
            con.execute(
                "select resource_arn from detections where rule_id = 'admin-iam-user'"
            ).fetchall()
        )
    accounts = collected.org.accounts.values()
    expected = {
        ("user", f"arn:aws:iam::{a.account_id}:user/{u}") for a in accounts for u in a.users
    }
    expected |= {
        ("role", f"arn:aws:iam::{a.account_id}:role/{r}") for a in accounts for r in a.roles
    }
    expected |= {
        ("group", f"arn:aws:iam::{a.account_id}:group/{g}") for a in accounts for g in a.groups
    }
    assert principals == expected
    assert quarantined == 0
    assert admins == {(f"arn:aws:iam::{a.account_id}:user/alice",) for a in accounts}


def test_member_roles_are_assumed_by_name_with_the_external_id(collected: Run) -> None:
    members = {*collected.org.accounts, collected.org.unreachable_id} - {MANAGEMENT_ACCOUNT}
    assert sorted(collected.assume_role_calls, key=lambda c: c["RoleArn"]) == [
        {
            "RoleArn": f"arn:aws:iam::{account_id}:role/{ROLE_NAME}",
            "RoleSessionName": "ciem-collector",
            "ExternalId": EXTERNAL_ID,
        }
        for account_id in sorted(members)
    ]


def test_logs_hold_no_credentials_and_no_policy_text(collected: Run) -> None:
    assert len(collected.secrets) >= 6  # two member accounts' assumed-role keys and tokens
    text = "\n".join(collected.logs)
    assert "collecting account" in text
    leaked = {s for s in collected.secrets if s in text} | {m for m in POLICY_MARKERS if m in text}
    assert leaked == set()
    assert '"Statement"' not in text


def _reference_rows(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open() as handle:
        return list(csv.DictReader(handle))


def iam_actions(operations: set[tuple[str, str, str]]) -> set[str]:
    """The IAM action(s) of each operation, with the project's own event -> action map.

    eventSource is `<endpointPrefix>.amazonaws.com`; `event_action_overrides.csv` renames
    (s3 ListBuckets -> s3:ListAllMyBuckets), `events_without_iam_action.csv` drops
    (sts GetCallerIdentity), `eventsource_aliases.csv` maps the prefix, else `<prefix>:<op>`.
    """
    overrides: dict[tuple[str, str], set[str]] = {}
    for row in _reference_rows("event_action_overrides.csv"):
        overrides.setdefault((row["event_source"], row["event_name"]), set()).add(row["iam_action"])
    exempt = {
        (r["event_source"], r["event_name"])
        for r in _reference_rows("events_without_iam_action.csv")
    }
    aliases = {
        r["event_source"]: r["iam_prefix"] for r in _reference_rows("eventsource_aliases.csv")
    }
    actions: set[str] = set()
    for endpoint_prefix, _signing_name, operation in operations:
        source = f"{endpoint_prefix}.amazonaws.com"
        if (source, operation) in exempt:
            continue
        default = {f"{aliases.get(source, endpoint_prefix)}:{operation}"}
        actions |= overrides.get((source, operation), default)
    return actions


def _granted(policy_file: Path) -> list[str]:
    patterns: list[str] = []
    for statement in json.loads(policy_file.read_text())["Statement"]:
        assert statement["Effect"] == "Allow"
        action = statement["Action"]
        patterns += [action] if isinstance(action, str) else action
    return patterns


def _allowed(action: str, patterns: list[str]) -> bool:
    return any(fnmatchcase(action.lower(), p.lower()) for p in patterns)


def test_every_call_is_allowed_by_the_collector_policy(collected: Run) -> None:
    from pipelines.lib.reference.catalog import load_catalog

    catalog = {row["action"] for row in load_catalog().select(["action"]).to_pylist()}
    actions = iam_actions(collected.operations)
    assert {a for a in actions if a.lower() not in catalog} == set()
    assume = {a for a in actions if a == "sts:AssumeRole"}
    assert assume == {"sts:AssumeRole"}
    assert _allowed("sts:AssumeRole", _granted(ASSUME_POLICY_FILE))
    granted = _granted(POLICY_FILE)
    assert {a for a in actions - assume if not _allowed(a, granted)} == set()
    # ...and the policy grants nothing the collector does not call.
    assert {p.lower() for p in granted} == {a.lower() for a in actions - assume}


def test_ciem_collect_single_account(
    collected: Run, aws_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser(prog="ciem")
    add_collect_parser(parser.add_subparsers(dest="command", required=True))
    snapshot = tmp_path / "single"
    args = parser.parse_args(["collect", "--snapshot", str(snapshot), "--regions", REGIONS[0]])
    args.func(args)
    out = capsys.readouterr().out
    assert f"Collected 1 of 1 account(s) into {snapshot}" in out
    management = collected.org.accounts[MANAGEMENT_ACCOUNT].files
    assert _files(snapshot) == {
        f"{MANAGEMENT_ACCOUNT}/{f}" for f in management if not f.startswith(REGIONS[1])
    }


def test_dagster_asset_collects_into_a_dated_folder(
    collected: Run, aws_env: str, tmp_path: Path
) -> None:
    config = CollectConfig(snapshot_root=str(tmp_path), regions=[REGIONS[0]])
    result = dg.materialize(
        [iam_snapshot_collected],
        run_config={"ops": {"iam_snapshot_collected": {"config": config.model_dump()}}},
    )
    assert result.success
    [materialization] = result.asset_materializations_for_node("iam_snapshot_collected")
    folder = tmp_path / datetime.now(UTC).date().isoformat()
    assert materialization.metadata["snapshot_dir"].value == str(folder)
    assert materialization.metadata["accounts_collected"].value == 1
    assert (folder / MANAGEMENT_ACCOUNT / "iam" / "credential-report.csv").is_file()


def test_dagster_asset_is_skipped_when_not_configured(aws_env: str) -> None:
    config = CollectConfig(snapshot_root="")
    result = dg.materialize(
        [iam_snapshot_collected],
        run_config={"ops": {"iam_snapshot_collected": {"config": config.model_dump()}}},
    )
    assert result.success
    assert result.asset_materializations_for_node("iam_snapshot_collected") == []
