"""`ciem explain`: decisions and chains from the normalized statement tables (AWS evaluation
logic; examples after the IAM User Guide's "Policy evaluation logic" and "Permissions
boundaries" pages)."""

from __future__ import annotations

import argparse
import io
import json
from datetime import UTC, datetime

import pytest

from pipelines.cli.explain import add_explain_parser, run_batch
from pipelines.lib.serve.explain import PolicyStore, format_decision
from pipelines.lib.serve.statements import action_matches, resource_matches
from tests.sql.harness import build

ACCT = "111111111111"
MEMBER = "222222222222"
OTHER = "333333333333"
TABLES = ["stg_policy_statements", "int_identities", "int_principal_policies"]


def _doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _user(name: str, account: str = MEMBER, boundary: str | None = None) -> dict:
    return {
        "account_id": account,
        "user_name": name,
        "user_id": "AIDA" + name.upper(),
        "arn": f"arn:aws:iam::{account}:user/{name}",
        "path": "/",
        "create_date": datetime(2025, 1, 1, tzinfo=UTC),
        "permissions_boundary_arn": boundary,
    }


def _role(name: str, account: str = MEMBER, trust: str | None = None) -> dict:
    return {
        "account_id": account,
        "role_name": name,
        "role_id": "AROA" + name.upper(),
        "arn": f"arn:aws:iam::{account}:role/{name}",
        "path": "/",
        "create_date": datetime(2025, 1, 1, tzinfo=UTC),
        "assume_role_policy_document": trust,
        "is_service_linked": False,
    }


def _inline(arn: str, ptype: str, name: str, *statements: dict, account: str = MEMBER) -> dict:
    return {
        "account_id": account,
        "principal_arn": arn,
        "principal_type": ptype,
        "policy_name": name,
        "document": _doc(*statements),
    }


ALICE = f"arn:aws:iam::{MEMBER}:user/alice"
BOB = f"arn:aws:iam::{MEMBER}:user/bob"
DEPLOY = f"arn:aws:iam::{MEMBER}:role/deploy"
BOUNDARY = f"arn:aws:iam::{MEMBER}:policy/boundary"


def _org_inputs() -> dict[str, list[dict]]:
    """alice: boundary + group; bob: Allow * ; member account under root -> ou-1 -> account."""
    group = f"arn:aws:iam::{MEMBER}:group/devs"
    return {
        "raw_iam_users": [_user("alice", boundary=BOUNDARY), _user("bob")],
        "raw_iam_roles": [
            _role(
                "deploy",
                trust=_doc(
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{MEMBER}:root"},
                        "Action": "sts:AssumeRole",
                    },
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": ALICE},
                        "Action": "sts:AssumeRole",
                        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                    },
                ),
            )
        ],
        "raw_iam_groups": [
            {"account_id": MEMBER, "group_name": "devs", "group_id": "G1", "arn": group}
        ],
        "raw_iam_group_memberships": [
            {"account_id": MEMBER, "user_arn": ALICE, "group_arn": group}
        ],
        "raw_iam_policies": [
            {
                "account_id": MEMBER,
                "policy_arn": BOUNDARY,
                "policy_name": "boundary",
                "policy_id": "ANPAB",
                "is_aws_managed": False,
                "document": _doc(
                    {"Effect": "Allow", "Action": ["s3:*", "sqs:*"], "Resource": "*"},
                    {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
                ),
            },
        ],
        "raw_iam_inline_policies": [
            _inline(
                group,
                "group",
                "devs-s3",
                {
                    "Sid": "ReadData",
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::data/*",
                },
                {
                    "Effect": "Allow",
                    "Action": ["iam:CreateUser", "s3:DeleteBucket"],
                    "Resource": "*",
                },
                {
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::home/${aws:username}/*",
                },
            ),
            _inline(
                ALICE,
                "user",
                "guard",
                {
                    "Effect": "Deny",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::data/secret/*",
                },
                {
                    "Effect": "Deny",
                    "Action": "s3:PutObject",
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}},
                },
                {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"},
            ),
            _inline(BOB, "user", "all", {"Effect": "Allow", "Action": "*", "Resource": "*"}),
        ],
        "raw_s3_bucket_policies": [
            {
                "account_id": MEMBER,
                "bucket": "shared",
                "document": _doc(
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": ALICE},
                        "Action": "sqs:SendMessage",
                        "Resource": "arn:aws:s3:::shared/*",
                    },
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": "arn:aws:s3:::shared/locked/*",
                    },
                ),
            }
        ],
        # The buckets are the member account's (s3/list-buckets.json): an S3 request on them is
        # same-account (a bucket of unknown owner would be outside the organization).
        "raw_s3_buckets": [
            {"account_id": MEMBER, "bucket": b}
            for b in ("data", "home", "shared", "b", "b1", "b12")
        ],
        "raw_org_organization": [
            {"organization_id": "o-1", "arn": "o", "management_account_id": ACCT}
        ],
        "raw_org_accounts": [
            {"account_id": ACCT, "arn": "a1", "name": "mgmt"},
            {"account_id": MEMBER, "arn": "a2", "name": "member"},
        ],
        "raw_org_parents": [
            {"child_id": MEMBER, "parent_id": "ou-1", "parent_type": "ORGANIZATIONAL_UNIT"},
            {"child_id": "ou-1", "parent_id": "r-1", "parent_type": "ROOT"},
        ],
        "raw_org_policies": [
            {
                "policy_id": "p-full",
                "arn": "x",
                "name": "FullAWSAccess",
                "type": "SERVICE_CONTROL_POLICY",
                "document": _doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
            },
            {
                "policy_id": "p-nosqs",
                "arn": "y",
                "name": "OnlyS3AndIam",
                "type": "SERVICE_CONTROL_POLICY",
                "document": _doc(
                    {"Effect": "Allow", "Action": ["s3:*", "iam:*", "sts:*"], "Resource": "*"}
                ),
            },
            {
                "policy_id": "p-noleave",
                "arn": "z",
                "name": "NoIamUsers",
                "type": "SERVICE_CONTROL_POLICY",
                "document": _doc({"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}),
            },
        ],
        "raw_org_policy_targets": [
            {
                "policy_id": "p-full",
                "target_id": t,
                "target_type": "X",
                "target_name": t,
                "target_arn": t,
            }
            for t in ("r-1", MEMBER)
        ]
        + [
            {
                "policy_id": p,
                "target_id": "ou-1",
                "target_type": "X",
                "target_name": "ou",
                "target_arn": "ou",
            }
            for p in ("p-nosqs", "p-noleave")
        ],
    }


@pytest.fixture(scope="module")
def store() -> PolicyStore:
    con = build(_org_inputs(), ["stg_policy_documents", "int_account_scp_levels", *TABLES])
    return PolicyStore.from_connection(con)


def _decide(store: PolicyStore, principal: str, action: str, resource: str | None = None):
    r = store.explain(principal, action, resource)
    return (
        r["decision"],
        r["missing_allow_from"],
        [(e["source"], e["statement"]) for e in (r["denied_by"] or [])],
    )


def test_wildcards_actions_case_insensitive_resources_case_sensitive() -> None:
    assert action_matches("s3:get*", "S3:GetObject".lower())
    assert action_matches("S3:GET?BJECT", "s3:getobject")
    assert not action_matches("s3:get", "s3:getobject")
    assert resource_matches("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y")
    assert not resource_matches("arn:aws:s3:::b/*", "arn:aws:s3:::B/x")
    assert resource_matches("arn:aws:s3:::b?", "arn:aws:s3:::b1")
    assert not resource_matches("arn:aws:s3:::b?", "arn:aws:s3:::b12")
    assert resource_matches("arn:aws:iam::*:role/[X]*", "arn:aws:iam::1:role/[X]y")
    assert not resource_matches("arn:aws:iam::*:role/[X]*", "arn:aws:iam::1:role/Xy")


def test_identity_allow_within_boundary_and_every_scp_level(store: PolicyStore) -> None:
    r = store.explain(ALICE, "s3:GetObject", "arn:aws:s3:::data/report.csv")
    assert r["decision"] == "allowed"
    assert {
        (e["source"], e.get("policy"), e["statement"], e.get("via")) for e in r["allowed_by"]
    } == {
        ("identity", "devs-s3", 0, f"group:arn:aws:iam::{MEMBER}:group/devs"),
        ("boundary", "boundary", 0, None),
        ("scp:r-1", "FullAWSAccess", 0, None),
        ("scp:ou-1", "OnlyS3AndIam", 0, None),
        (f"scp:{MEMBER}", "FullAWSAccess", 0, None),
    }


def test_deny_with_its_own_resource(store: PolicyStore) -> None:
    # the Deny names data/secret/*: other objects stay allowed
    assert _decide(store, ALICE, "s3:GetObject", "arn:aws:s3:::data/secret/k")[:1] == (
        "explicitly_denied",
    )
    assert _decide(store, ALICE, "s3:GetObject", "arn:aws:s3:::data/k")[0] == "allowed"
    # without a resource the scoped Deny is reported, not applied
    r = store.explain(ALICE, "s3:GetObject")
    assert r["decision"] == "allowed"
    assert [(e["source"], e["statement"]) for e in r["partial_denies"]] == [("identity", 0)]


def test_conditional_deny_makes_the_answer_conditional(store: PolicyStore) -> None:
    r = store.explain(ALICE, "s3:PutObject", "arn:aws:s3:::data/k")
    assert r["decision"] == "conditionally_allowed"
    assert r["condition_keys"] == ["aws:requestedregion"]
    assert [(e["source"], e["statement"], e["conditional"]) for e in r["denied_by"]] == [
        ("identity", 1, True)
    ]


def test_boundary_missing_allow_and_boundary_deny(store: PolicyStore) -> None:
    # iam:CreateUser: the group allows it, the boundary does not (and the OU's SCP denies it)
    r = store.explain(ALICE, "iam:CreateUser")
    assert r["decision"] == "explicitly_denied"
    assert [e["source"] for e in r["denied_by"]] == ["scp:ou-1"]
    # s3:DeleteBucket: allowed by the group, denied by a Deny inside the boundary
    assert _decide(store, ALICE, "s3:DeleteBucket", "arn:aws:s3:::data") == (
        "explicitly_denied",
        [],
        [("boundary", 1)],
    )


def test_every_scp_level_must_allow(store: PolicyStore) -> None:
    # bob allows everything; ou-1 allows only s3/iam/sts: sqs is missing at ou-1
    assert _decide(store, BOB, "sqs:SendMessage") == ("implicitly_denied", ["scp:ou-1"], [])
    assert _decide(store, BOB, "ec2:RunInstances")[1] == ["scp:ou-1"]
    assert _decide(store, BOB, "s3:ListBucket")[0] == "allowed"


def test_no_identity_allow_is_implicit_deny(store: PolicyStore) -> None:
    assert _decide(store, ALICE, "s3:ListBucket", "arn:aws:s3:::data") == (
        "implicitly_denied",
        ["identity"],
        [],
    )


def test_policy_variables_are_substituted(store: PolicyStore) -> None:
    assert _decide(store, ALICE, "s3:GetObject", "arn:aws:s3:::home/alice/x")[0] == "allowed"
    assert _decide(store, ALICE, "s3:GetObject", "arn:aws:s3:::home/bob/x")[:2] == (
        "implicitly_denied",
        ["identity"],
    )


def test_same_account_resource_policy_grants_on_its_own(store: PolicyStore) -> None:
    # the bucket policy names alice for sqs:SendMessage (odd, but it is the policy's grammar);
    # it needs no identity Allow in the same account, yet the SCPs still apply (ou-1: no sqs)
    r = store.explain(ALICE, "sqs:SendMessage", "arn:aws:s3:::shared/a")
    assert r["decision"] == "implicitly_denied"
    assert r["missing_allow_from"] == ["scp:ou-1"]
    assert [e["source"] for e in r["allowed_by"]][:1] == ["resource_policy"]


def test_resource_policy_deny_wins(store: PolicyStore) -> None:
    assert _decide(store, BOB, "s3:GetObject", "arn:aws:s3:::shared/locked/x") == (
        "explicitly_denied",
        [],
        [("resource_policy", 1)],
    )


def test_role_trust_policy(store: PolicyStore) -> None:
    # bob: trust names the account root, so bob's identity Allow is needed (and present)
    r = store.explain(BOB, "sts:AssumeRole", DEPLOY)
    assert r["decision"] == "allowed"
    assert {e["source"] for e in r["allowed_by"]} >= {"identity", "trust_policy"}
    # alice: named directly (same account), under an MFA condition: no identity Allow needed,
    # and a resource policy naming a user's ARN is not limited by her boundary (which allows no
    # sts action); the SCPs still apply (they allow sts:*)
    r = store.explain(ALICE, "sts:AssumeRole", DEPLOY)
    assert r["decision"] == "conditionally_allowed"
    assert r["condition_keys"] == ["aws:multifactorauthpresent"]
    assert [e["source"] for e in r["allowed_by"]] == [
        "trust_policy",
        "scp:r-1",
        "scp:ou-1",
        f"scp:{MEMBER}",
    ]


def test_unknown_principal_and_bad_action_are_user_errors(store: PolicyStore) -> None:
    with pytest.raises(RuntimeError, match="unknown principal"):
        store.explain(f"arn:aws:iam::{MEMBER}:user/nobody", "s3:GetObject")
    with pytest.raises(RuntimeError, match="not an IAM action"):
        store.explain(ALICE, "GetObject")


def test_batch_answers_every_line_in_order(store: PolicyStore) -> None:
    questions = [
        {"principal": ALICE, "action": "s3:GetObject", "resource": "arn:aws:s3:::data/k"},
        {"principal": BOB, "action": "sqs:SendMessage"},
        {"principal": "arn:aws:iam::1:user/ghost", "action": "s3:GetObject"},
        {"principal": ALICE, "action": "s3:GetObject", "resource": "arn:aws:s3:::data/secret/k"},
    ]
    out = io.StringIO()
    text = "\n".join(json.dumps(q) for q in questions) + "\nnot json\n"
    assert run_batch(store, io.StringIO(text), out) == 5
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [a.get("decision") or "error" for a in answers] == [
        "allowed",
        "implicitly_denied",
        "error",
        "explicitly_denied",
        "error",
    ]
    assert answers[2]["line"] == 3
    assert answers[0]["principal"] == ALICE and answers[0]["resource"] == "arn:aws:s3:::data/k"


def test_parser_registers_explain() -> None:
    parser = argparse.ArgumentParser(prog="ciem")
    sub = parser.add_subparsers(dest="command")
    add_explain_parser(sub)
    args = parser.parse_args(["explain", ALICE, "s3:GetObject", "arn:aws:s3:::b/k", "--json"])
    assert (args.principal, args.action, args.resource, args.json) == (
        ALICE,
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        True,
    )
    args = parser.parse_args(["explain", "--batch", "q.jsonl", "--json", "--lake", "lake-dir"])
    assert (args.batch, args.lake, args.principal) == ("q.jsonl", "lake-dir", None)
    assert callable(args.func)


def test_an_action_the_catalog_does_not_know_is_flagged(store: PolicyStore) -> None:
    # The harness catalog (tests/sql/harness.py SMALL_CATALOG) has s3:ListBucket, no typo of it.
    known = store.explain(BOB, "s3:ListBucket")
    typo = store.explain(BOB, "s3:ListBuckets")
    assert (known["known_action"], typo["known_action"]) == (True, False)
    screen = format_decision(typo).splitlines()
    assert "note: s3:ListBuckets is not in the IAM action catalog: check its spelling" in screen


def test_an_implicit_deny_shows_what_is_missing_before_what_allowed(store: PolicyStore) -> None:
    screen = format_decision(store.explain(BOB, "sqs:SendMessage")).splitlines()
    assert screen[2] == "decision: IMPLICITLY_DENIED"
    assert screen.index("no Allow from: scp:ou-1") < screen.index("allowed by:")
