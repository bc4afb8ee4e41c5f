"""`ciem who-can`: the reverse of explain (PMapper's `who can`, iam-lens's `who-can`): every user
and role whose request would be allowed or conditionally allowed, each with explain's chain, and
the grants to principals outside the snapshot."""

from __future__ import annotations

import json

import pytest

from pipelines.cli.app import main
from pipelines.lib.serve.explain import PolicyStore
from pipelines.lib.serve.who_can import format_who_can, who_can
from tests.sql.harness import build
from tests.unit.serve.test_explain_conditions import (
    ALICE,
    BOB,
    BOUNDED,
    BREAKGLASS,
    MEMBER,
    QUEUE_STAR,
    REGION,
    TABLES,
    _inputs,
)


@pytest.fixture(scope="module")
def store() -> PolicyStore:
    return PolicyStore.from_connection(build(_inputs(), TABLES))


def _who(result: dict) -> set[tuple[str, str, tuple[str, ...]]]:
    return {
        (p["principal"], p["decision"], tuple(p["condition_keys"])) for p in result["principals"]
    }


def test_who_can_lists_every_permitted_principal_with_its_chain(store) -> None:
    obj = "arn:aws:s3:::data/k"
    result = who_can(store, "s3:GetObject", obj)
    region = ("aws:requestedregion",)
    # eve (outside the organization) is denied by the perimeter; free, the SSO role and the
    # service-linked role have no identity policy allowing it.
    assert _who(result) == {
        (ALICE, "conditionally_allowed", region),
        (BOB, "conditionally_allowed", region),
        (BOUNDED, "conditionally_allowed", region),
        (BREAKGLASS, "allowed", ()),
    }
    for entry in result["principals"]:
        explained = store.explain(entry["principal"], "s3:GetObject", obj)
        assert {k: v for k, v in entry.items() if k not in ("principal_type", "account_id")} == (
            explained
        )
        assert entry["account_id"] == MEMBER
    # With the region in the context, the answers are exact.
    exact = who_can(store, "s3:GetObject", obj, {"aws:RequestedRegion": "us-east-1"})
    assert _who(exact) == {(BREAKGLASS, "allowed", ())}
    # The bucket policy's grant to the other account is evaluated through eve (in the snapshot).
    assert result["external"] == []


def test_who_can_reports_grants_to_principals_outside_the_snapshot(store) -> None:
    result = who_can(store, "sqs:SendMessage", QUEUE_STAR, {"aws:RequestedRegion": REGION})
    assert result["external"] == [
        {
            "principal": "*",
            "kind": "wildcard",
            "source": "resource_policy",
            "resource_arn": QUEUE_STAR,
            "policy_key": f"resource|{QUEUE_STAR}",
            "statement": 0,
            "sid": None,
            "conditional": False,
            "condition_keys": [],
        }
    ]
    # `*` in the queue policy reaches every principal of the account (same account: the
    # resource policy grants on its own) and bounded's session, beyond its boundary.
    assert {p["principal"] for p in result["principals"]} >= {BOUNDED, BREAKGLASS, BOB}
    screen = format_who_can(result).splitlines()
    assert screen[0] == f"who can sqs:SendMessage on {QUEUE_STAR}:"
    assert f"  * (wildcard): resource_policy on {QUEUE_STAR}, statement 0" in screen


def test_who_can_command_reads_the_lake(tmp_path, capsys) -> None:
    # Without a warehouse, the command fails with the reason, exit code 1.
    assert main(["who-can", "s3:GetObject", "arn:aws:s3:::b/k", "--lake", str(tmp_path)]) == 1
    assert "ciem: error:" in capsys.readouterr().err
    assert main(["who-can", "GetObject", "arn:aws:s3:::b/k", "--json"]) == 1


def test_everyone_can_get_caller_identity_even_bob_under_a_deny(store) -> None:
    # https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
    result = json.loads(json.dumps(who_can(store, "sts:GetCallerIdentity", "*")))
    everyone = {a for a, i in store.identities.items() if i.principal_type in ("user", "role")}
    assert {p["principal"] for p in result["principals"]} == everyone
    assert BOB in everyone


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("s3:GetObject", "arn:aws:s3:::data/k"),
        ("s3:GetObject", "arn:aws:s3:::data/locked/k"),
        ("ec2:StartInstances", "arn:aws:ec2:eu-west-1:222222222222:instance/i-pay"),
        ("sqs:SendMessage", QUEUE_STAR),
        ("kms:Decrypt", "arn:aws:kms:eu-west-1:222222222222:key/k-root"),
        ("iam:AttachRolePolicy", BOUNDED),
        ("lambda:InvokeFunction", "arn:aws:lambda:eu-west-1:222222222222:function:f"),
    ],
)
def test_who_can_asks_explain_of_everyone_it_could_permit(store, action, resource) -> None:
    """Skipping principals without an identity Allow for the action (when no resource policy
    allows it) never drops one that explain permits."""
    everyone = {
        arn
        for arn, i in store.identities.items()
        if i.principal_type in ("user", "role")
        and store.explain(arn, action, resource)["decision"] in ("allowed", "conditionally_allowed")
    }
    assert {p["principal"] for p in who_can(store, action, resource)["principals"]} == everyone


def test_grants_outside_the_snapshot_are_decided_from_what_it_knows_of_the_caller() -> None:
    """Issue 12: a grant to another account is decided like an insider's where the snapshot
    knows the answer (the organization's account list decides `aws:PrincipalOrgID`; a named
    role's ARN decides `aws:PrincipalArn`; an IAM principal's request carries no
    `aws:SourceAccount`): one the other account cannot meet is not listed, and only request
    keys (or what the snapshot cannot know of `*` and services) stay open.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html"""
    from tests.sql import test_resource_condition_verdicts as perimeter
    from tests.sql.harness import org_accounts

    partner = "arn:aws:iam::444444444444:role/partner"
    in_org = "555555555555"  # in the organization, its IAM data not collected

    def grant(principal: object, condition: dict) -> dict:
        return {
            "Effect": "Allow",
            "Principal": principal,
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::data/*",
            "Condition": condition,
        }

    org = {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}
    statements = [
        grant({"AWS": "999999999999"}, org),
        grant(
            {"AWS": partner},
            {"ArnEquals": {"aws:PrincipalArn": partner}, "Bool": {"aws:SecureTransport": "true"}},
        ),
        grant({"AWS": in_org}, org),
        grant({"AWS": "*"}, org),
        grant({"AWS": in_org}, {"StringEquals": {"aws:SourceAccount": perimeter.MEMBER}}),
        grant(
            {"Service": "cloudtrail.amazonaws.com"}, {"StringEquals": {"aws:SourceAccount": "1"}}
        ),
        grant({"AWS": partner}, {"StringEquals": {"aws:ResourceAccount": "999999999999"}}),
    ]
    inputs = perimeter._inputs(statements)
    inputs["raw_org_accounts"] = inputs["raw_org_accounts"] + org_accounts(in_org)
    store = PolicyStore.from_connection(
        build(inputs, ["effective_permissions", "stg_policy_documents"])
    )
    result = who_can(store, "s3:GetObject", "arn:aws:s3:::data/k")
    got = [
        (g["principal"], g["statement"], g["conditional"], g["condition_keys"])
        for g in result["external"]
    ]
    assert got == [
        (partner, 1, True, ["aws:securetransport"]),
        (in_org, 2, False, []),
        ("*", 3, True, ["aws:principalorgid"]),
        ("cloudtrail.amazonaws.com", 5, True, ["aws:sourceaccount"]),
    ]
    exact = who_can(store, "s3:GetObject", "arn:aws:s3:::data/k", {"aws:SecureTransport": "false"})
    assert [g["statement"] for g in exact["external"]] == [2, 3, 5]
