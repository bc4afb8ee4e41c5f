"""No secrets at rest: a moto organization with planted secrets (Lambda environment variable
values, a Secrets Manager secret value, EC2 user data, an SSM SecureString) is collected over real
HTTP; no file the collector writes holds a planted value or an assumed-role credential, the
variable names stay, the redacted `list-functions.json` still lands, secret values are never
read, and every field botocore marks sensitive in what the collector receives is redacted or
knowingly kept."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.model import Shape

from pipelines.lib.collect.collector import CollectionSummary, CollectOptions, collect
from pipelines.lib.collect.redact import REDACTED, REDACTED_FIELDS
from pipelines.lib.land.quarantine import Quarantine
from pipelines.lib.land.snapshot import read_snapshot
from tests.fixtures.moto_org import (
    MANAGEMENT_ACCOUNT,
    REGIONS,
    MotoOrg,
    build_moto_org,
    member_session,
    point_boto3_at,
)

PLANTED = "ciem-planted-secret"  # every planted value contains it
ENVIRONMENT = {  # the variable names must stay, the values must not
    "DB_PASSWORD": f"{PLANTED}-db-password",
    "API_TOKEN": f"{PLANTED}-api-token",
    "EMPTY": "",
}
SECRET_STRING = f"{PLANTED}-secretsmanager"
USER_DATA = f"#!/bin/sh\nexport DB_PASSWORD={PLANTED}-user-data\n"
SSM_VALUE = f"{PLANTED}-ssm"
# Fields botocore marks sensitive in responses the collector receives that it keeps on purpose:
# (service, operation) -> paths in REDACTED_FIELDS notation.
KEPT_SENSITIVE = {
    # Used to build the member account's session, never written (the scan below checks it).
    ("sts", "AssumeRole"): {"Credentials.SecretAccessKey"},
    # Organization metadata, landed in raw_org_accounts: identifying, not secret.
    ("organizations", "DescribeOrganization"): {"Organization.MasterAccountEmail"},
    ("organizations", "ListAccounts"): {"Accounts.*.Email", "Accounts.*.Name"},
}


@dataclass
class Run:
    org: MotoOrg
    snapshot: Path
    summary: CollectionSummary
    operations: set[tuple[str, str]] = field(default_factory=set)  # (service, operation)
    credentials: set[str] = field(default_factory=set)  # assumed-role keys and tokens


def _plant(session: boto3.Session) -> None:
    """Planted secrets in one account, in both regions."""
    for region in REGIONS:
        session.client("lambda", region_name=region).update_function_configuration(
            FunctionName=f"fn-{region}", Environment={"Variables": ENVIRONMENT}
        )
    east, west = REGIONS
    session.client("ec2", region_name=east).run_instances(
        ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.micro", UserData=USER_DATA
    )
    session.client("secretsmanager", region_name=west).put_secret_value(
        SecretId="ciem/db", SecretString=SECRET_STRING
    )
    session.client("ssm", region_name=east).put_parameter(
        Name="/ciem/db-password", Value=SSM_VALUE, Type="SecureString"
    )


def _factory(run: Run) -> Any:
    def record(model: Any, **_: Any) -> None:
        run.operations.add((model.service_model.service_name, model.name))

    def keep_credentials(parsed: dict[str, Any], **_: Any) -> None:
        credentials = parsed.get("Credentials") or {}
        keys = ("AccessKeyId", "SecretAccessKey", "SessionToken")
        run.credentials |= {credentials[k] for k in keys if k in credentials}

    def factory(**kwargs: Any) -> boto3.Session:
        session = boto3.Session(**kwargs)
        session.events.register("before-call", record)
        session.events.register("after-call.sts.AssumeRole", keep_credentials)
        return session

    return factory


@pytest.fixture(scope="module")
def collected(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    with pytest.MonkeyPatch.context() as env:
        point_boto3_at(env, moto_endpoint, REGIONS[0])
        org = build_moto_org(moto_endpoint)
        management = boto3.Session(region_name=REGIONS[0])
        for account_id in org.accounts:
            member = account_id != MANAGEMENT_ACCOUNT
            _plant(member_session(management, account_id) if member else management)
        snapshot = tmp_path_factory.mktemp("secrets") / "snapshot"
        run = Run(org=org, snapshot=snapshot, summary=CollectionSummary(snapshot, []))
        options = CollectOptions(organization=True, regions=REGIONS)
        run.summary = collect(snapshot, options, session_factory=_factory(run))
        yield run


def _written(folder: Path) -> dict[str, bytes]:
    """Every file under the snapshot, hidden and temporary ones included."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_the_planted_secrets_are_there_to_be_found(collected: Run) -> None:
    """The fixture plants what the scan looks for (a scan of nothing would pass)."""
    lambda_ = boto3.client("lambda", region_name=REGIONS[0])
    [function] = [
        f for f in lambda_.list_functions()["Functions"] if f["FunctionName"] == "fn-us-east-1"
    ]
    assert function["Environment"]["Variables"] == ENVIRONMENT
    assert len(collected.credentials) >= 6  # two member accounts' assumed-role keys and tokens
    statuses = {a.account_id: a.status for a in collected.summary.accounts}
    assert {statuses[a] for a in collected.org.accounts} == {"collected"}


def test_no_file_holds_a_planted_secret_or_a_credential(collected: Run) -> None:
    files = _written(collected.snapshot)
    assert len(files) > 20
    encoded = base64.b64encode(USER_DATA.encode()).decode()
    needles = {PLANTED, encoded, *collected.credentials}
    leaks = {(path, n) for path, data in files.items() for n in needles if n.encode() in data}
    assert leaks == set()


def test_variable_names_stay_with_the_marker_as_value(collected: Run) -> None:
    for account_id in collected.org.accounts:
        for region in REGIONS:
            path = collected.snapshot / account_id / region / "lambda" / "list-functions.json"
            [function] = json.loads(path.read_text())["Functions"]
            assert function["FunctionName"] == f"fn-{region}"
            assert function["Environment"] == {"Variables": dict.fromkeys(ENVIRONMENT, REDACTED)}, (
                account_id,
                region,
            )


def test_the_redacted_functions_land(collected: Run) -> None:
    quarantine = Quarantine(source="snapshot", partition=collected.snapshot.name)
    tables = read_snapshot(collected.snapshot, quarantine)
    assert quarantine.to_table().to_pylist() == []
    landed = {
        (row["account_id"], row["region"], row["function_name"])
        for row in tables["raw_lambda_functions"].to_pylist()
    }
    assert landed == {(a, r, f"fn-{r}") for a in collected.org.accounts for r in REGIONS}


def test_secret_values_are_never_read(collected: Run) -> None:
    services = {service for service, _ in collected.operations}
    assert {"lambda", "secretsmanager", "ec2"} <= services
    assert services.isdisjoint({"ssm", "cloudformation"})
    never = {
        ("secretsmanager", "GetSecretValue"),
        ("secretsmanager", "BatchGetSecretValue"),
        ("ec2", "DescribeInstanceAttribute"),
        ("ec2", "DescribeLaunchTemplateVersions"),
        ("lambda", "GetFunction"),
        ("lambda", "GetFunctionConfiguration"),
    }
    assert collected.operations & never == set()


def _sensitive(
    shape: Shape, path: tuple[str, ...] = (), seen: frozenset = frozenset()
) -> Iterator[str]:
    """Paths (REDACTED_FIELDS notation) of the members botocore marks sensitive in a shape."""
    if shape.metadata.get("sensitive"):
        yield ".".join(path)
    if shape.name in seen:
        return
    seen = seen | {shape.name}
    if shape.type_name == "structure":
        for key, member in shape.members.items():
            yield from _sensitive(member, (*path, key), seen)
    elif shape.type_name == "list":
        yield from _sensitive(shape.member, (*path, "*"), seen)
    elif shape.type_name == "map":
        yield from _sensitive(shape.value, (*path, "*"), seen)


def test_every_sensitive_field_of_what_the_collector_receives_is_redacted_or_kept(
    collected: Run,
) -> None:
    """Driven by the calls the collector made: a new call returning a secret fails here."""
    session = botocore.session.get_session()
    unhandled = set()
    for service, operation in collected.operations:
        output = session.get_service_model(service).operation_model(operation).output_shape
        if output is None:
            continue
        handled = set(REDACTED_FIELDS.get((service, operation), ()))
        handled |= KEPT_SENSITIVE.get((service, operation), set())
        for path in _sensitive(output):
            # A sensitive map is handled by redacting its values (its keys, the names, stay).
            if path not in handled and f"{path}.*" not in handled:
                unhandled.add((service, operation, path))
    assert unhandled == set()
    assert ("lambda", "ListFunctions") in collected.operations
