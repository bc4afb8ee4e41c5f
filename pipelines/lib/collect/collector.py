"""Collect layer: read-only boto3 calls that write an account's or organization's snapshot folder.

`get_*` functions are dumb API calls (all pages merged the way the AWS CLI merges them);
`write_*` functions put their results in exactly the snapshot layout `pipelines.lib.land.snapshot`
reads (README, "Inputs"); `collect` runs them for one account or for every account of an
organization (assuming a read-only role in each member account, a bounded worker pool) and
returns a `CollectionSummary`. Log lines carry ids, counts and error codes only: never
credentials, never policy documents, never the credential report. Secret-bearing values
(`REDACTED_FIELDS`: Lambda environment variable values...) are redacted as responses arrive.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger("ciem.collector")

DEFAULT_ROLE_NAME = "CiemReadOnly"
# Region for regional calls made before any region is chosen (DescribeRegions) when the AWS
# configuration names none; global services (IAM, Organizations) ignore it.
FALLBACK_REGION = "us-east-1"
DEFAULT_WORKERS = 4
ROLE_SESSION_NAME = "ciem-collector"
# Throttling and transient errors are retried with backoff by botocore itself; "adaptive" also
# rate-limits the client once AWS starts throttling.
# https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html
CLIENT_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 10}, user_agent_extra="ciem-collector"
)
# Organizations policy types whose documents the evaluation logic uses.
ORG_POLICY_LABELS = {"SERVICE_CONTROL_POLICY": "SCPs", "RESOURCE_CONTROL_POLICY": "RCPs"}
ORG_POLICY_TYPES = tuple(ORG_POLICY_LABELS)
# describe-regions OptInStatus values of regions an account can call.
ENABLED_OPT_IN = frozenset({"opt-in-not-required", "opted-in"})
# Error codes that mean "this region is not enabled for this account / these credentials".
REGION_DISABLED_CODES = frozenset(
    {"AuthFailure", "UnrecognizedClientException", "InvalidClientTokenId", "OptInRequired"}
)
# The first call (who am I?) fails fast on a wrong endpoint or missing credentials.
IDENTITY_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 2},
    connect_timeout=10,
    user_agent_extra="ciem-collector",
)
CREDENTIAL_REPORT_TIMEOUT_S = 300.0

SessionFactory = Callable[..., boto3.Session]


class CollectError(RuntimeError):
    """A collection that cannot start or produced nothing: one line for the user."""

    def __init__(self, message: str, summary: CollectionSummary | None = None) -> None:
        super().__init__(message)
        self.summary = summary


# ---------------------------------------------------------------------------------------------
# summary


@dataclass
class AccountResult:
    """What was collected from one account, and what failed."""

    account_id: str
    name: str | None = None
    status: str = "pending"  # collected | partial | failed | skipped
    regions: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, what: str, count: int) -> None:
        self.counts[what] = self.counts.get(what, 0) + count


@dataclass
class OrganizationResult:
    """What was collected from the management (or delegated administrator) account."""

    organization_id: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def describe(self) -> str:
        parts = ", ".join(f"{count} {what}" for what, count in self.counts.items())
        return f"Organization {self.organization_id or '?'}: {parts or 'nothing'}"


@dataclass
class CollectionSummary:
    """The run summary: one entry per account, plus the organization part in organization mode."""

    snapshot_dir: Path
    accounts: list[AccountResult]
    organization: OrganizationResult | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> list[AccountResult]:
        return [a for a in self.accounts if a.status == "failed"]

    @property
    def collected(self) -> list[AccountResult]:
        return [a for a in self.accounts if a.status in ("collected", "partial")]

    def render(self) -> str:
        """The summary as the CLI prints it (no secrets, no policy contents)."""
        columns = ("users", "groups", "roles", "policies", "instances", "functions")
        head = (
            f"  {'account':<14} {'name':<16} {'status':<10} "
            + " ".join(f"{c:>9}" for c in columns)
            + f" {'resource-policies':>17} {'regions':>7}"
        )
        lines = [
            f"Collected {len(self.collected)} of {len(self.accounts)} account(s) into "
            f"{self.snapshot_dir} in {self.seconds:.1f} s",
            head,
        ]
        for account in self.accounts:
            landed = account.status in ("collected", "partial")

            def cell(value: int, width: int, landed: bool = landed) -> str:
                return f"{value if landed else '-':>{width}}"

            lines.append(
                f"  {account.account_id:<14} {(account.name or '-')[:16]:<16} "
                f"{account.status:<10} "
                + " ".join(cell(account.counts.get(c, 0), 9) for c in columns)
                + f" {cell(account.counts.get('resource-policies', 0), 17)}"
                + f" {cell(len(account.regions), 7)}"
            )
        if self.organization is not None:
            lines.append(f"\n{self.organization.describe()}")
            lines.extend(f"  ✗ organization: {error}" for error in self.organization.errors)
        problems = [(a, e) for a in self.accounts for e in a.errors]
        if problems:
            lines.append("\nProblems (failed and skipped accounts, and steps of partial ones):")
            lines.extend(f"  ✗ {a.account_id}: {error}" for a, error in problems)
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# secrets: dropped from every response as it arrives, before anything reads or writes it

REDACTED = "<redacted by ciem>"
# Secret-bearing fields per API (botocore service, operation): a key path, `*` for every list item
# or object value; the value at its end becomes REDACTED (keys and JSON shape stay). These are the
# fields botocore marks "sensitive" in the responses received, except assumed-role credentials
# (memory only) and account names and emails (landed). Never called: GetSecretValue, SSM,
# CloudFormation, EC2 user data attributes.
REDACTED_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("lambda", "ListFunctions"): (
        "Functions.*.Environment.Variables.*",
        "Functions.*.Environment.Error.Message",  # may echo a value that could not be applied
        "Functions.*.ImageConfigResponse.Error.Message",
        "Functions.*.RuntimeVersionConfig.Error.Message",
    ),
}


def redact(doc: Any, paths: Iterable[str]) -> int:
    """Replace the value at each path of `doc` by REDACTED, in place; returns how many. Missing
    keys and nodes of unexpected types are skipped; nulls stay; an object or list is replaced."""
    return sum(_redact(doc, path.split(".")) for path in paths)


def _redact(node: Any, keys: list[str]) -> int:
    key, rest = keys[0], keys[1:]
    if key == "*" and isinstance(node, dict | list):
        slots: list[Any] = list(node) if isinstance(node, dict) else list(range(len(node)))
    else:
        slots = [key] if key != "*" and isinstance(node, dict) and key in node else []
    if rest:
        return sum(_redact(node[slot], rest) for slot in slots)
    hits = [slot for slot in slots if node[slot] is not None]
    for slot in hits:
        node[slot] = REDACTED
    return len(hits)


def _redact_response(parsed: Any, model: Any, **_: Any) -> None:
    """botocore `after-call` handler: redacts each response (each page) before boto3 returns it."""
    paths = REDACTED_FIELDS.get((model.service_model.service_name, model.name))
    if paths and isinstance(parsed, dict):
        redact(parsed, paths)


def make_client(session: Any, service: str, region: str, config: Config = CLIENT_CONFIG) -> Any:
    """Every client the collector uses: its responses are redacted as they arrive."""
    client = session.client(service, region_name=region, config=config)
    client.meta.events.register("after-call", _redact_response)
    return client


# ---------------------------------------------------------------------------------------------
# writing files (atomic, formatted like `aws ... --output json`)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        # botocore parses AWS timestamps as aware datetimes; the CLI prints them ISO 8601.
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


def cli_json(doc: dict[str, Any]) -> str:
    """A response as `aws ... --output json` prints it: indent 4, no ResponseMetadata."""
    body = {key: value for key, value in doc.items() if key != "ResponseMetadata"}
    return json.dumps(body, indent=4, ensure_ascii=False, default=_json_default) + "\n"


def write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically: a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, doc: dict[str, Any]) -> None:
    write_bytes(path, cli_json(doc).encode("utf-8"))


def write_policy_text(path: Path, policy: str) -> None:
    """A resource policy as `--query Policy --output text` prints it (the JSON text verbatim)."""
    write_bytes(path, (policy.rstrip("\n") + "\n").encode("utf-8"))


def safe_file_name(name: str) -> str:
    """A resource name usable as a file name: percent-encoded except letters, digits, `_.-~`.

    Bucket, queue, topic and function names and key ids are unchanged; a secret named
    `prod/db` becomes `prod%2Fdb`.
    """
    return quote(name, safe="")


# ---------------------------------------------------------------------------------------------
# get_*: dumb API calls


def _full(client: Any, operation: str, **kwargs: Any) -> dict[str, Any]:
    """Every page of a paginated operation merged into one response, as the AWS CLI does."""
    result = client.get_paginator(operation).paginate(**kwargs).build_full_result()
    result.pop("ResponseMetadata", None)
    return result


def _error_code(err: ClientError) -> str:
    return err.response.get("Error", {}).get("Code", "Unknown")


def get_caller_account(sts: Any) -> tuple[str, str]:
    """(account id, partition) of the credentials in use."""
    identity = sts.get_caller_identity()
    return identity["Account"], identity["Arn"].split(":")[1]


def get_account_authorization_details(iam: Any) -> dict[str, Any]:
    # No Filter: every entity type (users, groups, roles, local and AWS-managed policies), as
    # `aws iam get-account-authorization-details` without --filter returns them.
    return _full(iam, "get_account_authorization_details")


def get_policies_by_arn(iam: Any) -> dict[str, dict[str, Any]]:
    policies = _full(iam, "list_policies", Scope="All").get("Policies", [])
    return {policy["Arn"]: policy for policy in policies}


def complete_policy_names(doc: dict[str, Any], iam: Any) -> int:
    """Fill PolicyName / PolicyId that a GetAccountAuthorizationDetails response left out.

    AWS always returns both; moto 5.2.5 omits them (REFERENCE-DATA.md, "moto gaps"), and the
    snapshot reader requires them. Only when some are missing, the values come from
    iam:ListPolicies (same ARNs); returns how many policies were completed.
    """
    missing = [p for p in doc.get("Policies", []) if "PolicyName" not in p or "PolicyId" not in p]
    if not missing:
        return 0
    listed = get_policies_by_arn(iam)
    for policy in missing:
        known = listed.get(policy["Arn"], {})
        for key in ("PolicyName", "PolicyId"):
            if key not in policy and key in known:
                policy[key] = known[key]
    return len(missing)


def get_credential_report(
    iam: Any, timeout_s: float = CREDENTIAL_REPORT_TIMEOUT_S, sleep: Callable = time.sleep
) -> bytes:
    """Generate the credential report, wait for it, fetch it (boto3 base64-decodes Content)."""
    deadline = time.monotonic() + timeout_s
    delay = 0.25  # a report usually takes seconds; poll often at first, then back off
    while iam.generate_credential_report()["State"] != "COMPLETE":
        if time.monotonic() > deadline:
            raise TimeoutError(f"credential report not ready after {timeout_s:.0f} s")
        sleep(delay)
        delay = min(delay * 2, 10.0)
    return iam.get_credential_report()["Content"]


def get_enabled_regions(ec2: Any) -> list[str]:
    regions = ec2.describe_regions()["Regions"]
    return sorted(r["RegionName"] for r in regions if r.get("OptInStatus") in ENABLED_OPT_IN)


def get_instances(ec2: Any) -> dict[str, Any]:
    return _full(ec2, "describe_instances")


def get_functions(lambda_: Any) -> dict[str, Any]:
    return _full(lambda_, "list_functions")


def get_function_policy(lambda_: Any, function_name: str) -> str | None:
    try:
        return lambda_.get_policy(FunctionName=function_name)["Policy"]
    except ClientError as err:
        if _error_code(err) == "ResourceNotFoundException":  # no resource-based policy
            return None
        raise


def get_buckets(s3: Any) -> list[str]:
    return [bucket["Name"] for bucket in _full(s3, "list_buckets").get("Buckets", [])]


def get_bucket_policy(s3: Any, bucket: str) -> str | None:
    try:
        return s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except ClientError as err:
        if _error_code(err) == "NoSuchBucketPolicy":
            return None
        raise


def get_key_ids(kms: Any) -> list[str]:
    return [key["KeyId"] for key in _full(kms, "list_keys").get("Keys", [])]


def get_key_policy(kms: Any, key_id: str) -> str:
    # "default" is the only key policy name KMS supports.
    return kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]


def get_queue_urls(sqs: Any) -> list[str]:
    return _full(sqs, "list_queues").get("QueueUrls", [])


def get_queue_policy(sqs: Any, queue_url: str) -> str | None:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["Policy"])
    return attributes.get("Attributes", {}).get("Policy")


def get_topic_arns(sns: Any) -> list[str]:
    return [topic["TopicArn"] for topic in _full(sns, "list_topics").get("Topics", [])]


def get_topic_policy(sns: Any, topic_arn: str) -> str | None:
    return sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"].get("Policy")


def get_secret_names(secretsmanager: Any) -> list[str]:
    return [s["Name"] for s in _full(secretsmanager, "list_secrets").get("SecretList", [])]


def get_secret_policy(secretsmanager: Any, name: str) -> str | None:
    return secretsmanager.get_resource_policy(SecretId=name).get("ResourcePolicy")


def get_organization(org: Any) -> dict[str, Any]:
    response = org.describe_organization()
    response.pop("ResponseMetadata", None)
    return response


def get_child_ous(org: Any, parent_id: str) -> list[dict[str, Any]]:
    result = _full(org, "list_organizational_units_for_parent", ParentId=parent_id)
    return result.get("OrganizationalUnits", [])


def get_policy(org: Any, policy_id: str) -> dict[str, Any]:
    response = org.describe_policy(PolicyId=policy_id)
    response.pop("ResponseMetadata", None)
    return response


def get_assumed_credentials(sts: Any, role_arn: str, external_id: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": ROLE_SESSION_NAME}
    if external_id:
        params["ExternalId"] = external_id
    return sts.assume_role(**params)["Credentials"]


# ---------------------------------------------------------------------------------------------
# write_*: one account


@dataclass
class AccountRun:
    """One account being collected: its session, folder and result."""

    session: boto3.Session
    root: Path  # <snapshot>/<account_id>
    result: AccountResult

    def client(self, service: str, region: str | None = None) -> Any:
        return make_client(
            self.session, service, region or self.session.region_name or FALLBACK_REGION
        )

    @contextmanager
    def step(self, what: str) -> Iterator[None]:
        """Run one collection step; an AWS error is recorded (code only) and the run goes on."""
        try:
            yield
        except ClientError as err:
            message = f"{what}: {_error_code(err)}"
            self.result.errors.append(message)
            log.warning(f"✗ {self.result.account_id} {message}")
        except (BotoCoreError, TimeoutError) as err:
            message = f"{what}: {type(err).__name__}"
            self.result.errors.append(message)
            log.warning(f"✗ {self.result.account_id} {message}")


def write_authorization_details(account: AccountRun) -> None:
    iam = account.client("iam")
    doc = get_account_authorization_details(iam)
    completed = complete_policy_names(doc, iam)
    if completed:
        log.info(
            f"{account.result.account_id}: PolicyName/PolicyId missing from "
            f"GetAccountAuthorizationDetails for {completed} policies, filled from ListPolicies"
        )
    write_json(account.root / "iam" / "get-account-authorization-details.json", doc)
    for what, key in (
        ("users", "UserDetailList"),
        ("groups", "GroupDetailList"),
        ("roles", "RoleDetailList"),
        ("policies", "Policies"),
    ):
        account.result.add(what, len(doc.get(key, [])))


def write_credential_report(account: AccountRun) -> None:
    report = get_credential_report(account.client("iam"))
    write_bytes(account.root / "iam" / "credential-report.csv", report)
    account.result.add("credential-report", 1)


def write_bucket_policies(account: AccountRun) -> None:
    s3 = account.client("s3")
    for bucket in get_buckets(s3):
        with account.step(f"s3 bucket {bucket}"):
            policy = get_bucket_policy(s3, bucket)
            if policy is not None:
                path = account.root / "s3" / "bucket-policies" / f"{safe_file_name(bucket)}.json"
                write_policy_text(path, policy)
                account.result.add("resource-policies", 1)


def write_instances(account: AccountRun, region: str) -> None:
    doc = get_instances(account.client("ec2", region))
    write_json(account.root / region / "ec2" / "describe-instances.json", doc)
    instances = sum(len(r.get("Instances", [])) for r in doc.get("Reservations", []))
    account.result.add("instances", instances)


def write_functions(account: AccountRun, region: str) -> None:
    lambda_ = account.client("lambda", region)
    doc = get_functions(lambda_)
    write_json(account.root / region / "lambda" / "list-functions.json", doc)
    account.result.add("functions", len(doc.get("Functions", [])))
    for function in doc.get("Functions", []):
        name = function["FunctionName"]
        with account.step(f"{region} lambda function {name}"):
            policy = get_function_policy(lambda_, name)
            _write_resource_policy(account, region, "lambda/function-policies", name, policy)


def _write_resource_policy(
    account: AccountRun, region: str, folder: str, name: str, policy: str | None
) -> None:
    if policy is None:
        return
    write_policy_text(account.root / region / folder / f"{safe_file_name(name)}.json", policy)
    account.result.add("resource-policies", 1)


def write_key_policies(account: AccountRun, region: str) -> None:
    kms = account.client("kms", region)
    for key_id in get_key_ids(kms):
        with account.step(f"{region} kms key {key_id}"):
            policy = get_key_policy(kms, key_id)
            _write_resource_policy(account, region, "kms/key-policies", key_id, policy)


def write_queue_policies(account: AccountRun, region: str) -> None:
    sqs = account.client("sqs", region)
    for url in get_queue_urls(sqs):
        name = url.rstrip("/").rsplit("/", 1)[-1]
        with account.step(f"{region} sqs queue {name}"):
            policy = get_queue_policy(sqs, url)
            _write_resource_policy(account, region, "sqs/queue-policies", name, policy)


def write_topic_policies(account: AccountRun, region: str) -> None:
    sns = account.client("sns", region)
    for arn in get_topic_arns(sns):
        name = arn.rsplit(":", 1)[-1]
        with account.step(f"{region} sns topic {name}"):
            policy = get_topic_policy(sns, arn)
            _write_resource_policy(account, region, "sns/topic-policies", name, policy)


def write_secret_policies(account: AccountRun, region: str) -> None:
    secretsmanager = account.client("secretsmanager", region)
    for name in get_secret_names(secretsmanager):
        with account.step(f"{region} secret {name}"):
            policy = get_secret_policy(secretsmanager, name)
            _write_resource_policy(account, region, "secretsmanager/secret-policies", name, policy)


REGIONAL_WRITERS: tuple[tuple[str, Callable[[AccountRun, str], None]], ...] = (
    ("ec2 describe-instances", write_instances),
    ("lambda list-functions", write_functions),
    ("kms key policies", write_key_policies),
    ("sqs queue policies", write_queue_policies),
    ("sns topic policies", write_topic_policies),
    ("secretsmanager secret policies", write_secret_policies),
)


def _region_disabled(account: AccountRun, region: str) -> bool:
    """Probe the region with EC2 DescribeInstances (written as it goes); True if not usable."""
    try:
        write_instances(account, region)
    except ClientError as err:
        code = _error_code(err)
        if code in REGION_DISABLED_CODES:
            account.result.errors.append(f"region {region} not enabled or not reachable: {code}")
            log.warning(f"✗ {account.result.account_id} region {region}: {code}, skipped")
            return True
        account.result.errors.append(f"{region} ec2 describe-instances: {code}")
        log.warning(f"✗ {account.result.account_id} {region} ec2 describe-instances: {code}")
    except BotoCoreError as err:
        account.result.errors.append(f"{region} ec2 describe-instances: {type(err).__name__}")
        return True
    return False


def write_region(account: AccountRun, region: str) -> None:
    if _region_disabled(account, region):
        return
    account.result.regions.append(region)
    for what, writer in REGIONAL_WRITERS[1:]:
        with account.step(f"{region} {what}"):
            writer(account, region)


def collect_account(
    session: boto3.Session, snapshot_dir: Path, result: AccountResult, regions: list[str] | None
) -> AccountResult:
    """Write one account's folder; every step that fails is recorded and the others still run."""
    started = time.monotonic()
    account = AccountRun(session, snapshot_dir / result.account_id, result)
    log.info(f"collecting account {result.account_id}")
    with account.step("iam get-account-authorization-details"):
        write_authorization_details(account)
    with account.step("iam credential report"):
        write_credential_report(account)
    with account.step("s3 bucket policies"):
        write_bucket_policies(account)
    if regions is None:
        with account.step("ec2 describe-regions"):
            regions = get_enabled_regions(account.client("ec2"))
    for region in regions or []:
        write_region(account, region)
    result.status = "partial" if result.errors else "collected"
    if "users" not in result.counts:  # not even IAM could be read: nothing useful landed
        result.status = "failed"
    result.seconds = time.monotonic() - started
    log.info(
        f"{'✓' if result.status == 'collected' else '✗'} account {result.account_id} "
        f"{result.status} in {result.seconds:.1f} s ({len(result.errors)} problem(s))"
    )
    return result


# ---------------------------------------------------------------------------------------------
# write_*: the organization


def _walk_ous(org: Any, root_ids: list[str]) -> list[str]:
    """Every OU id under the roots, parents before children."""
    found: list[str] = []
    pending = list(root_ids)
    while pending:
        for ou in get_child_ous(org, pending.pop(0)):
            found.append(ou["Id"])
            pending.append(ou["Id"])
    return found


def write_org_policies(org: Any, org_dir: Path, result: OrganizationResult) -> None:
    for policy_type in ORG_POLICY_TYPES:
        try:
            summaries = _full(org, "list_policies", Filter=policy_type).get("Policies", [])
        except ClientError as err:
            result.errors.append(f"list-policies {policy_type}: {_error_code(err)}")
            log.warning(f"✗ organization list-policies {policy_type}: {_error_code(err)}")
            continue
        for summary in summaries:
            write_org_policy(org, org_dir, result, summary["Id"])
        result.counts[ORG_POLICY_LABELS[policy_type]] = len(summaries)


def write_org_policy(org: Any, org_dir: Path, result: OrganizationResult, policy_id: str) -> None:
    """`policies/<id>.json` and `targets/<id>.json`; a refused call is recorded, not fatal."""
    try:
        write_json(org_dir / "policies" / f"{policy_id}.json", get_policy(org, policy_id))
        targets = _full(org, "list_targets_for_policy", PolicyId=policy_id)
        write_json(org_dir / "targets" / f"{policy_id}.json", targets)
    except ClientError as err:
        result.errors.append(f"policy {policy_id}: {_error_code(err)}")
        log.warning(f"✗ organization policy {policy_id}: {_error_code(err)}")


def write_organization(
    session: boto3.Session, snapshot_dir: Path
) -> tuple[OrganizationResult, list[dict]]:
    """Write `organization/`; returns the result and the accounts of the organization."""
    region = session.region_name or FALLBACK_REGION
    org = make_client(session, "organizations", region)
    org_dir = snapshot_dir / "organization"
    result = OrganizationResult()
    organization = get_organization(org)
    result.organization_id = organization["Organization"]["Id"]
    write_json(org_dir / "describe-organization.json", organization)
    accounts = _full(org, "list_accounts")
    write_json(org_dir / "list-accounts.json", accounts)
    roots = _full(org, "list_roots")
    write_json(org_dir / "list-roots.json", roots)
    ou_ids = _walk_ous(org, [root["Id"] for root in roots.get("Roots", [])])
    children = [account["Id"] for account in accounts.get("Accounts", [])] + ou_ids
    for child_id in children:
        parents = _full(org, "list_parents", ChildId=child_id)
        write_json(org_dir / "parents" / f"{child_id}.json", parents)
    result.counts.update(
        {"accounts": len(accounts.get("Accounts", [])), "organizational-units": len(ou_ids)}
    )
    write_org_policies(org, org_dir, result)
    log.info(f"✓ {result.describe()}")
    return result, accounts.get("Accounts", [])


# ---------------------------------------------------------------------------------------------
# the run


@dataclass(frozen=True)
class CollectOptions:
    """What to collect: one account (the caller's) or a whole organization."""

    organization: bool = False
    role_name: str = DEFAULT_ROLE_NAME
    external_id: str | None = None
    regions: tuple[str, ...] | None = None  # None: every region enabled in each account
    workers: int = DEFAULT_WORKERS


def _member_session(
    factory: SessionFactory,
    sts: Any,
    role_arn: str,
    external_id: str | None,
    region: str | None,
) -> boto3.Session:
    credentials = get_assumed_credentials(sts, role_arn, external_id)
    return factory(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def _collect_one(
    factory: SessionFactory,
    base: boto3.Session,
    sts: Any,
    caller: tuple[str, str],
    snapshot_dir: Path,
    options: CollectOptions,
    result: AccountResult,
) -> AccountResult:
    regions = list(options.regions) if options.regions is not None else None
    session = base
    if result.account_id != caller[0]:
        role_arn = f"arn:{caller[1]}:iam::{result.account_id}:role/{options.role_name}"
        try:
            session = _member_session(factory, sts, role_arn, options.external_id, base.region_name)
        except (ClientError, BotoCoreError) as err:
            code = _error_code(err) if isinstance(err, ClientError) else type(err).__name__
            result.status = "failed"
            result.errors.append(f"cannot assume role {options.role_name}: {code}")
            log.warning(f"✗ {result.account_id} cannot assume {options.role_name}, skipped")
            return result
    return collect_account(session, snapshot_dir, result, regions)


def _org_targets(
    accounts: list[dict[str, Any]],
) -> tuple[list[AccountResult], list[AccountResult]]:
    """(accounts to collect, suspended or closed accounts reported as skipped)."""
    todo, skipped = [], []
    for account in accounts:
        result = AccountResult(account_id=account["Id"], name=account.get("Name"))
        state = account.get("State") or account.get("Status")
        if state in (None, "ACTIVE"):
            todo.append(result)
        else:
            result.status = "skipped"
            result.errors.append(f"account state {state}: not collected")
            skipped.append(result)
    return todo, skipped


def collect(
    snapshot_dir: str | Path,
    options: CollectOptions | None = None,
    session_factory: SessionFactory = boto3.Session,
) -> CollectionSummary:
    """Collect into `snapshot_dir` (created if needed); returns the run summary.

    Credentials and endpoint come from the standard AWS configuration (profile, environment,
    `AWS_ENDPOINT_URL`, instance role). `session_factory` builds every boto3 session (the
    caller's with no arguments, member accounts' with assumed-role keys).
    """
    options = options or CollectOptions()
    started = time.monotonic()
    root = Path(snapshot_dir)
    root.mkdir(parents=True, exist_ok=True)
    base = session_factory()
    region = base.region_name or FALLBACK_REGION
    sts = make_client(base, "sts", region)
    try:
        caller = get_caller_account(make_client(base, "sts", region, IDENTITY_CONFIG))
    except (ClientError, BotoCoreError) as err:
        raise CollectError(f"cannot identify the AWS credentials in use: {err}") from None
    organization: OrganizationResult | None = None
    skipped: list[AccountResult] = []
    if options.organization:
        try:
            organization, accounts = write_organization(base, root)
        except ClientError as err:
            raise CollectError(f"cannot read the organization: {_error_code(err)}") from None
        todo, skipped = _org_targets(accounts)
    else:
        todo = [AccountResult(account_id=caller[0])]

    def run(result: AccountResult) -> AccountResult:
        return _collect_one(session_factory, base, sts, caller, root, options, result)

    with ThreadPoolExecutor(max_workers=max(1, options.workers)) as pool:
        results = list(pool.map(run, todo))
    accounts_out = sorted(results + skipped, key=lambda a: a.account_id)
    summary = CollectionSummary(root, accounts_out, organization, time.monotonic() - started)
    if not summary.collected:
        raise CollectError("no account could be collected (see the summary)", summary)
    return summary
