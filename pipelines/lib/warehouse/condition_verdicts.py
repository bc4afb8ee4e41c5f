"""Condition verdicts for the SQL models (warehouse layer, plain Python): a principal's snapshot
facts (`principal_facts`, which `ciem explain` uses too, through pipelines/lib/serve/facts.py) and
`verdicts`, the Python step (`-- transform:`, see sql_models.py) of the model
`int_principal_condition_verdicts`. It decides each statement's Condition with the one evaluator,
pipelines/lib/warehouse/conditions.py, so the models and `explain` resolve conditions the same
way: `true` (the statement holds unconditionally), `false` (it does not apply) or `unknown` with
the request keys it still needs. (A DuckDB Python UDF would need numpy, which the project does
not install: the model's rows pass through Python in Arrow batches instead.)

At action level the models know the principal, not the resource: `aws:ResourceAccount`,
`aws:ResourceOrgID`, `aws:ResourceTag/*`… stay unknown there (`explain` with a resource
decides them). The statements of resource-based and trust policies know both:
`resource_verdicts` (the transform of `int_resource_condition_fact_verdicts`) adds the resource's
facts (`resource_facts`, which `explain` uses too) and decides each statement once per distinct
tuple of the facts its Condition reads, not once per principal.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from datetime import date

import pyarrow as pa

from pipelines.lib.warehouse.conditions import (
    PRINCIPAL_FACT_KEYS,
    PRINCIPAL_TAG_PREFIX,
    RESOURCE_FACT_KEYS,
    RESOURCE_TAG_PREFIX,
    Facts,
    evaluate,
    session_window,
)

_PRINCIPAL_ORG_KEYS = frozenset({"aws:principalorgid", "aws:principalorgpaths"})
_RESOURCE_ORG_KEYS = frozenset({"aws:resourceorgid", "aws:resourceorgpaths"})
VERDICT_SCHEMA = pa.schema(
    [
        ("principal_arn", pa.string()),
        ("policy_key", pa.string()),
        ("statement_index", pa.int64()),
        ("verdict", pa.string()),
        ("needed_keys", pa.list_(pa.string())),
    ]
)


def principal_facts(
    principal_arn: str,
    principal_type: str,
    account_id: str,
    name: str,
    unique_id: str | None,
    tags: Iterable[tuple[str, str]],
    org_id: str | None,
    org_member: bool,
    org_path: str | None,
) -> tuple[dict[str, tuple[str, ...]], set[str]]:
    """The values of the principal's condition keys and the keys the snapshot decides, for an IAM
    user (calling as `User`) or a role (through a session, `AssumedRole`); `org_id` None = no
    organization data (the org keys are then unknown), `org_member` whether the account is in
    it (outside: the org keys are absent), `org_path` its `o-…/r-…/ou-…/` path when known
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html)."""
    values: dict[str, tuple[str, ...]] = {
        "aws:principalarn": (principal_arn,),
        "aws:principalaccount": (account_id,),
        "aws:principaltype": ("User" if principal_type == "user" else "AssumedRole",),
        "aws:principalisawsservice": ("false",),
    }
    if org_id and org_member:
        values["aws:principalorgid"] = (org_id,)
        if org_path:
            values["aws:principalorgpaths"] = (org_path,)
    decided = set(PRINCIPAL_FACT_KEYS)
    if principal_type == "user":
        values["aws:username"] = (name,)
        if unique_id:
            # A role's aws:userid is `role-id:session-name`: the session belongs to the request.
            values["aws:userid"] = (unique_id,)
            decided.add("aws:userid")
    for key, value in tags:
        values[PRINCIPAL_TAG_PREFIX + key.lower()] = (value,)
    if not org_id:
        decided -= _PRINCIPAL_ORG_KEYS
    return values, decided


# The service principals that assume a role for compute the snapshot knows (see
# int_resource_condition_facts) and set aws:SourceAccount/aws:SourceArn when they do. Lambda
# does, with the function's account and ARN: "When a service assumes a role in your account, you
# can include the aws:SourceAccount and aws:SourceArn global condition context keys in your role
# trust policy" (https://docs.aws.amazon.com/lambda/latest/dg/permissions-managed-policies.html).
# AWS documents neither that EC2 sets them when it assumes an instance profile's role nor that it
# does not (the keys are present only when "the calling service" passes "the ARN of the original
# resource", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourcearn):
# for `ec2.amazonaws.com` they stay open, never guessed absent.
SERVICES_SETTING_SOURCE = frozenset({"lambda.amazonaws.com"})


def service_facts(
    service: str, source_account: str | None, source_arn: str | None
) -> tuple[dict[str, tuple[str, ...]], set[str]]:
    """The values of the condition keys, and the keys decided, when `service` (a service principal
    such as `lambda.amazonaws.com`) assumes a role for the resource `source_arn` of
    `source_account`: aws:PrincipalIsAWSService is true and aws:PrincipalServiceName the service
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html);
    aws:SourceAccount and aws:SourceArn the resource's when the service sets them
    (SERVICES_SETTING_SOURCE; `source_arn` None: not read, left open). The principal's other
    keys (ARN, account, organization, tags, the other aws:Source* keys) stay open, and so do
    aws:SourceAccount/aws:SourceArn for a service not known to set them."""
    values: dict[str, tuple[str, ...]] = {
        "aws:principalisawsservice": ("true",),
        "aws:principalservicename": (service,),
    }
    decided = {"aws:principalisawsservice", "aws:principalservicename"}
    if service in SERVICES_SETTING_SOURCE:
        if source_account:
            values["aws:sourceaccount"] = (source_account,)
            decided.add("aws:sourceaccount")
        if source_arn:
            values["aws:sourcearn"] = (source_arn,)
            decided.add("aws:sourcearn")
    return values, decided


def resource_facts(
    values: dict[str, tuple[str, ...]],
    decided: set[str],
    resource_account: str | None,
    tags: Iterable[tuple[str, str]] | None,
    org_id: str | None,
    org_member: bool,
    org_path: str | None,
) -> tuple[str, ...]:
    """Adds the facts of the resource of a request to a principal's (`values`, `decided`, in
    place) and returns the tag prefixes the snapshot decides: `aws:ResourceAccount` and
    `aws:ResourceOrgID`/`aws:ResourceOrgPaths` (like the principal's) when its owner is known;
    an owner the snapshot does not know is outside the organization, never the caller's own
    (the org keys absent, the account unknown); `aws:ResourceTag/*` when its tags are collected
    (`tags` None: not collected, unknown)."""
    prefixes = [PRINCIPAL_TAG_PREFIX]
    if resource_account is not None:
        values["aws:resourceaccount"] = (resource_account,)
        if org_id and org_member:
            values["aws:resourceorgid"] = (org_id,)
            if org_path:
                values["aws:resourceorgpaths"] = (org_path,)
        decided |= RESOURCE_FACT_KEYS
    else:
        decided |= _RESOURCE_ORG_KEYS
    if tags is not None:
        for key, value in tags:
            values[RESOURCE_TAG_PREFIX + key.lower()] = (value,)
        prefixes.append(RESOURCE_TAG_PREFIX)
    if not org_id:
        decided -= _RESOURCE_ORG_KEYS
    return tuple(prefixes)


def parse_tags(tags_json: str | None) -> tuple[tuple[str, str], ...]:
    """An IAM/EC2 `Tags` list (`[{"Key": …, "Value": …}]`) as (key, value) pairs."""
    if not tags_json:
        return ()
    try:
        tags = json.loads(tags_json)
    except json.JSONDecodeError:
        return ()
    if not isinstance(tags, list):
        return ()
    return tuple(
        (str(t["Key"]), str(t.get("Value", ""))) for t in tags if isinstance(t, dict) and "Key" in t
    )


@functools.lru_cache(maxsize=4096)
def _facts(facts_json: str) -> Facts:
    f = json.loads(facts_json)
    if f["principal_type"] == "service":  # a service principal acting for known compute
        values, decided = service_facts(f["service"], f.get("source_account"), f.get("source_arn"))
    else:
        values, decided = principal_facts(
            f["principal_arn"],
            f["principal_type"],
            f["account_id"],
            f["name"],
            f.get("unique_id"),
            parse_tags(f.get("tags_json")),
            f.get("org_id"),
            bool(f.get("org_member")),
            f.get("org_path"),
        )
    prefixes: tuple[str, ...] = (PRINCIPAL_TAG_PREFIX,)
    if "resource_account" in f:  # the statement of a resource-based or trust policy
        prefixes = resource_facts(
            values,
            decided,
            f["resource_account"],
            None if f.get("resource_tags_json") is None else parse_tags(f["resource_tags_json"]),
            f.get("org_id"),
            bool(f.get("resource_org_member")),
            f.get("resource_org_path"),
        )
    window = None
    if f["principal_type"] == "service":  # a service principal's tags are not facts here
        prefixes = tuple(p for p in prefixes if p != PRINCIPAL_TAG_PREFIX)
    elif f.get("as_of"):  # the run's date: bounds aws:TokenIssueTime (see conditions.py)
        window = session_window(date.fromisoformat(f["as_of"]))
    return Facts(
        values=values,
        decided=frozenset(decided),
        decided_prefixes=prefixes,
        session_window=window,
    )


@functools.lru_cache(maxsize=4096)
def _condition(condition_json: str) -> dict | None:
    try:
        doc = json.loads(condition_json)
    except json.JSONDecodeError:
        return None
    return doc if isinstance(doc, dict) else None


def condition_verdict(condition_json: str, facts_json: str) -> dict[str, object]:
    """`{"verdict": "true" | "false" | "unknown", "needed_keys": [...]}` of a Condition block
    (JSON text) for the principal `facts_json` describes (see `principal_facts`)."""
    condition = _condition(condition_json)
    if condition is None:
        # Not a JSON object: left open, as `explain` leaves it (the models keep its keys).
        return {"verdict": "unknown", "needed_keys": None}
    outcome = evaluate(condition, _facts(facts_json))
    if outcome.value is None:
        return {"verdict": "unknown", "needed_keys": sorted(outcome.needed)}
    return {"verdict": "true" if outcome.value else "false", "needed_keys": []}


RESOURCE_VERDICT_SCHEMA = pa.schema(
    [
        ("policy_key", pa.string()),
        ("statement_index", pa.int64()),
        ("facts_json", pa.string()),
        ("verdict", pa.string()),
        ("needed_keys", pa.list_(pa.string())),
    ]
)


def _with_verdicts(
    batch: pa.RecordBatch, keys: tuple[str, ...], schema: pa.Schema
) -> pa.RecordBatch:
    """`keys` of each row of `batch`, with the verdict of its (condition_json, facts_json)."""
    rows = batch.to_pydict()
    results = [
        condition_verdict(c, f)
        for c, f in zip(rows["condition_json"], rows["facts_json"], strict=True)
    ]
    return pa.RecordBatch.from_pydict(
        {
            **{key: rows[key] for key in keys},
            "verdict": [r["verdict"] for r in results],
            "needed_keys": [r["needed_keys"] for r in results],
        },
        schema=schema,
    )


def resource_verdicts(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The verdict of each row (policy_key, statement_index, condition_json, facts_json) of a
    resource-based or trust policy statement: facts_json holds the principal's facts the
    Condition reads and the resource's (`resource_account`, `resource_org_member`,
    `resource_org_path`, `resource_tags_json`)."""
    keys = ("policy_key", "statement_index", "facts_json")
    return _with_verdicts(batch, keys, RESOURCE_VERDICT_SCHEMA)


def verdicts(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The verdict of each row (principal_arn, policy_key, statement_index, condition_json,
    facts_json): the same keys with `verdict` and `needed_keys` (null: not a JSON object, the
    statement keeps the keys staging found)."""
    keys = ("principal_arn", "policy_key", "statement_index")
    return _with_verdicts(batch, keys, VERDICT_SCHEMA)
