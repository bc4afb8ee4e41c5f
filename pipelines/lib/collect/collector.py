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

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from pipelines.lib.collect.api import (
    complete_policy_names,
    error_code,
    full,
    get_account_authorization_details,
    get_assumed_credentials,
    get_bucket_policy,
    get_caller_account,
    get_child_ous,
    get_credential_report,
    get_enabled_regions,
    get_function_policy,
    get_functions,
    get_instances,
    get_key_ids,
    get_key_policy,
    get_organization,
    get_policy,
    get_queue_policy,
    get_queue_urls,
    get_secret_names,
    get_secret_policy,
    get_topic_arns,
    get_topic_policy,
    list_buckets,
)
from pipelines.lib.collect.files import safe_file_name, write_bytes, write_json, write_policy_text
from pipelines.lib.collect.redact import make_client
from pipelines.lib.collect.settings import (
    DEFAULT_ROLE_NAME,
    DEFAULT_WORKERS,
    FALLBACK_REGION,
    IDENTITY_CONFIG,
    ORG_POLICY_LABELS,
    ORG_POLICY_TYPES,
    REGION_DISABLED_CODES,
    SessionFactory,
)

log = logging.getLogger("ciem.collector")


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
            message = f"{what}: {error_code(err)}"
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
    # The bucket list itself: a bucket's owner is known whether or not it has a policy.
    listing = list_buckets(s3)
    write_json(account.root / "s3" / "list-buckets.json", listing)
    buckets = [bucket["Name"] for bucket in listing.get("Buckets", [])]
    account.result.add("buckets", len(buckets))
    for bucket in buckets:
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
        code = error_code(err)
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
            summaries = full(org, "list_policies", Filter=policy_type).get("Policies", [])
        except ClientError as err:
            result.errors.append(f"list-policies {policy_type}: {error_code(err)}")
            log.warning(f"✗ organization list-policies {policy_type}: {error_code(err)}")
            continue
        for summary in summaries:
            write_org_policy(org, org_dir, result, summary["Id"])
        result.counts[ORG_POLICY_LABELS[policy_type]] = len(summaries)


def write_org_policy(org: Any, org_dir: Path, result: OrganizationResult, policy_id: str) -> None:
    """`policies/<id>.json` and `targets/<id>.json`; a refused call is recorded, not fatal."""
    try:
        write_json(org_dir / "policies" / f"{policy_id}.json", get_policy(org, policy_id))
        targets = full(org, "list_targets_for_policy", PolicyId=policy_id)
        write_json(org_dir / "targets" / f"{policy_id}.json", targets)
    except ClientError as err:
        result.errors.append(f"policy {policy_id}: {error_code(err)}")
        log.warning(f"✗ organization policy {policy_id}: {error_code(err)}")


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
    accounts = full(org, "list_accounts")
    write_json(org_dir / "list-accounts.json", accounts)
    roots = full(org, "list_roots")
    write_json(org_dir / "list-roots.json", roots)
    ou_ids = _walk_ous(org, [root["Id"] for root in roots.get("Roots", [])])
    children = [account["Id"] for account in accounts.get("Accounts", [])] + ou_ids
    for child_id in children:
        parents = full(org, "list_parents", ChildId=child_id)
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
            code = error_code(err) if isinstance(err, ClientError) else type(err).__name__
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
            raise CollectError(f"cannot read the organization: {error_code(err)}") from None
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
