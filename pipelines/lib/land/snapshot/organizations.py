"""Organizations files of a snapshot (landing layer): the organization, accounts, roots, parents,
SCP/RCP documents and their targets."""

from __future__ import annotations

from typing import Any

from pipelines.lib.land.snapshot.context import Ctx, Seen
from pipelines.lib.land.snapshot.grammar import RCP, SCP, PolicyKind
from pipelines.lib.land.snapshot.schemas import Row

# ---------------------------------------------------------------------------------------------
# Organizations


def _organization_row(ctx: Ctx, doc: dict[str, Any]) -> Row:
    org = doc["Organization"]
    return {
        "organization_id": org["Id"],
        "arn": org["Arn"],
        "management_account_id": org.get("MasterAccountId"),
        "feature_set": org.get("FeatureSet"),
    }


def _org_account_row(ctx: Ctx, account: dict[str, Any]) -> Row:
    return {
        "account_id": account["Id"],
        "arn": account["Arn"],
        "name": account["Name"],
        "email": account.get("Email"),
        # `Status` is deprecated in favour of `State` (2025); newer CLIs may return only State.
        "status": account.get("Status") or account.get("State"),
        "joined_at": ctx.timestamp(account.get("JoinedTimestamp"), "JoinedTimestamp"),
    }


def _root_row(ctx: Ctx, root: dict[str, Any]) -> Row:
    return {"root_id": root["Id"], "arn": root["Arn"], "name": root["Name"]}


def _parent_row(ctx: Ctx, child_id: str, parent: dict[str, Any]) -> Row:
    return {"child_id": child_id, "parent_id": parent["Id"], "parent_type": parent["Type"]}


# The organization policy types written in IAM's policy language; the others (tag, backup, AI
# opt-out, ... policies) have their own syntax and are kept as they are.
_IAM_POLICY_TYPES: dict[str, PolicyKind] = {
    "SERVICE_CONTROL_POLICY": SCP,
    "RESOURCE_CONTROL_POLICY": RCP,
}


def _org_policy_row(ctx: Ctx, doc: dict[str, Any]) -> Row:
    policy = doc["Policy"]
    summary = policy["PolicySummary"]
    ctx = ctx.about(summary.get("Arn"))
    kind = _IAM_POLICY_TYPES.get(summary.get("Type")) if isinstance(summary, dict) else None
    return {
        "policy_id": summary["Id"],
        "arn": summary["Arn"],
        "name": summary["Name"],
        "type": summary["Type"],
        "aws_managed": summary.get("AwsManaged"),
        "document": ctx.document(policy.get("Content"), "Content", kind, required=True),
    }


def _target_row(ctx: Ctx, policy_id: str, target: dict[str, Any]) -> Row:
    return {
        "policy_id": policy_id,
        "target_id": target["TargetId"],
        "target_type": target["Type"],
        "target_name": target["Name"],
        "target_arn": target["Arn"],
    }


def land_organization(ctx: Ctx, doc: dict[str, Any]) -> None:
    ctx.at("Organization").land("raw_org_organization", _organization_row, doc)


def land_accounts(ctx: Ctx, doc: dict[str, Any]) -> None:
    for account_ctx, account in ctx.entries(doc, "Accounts", Seen("Id", "Arn"), subject="Arn"):
        account_ctx.land("raw_org_accounts", _org_account_row, account)


def land_roots(ctx: Ctx, doc: dict[str, Any]) -> None:
    for root_ctx, root in ctx.entries(doc, "Roots", Seen("Id", "Arn"), subject="Arn"):
        root_ctx.land("raw_org_roots", _root_row, root)


def land_parents(ctx: Ctx, doc: dict[str, Any], child_id: str) -> None:
    for parent_ctx, parent in ctx.entries(doc, "Parents", Seen("Id")):
        parent_ctx.land("raw_org_parents", _parent_row, child_id, parent)


def land_org_policy(ctx: Ctx, doc: dict[str, Any]) -> None:
    ctx.at("Policy").land("raw_org_policies", _org_policy_row, doc)


def land_targets(ctx: Ctx, doc: dict[str, Any], policy_id: str) -> None:
    for target_ctx, target in ctx.entries(doc, "Targets", Seen("TargetId"), subject="Arn"):
        target_ctx.land("raw_org_policy_targets", _target_row, policy_id, target)
