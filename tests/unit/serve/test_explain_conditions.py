"""`ciem explain` with conditions decided from the snapshot and a request context (issue 12
items 1-2), and AWS's special cases (item 3). Each test names the AWS page it follows.

KEYS = https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
SCP_EXAMPLES = https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples_general.html
"""

from __future__ import annotations

import argparse
import io
import json
from datetime import UTC, datetime

import pytest

from pipelines.cli.explain import UsageError, add_explain_parser, parse_context, run_batch
from pipelines.lib.serve.explain import PolicyStore, format_decision
from tests.sql.harness import build

MGMT = "111111111111"
MEMBER = "222222222222"
OUTSIDE = "333333333333"
REGION = "eu-west-1"
ALICE = f"arn:aws:iam::{MEMBER}:user/alice"
BOB = f"arn:aws:iam::{MEMBER}:user/bob"
BREAKGLASS = f"arn:aws:iam::{MEMBER}:role/breakglass"
BOUNDED = f"arn:aws:iam::{MEMBER}:role/bounded"
FREE = f"arn:aws:iam::{MEMBER}:role/free"
EVE = f"arn:aws:iam::{OUTSIDE}:user/eve"
SSO_ROLE = (
    f"arn:aws:iam::{MEMBER}:role/aws-reserved/sso.amazonaws.com/eu-west-1/"
    "AWSReservedSSO_Admin_0123456789abcdef"
)
SLR = (
    f"arn:aws:iam::{MEMBER}:role/aws-service-role/elasticloadbalancing.amazonaws.com/"
    "AWSServiceRoleForElasticLoadBalancing"
)
BOUNDARY = f"arn:aws:iam::{MEMBER}:policy/only-s3"
INSTANCE_PAY = f"arn:aws:ec2:{REGION}:{MEMBER}:instance/i-pay"
INSTANCE_OPS = f"arn:aws:ec2:{REGION}:{MEMBER}:instance/i-ops"
QUEUE_ROLE = f"arn:aws:sqs:{REGION}:{MEMBER}:names-role"
QUEUE_STAR = f"arn:aws:sqs:{REGION}:{MEMBER}:names-star"
QUEUE_SESSION = f"arn:aws:sqs:{REGION}:{MEMBER}:names-session"
KEY_ROOT = f"arn:aws:kms:{REGION}:{MEMBER}:key/k-root"
KEY_NOBODY = f"arn:aws:kms:{REGION}:{MEMBER}:key/k-nobody"
TABLES = [
    "stg_policy_documents",
    "stg_policy_statements",
    "int_identities",
    "int_principal_policies",
    "int_account_scp_levels",
]


def _doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _tags(**tags: str) -> str:
    return json.dumps([{"Key": k, "Value": v} for k, v in tags.items()])


def _user(arn: str, tags: str | None = None, boundary: str | None = None) -> dict:
    name = arn.rsplit("/", 1)[1]
    return {
        "account_id": arn.split(":")[4],
        "user_name": name,
        "user_id": "AIDA" + name.upper(),
        "arn": arn,
        "path": "/",
        "create_date": datetime(2025, 1, 1, tzinfo=UTC),
        "permissions_boundary_arn": boundary,
        "tags_json": tags,
    }


def _role(arn: str, boundary: str | None = None, service_linked: bool = False) -> dict:
    return {
        "account_id": arn.split(":")[4],
        "role_name": arn.rsplit("/", 1)[1],
        "role_id": "AROA" + arn.rsplit("/", 1)[1].upper()[:8],
        "arn": arn,
        "path": "/",
        "assume_role_policy_document": _doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{MEMBER}:root"},
                "Action": "sts:AssumeRole",
            }
        ),
        "permissions_boundary_arn": boundary,
        "is_service_linked": service_linked,
    }


def _inline(arn: str, *statements: dict) -> dict:
    return {
        "account_id": arn.split(":")[4],
        "principal_arn": arn,
        "principal_type": "user" if ":user/" in arn else "role",
        "policy_name": "p",
        "document": _doc(*statements),
    }


def _resource(arn: str, *statements: dict) -> dict:
    service, name = arn.split(":")[2], arn.split(":", 5)[5]
    return {
        "account_id": MEMBER,
        "region": REGION,
        "service": service,
        "resource_type": service,
        "resource_name": name,
        "resource_arn": arn,
        "document": _doc(*statements),
        "source_file": f"{MEMBER}/{REGION}/{service}/x/{name}.json",
    }


ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}
# AWS's region-restriction SCP example, exempting one role by aws:PrincipalArn (SCP_EXAMPLES,
# "Deny access to AWS based on the requested AWS Region").
REGION_SCP = {
    "Sid": "DenyAllOutsideEU",
    "Effect": "Deny",
    "NotAction": ["iam:*", "organizations:*", "sts:*"],
    "Resource": "*",
    "Condition": {
        "StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]},
        "ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/breakglass"]},
    },
}


def _inputs() -> dict[str, list[dict]]:
    return {
        "raw_iam_users": [
            _user(ALICE, tags=_tags(team="payments")),
            _user(BOB),
            _user(EVE),
        ],
        "raw_iam_roles": [
            _role(BREAKGLASS),
            _role(BOUNDED, boundary=BOUNDARY),
            _role(FREE),
            _role(SSO_ROLE),
            _role(SLR, service_linked=True),
        ],
        "raw_iam_policies": [
            {
                "account_id": MEMBER,
                "policy_arn": BOUNDARY,
                "policy_name": "only-s3",
                "policy_id": "ANPAB",
                "is_aws_managed": False,
                "document": _doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
            }
        ],
        "raw_iam_inline_policies": [
            _inline(
                ALICE,
                {"Effect": "Allow", "Action": ["s3:*", "iam:GetPolicy*", "kms:*"], "Resource": "*"},
                {
                    # Tag-based access (KEYS, aws:ResourceTag and aws:PrincipalTag).
                    "Effect": "Allow",
                    "Action": "ec2:StartInstances",
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}
                    },
                },
                {
                    "Effect": "Allow",
                    "Action": "sqs:SendMessage",
                    "Resource": "*",
                    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                },
                {"Effect": "Allow", "Action": "s3:GetObject   ", "Resource": "*"},
            ),
            _inline(
                BOB,
                ALLOW_ALL,
                {"Effect": "Deny", "Action": "sts:GetCallerIdentity", "Resource": "*"},
            ),
            _inline(BREAKGLASS, ALLOW_ALL),
            _inline(EVE, ALLOW_ALL),
            _inline(BOUNDED, {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
        ],
        "raw_ec2_instances": [
            {
                "account_id": MEMBER,
                "region": REGION,
                "instance_id": "i-pay",
                "arn": INSTANCE_PAY,
                "tags_json": _tags(team="payments"),
            },
            {
                "account_id": MEMBER,
                "region": REGION,
                "instance_id": "i-ops",
                "arn": INSTANCE_OPS,
                "tags_json": _tags(team="ops"),
            },
        ],
        "raw_s3_buckets": [{"account_id": MEMBER, "bucket": "data"}],
        "raw_s3_bucket_policies": [
            {
                "account_id": MEMBER,
                "bucket": "data",
                "document": _doc(
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": [f"arn:aws:iam::{OUTSIDE}:root"]},
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::data/*",
                    },
                    {
                        # A data perimeter: nobody outside the organization.
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": "arn:aws:s3:::data/*",
                        "Condition": {
                            "StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-example"},
                            "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
                        },
                    },
                    {
                        "Effect": "Deny",
                        "NotPrincipal": {"AWS": [BOUNDED, FREE, f"arn:aws:iam::{MEMBER}:root"]},
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::data/locked/*",
                    },
                ),
            }
        ],
        "raw_resource_policies": [
            _resource(QUEUE_ROLE, _grant(BOUNDED, "sqs:SendMessage", QUEUE_ROLE)),
            _resource(QUEUE_STAR, _grant("*", "sqs:SendMessage", QUEUE_STAR)),
            _resource(
                QUEUE_SESSION,
                _grant(
                    f"arn:aws:sts::{MEMBER}:assumed-role/bounded/deploy",
                    "sqs:SendMessage",
                    QUEUE_SESSION,
                ),
            ),
            _resource(KEY_ROOT, _grant(f"arn:aws:iam::{MEMBER}:root", "kms:*", "*")),
            _resource(KEY_NOBODY, _grant(f"arn:aws:iam::{OUTSIDE}:root", "kms:*", "*")),
        ],
        "raw_org_organization": [
            {"organization_id": "o-example", "arn": "o", "management_account_id": MGMT}
        ],
        "raw_org_accounts": [
            {"account_id": MGMT, "arn": "a1", "name": "mgmt"},
            {"account_id": MEMBER, "arn": "a2", "name": "member"},
        ],
        "raw_org_roots": [{"root_id": "r-ab12", "arn": "r", "name": "Root"}],
        "raw_org_parents": [
            {"child_id": MEMBER, "parent_id": "ou-ab12-1", "parent_type": "ORGANIZATIONAL_UNIT"},
            {"child_id": "ou-ab12-1", "parent_id": "r-ab12", "parent_type": "ROOT"},
            {"child_id": MGMT, "parent_id": "r-ab12", "parent_type": "ROOT"},
        ],
        "raw_org_policies": [
            {
                "policy_id": "p-full",
                "arn": "x",
                "name": "FullAWSAccess",
                "type": "SERVICE_CONTROL_POLICY",
                "document": _doc(ALLOW_ALL),
            },
            {
                "policy_id": "p-region",
                "arn": "y",
                "name": "RegionRestriction",
                "type": "SERVICE_CONTROL_POLICY",
                "document": _doc(REGION_SCP),
            },
        ],
        "raw_org_policy_targets": [
            {"policy_id": p, "target_id": t, "target_type": "X", "target_name": t, "target_arn": t}
            for p, t in (
                ("p-full", "r-ab12"),
                ("p-full", "ou-ab12-1"),
                ("p-full", MEMBER),
                ("p-region", "ou-ab12-1"),
            )
        ],
    }


def _grant(principal: str, action: str, resource: str) -> dict:
    return {
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": action,
        "Resource": resource,
    }


@pytest.fixture(scope="module")
def store() -> PolicyStore:
    return PolicyStore.from_connection(build(_inputs(), TABLES))


def _answer(store: PolicyStore, *args: str, context: dict | None = None) -> tuple:
    r = store.explain(*args, context=context)
    return r["decision"], r["condition_keys"]


# --- the demo's region-restriction scenario (issue 12, "What it must show") ------------------


def test_region_scp_is_conditional_on_the_region_except_for_the_exempt_role(store) -> None:
    obj = "arn:aws:s3:::data/k"
    assert _answer(store, ALICE, "s3:PutObject", obj) == (
        "conditionally_allowed",
        ["aws:requestedregion"],
    )
    # The exempt role: aws:PrincipalArn is a fact, the Deny cannot apply (SCP_EXAMPLES).
    assert _answer(store, BREAKGLASS, "s3:PutObject", obj) == ("allowed", [])
    # With the region, the answer is exact.
    assert _answer(store, ALICE, "s3:PutObject", obj, context={"aws:RequestedRegion": REGION}) == (
        "allowed",
        [],
    )
    r = store.explain(ALICE, "s3:PutObject", obj, context={"aws:RequestedRegion": "us-east-1"})
    assert (r["decision"], [(e["source"], e["sid"]) for e in r["denied_by"]]) == (
        "explicitly_denied",
        [("scp:ou-ab12-1", "DenyAllOutsideEU")],
    )
    # Actions the SCP's NotAction leaves out are not conditional.
    assert _answer(store, ALICE, "iam:GetPolicy", "arn:aws:iam::aws:policy/ReadOnlyAccess") == (
        "allowed",
        [],
    )


# --- facts decide (KEYS) ----------------------------------------------------------------------


def test_tag_based_access_is_decided_from_principal_and_resource_tags(store) -> None:
    ctx = {"aws:RequestedRegion": REGION}
    assert _answer(store, ALICE, "ec2:StartInstances", INSTANCE_PAY, context=ctx) == ("allowed", [])
    assert _answer(store, ALICE, "ec2:StartInstances", INSTANCE_OPS, context=ctx) == (
        "implicitly_denied",
        [],
    )


def test_org_perimeter_denies_outsiders_and_not_insiders(store) -> None:
    # KEYS, aws:PrincipalOrgID: an outside account has none; the perimeter Deny applies.
    r = store.explain(EVE, "s3:GetObject", "arn:aws:s3:::data/k")
    assert (r["decision"], [e["statement"] for e in r["denied_by"]]) == ("explicitly_denied", [1])
    ctx = {"aws:RequestedRegion": REGION}
    assert _answer(store, ALICE, "s3:GetObject", "arn:aws:s3:::data/k", context=ctx) == (
        "allowed",
        [],
    )


def test_request_keys_without_context_stay_conditional(store) -> None:
    q = (ALICE, "sqs:SendMessage", f"arn:aws:sqs:{REGION}:{MEMBER}:other")
    assert _answer(store, *q) == (
        "conditionally_allowed",
        ["aws:multifactorauthpresent", "aws:requestedregion"],
    )
    ctx = {"aws:RequestedRegion": REGION, "aws:MultiFactorAuthPresent": "true"}
    assert _answer(store, *q, context=ctx) == ("allowed", [])
    ctx["aws:MultiFactorAuthPresent"] = "false"
    assert _answer(store, *q, context=ctx) == ("implicitly_denied", [])
    # A partial context leaves the other key open.
    assert _answer(store, *q, context={"aws:multifactorauthpresent": "true"}) == (
        "conditionally_allowed",
        ["aws:requestedregion"],
    )


def test_context_that_contradicts_the_snapshot_loses_and_is_reported(store) -> None:
    ctx = {
        "aws:RequestedRegion": REGION,
        "aws:PrincipalTag/team": "ops",
        "aws:PrincipalArn": BREAKGLASS,
    }
    r = store.explain(ALICE, "ec2:StartInstances", INSTANCE_OPS, context=ctx)
    assert r["decision"] == "implicitly_denied"
    assert r["context_ignored"] == [
        {"key": "aws:principalarn", "context": [BREAKGLASS], "snapshot": [ALICE]},
        {"key": "aws:principaltag/team", "context": ["ops"], "snapshot": ["payments"]},
    ]
    screen = format_decision(r).splitlines()
    assert (
        "context ignored: aws:principaltag/team=ops contradicts the snapshot (payments); "
        "the snapshot's value was used"
    ) in screen


# --- AWS's special cases (item 3) ---------------------------------------------------------------


def test_get_caller_identity_is_allowed_even_under_an_explicit_deny(store) -> None:
    # https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html: "No
    # permissions are required ... you can still perform this operation" under a Deny.
    assert _answer(store, BOB, "sts:GetCallerIdentity") == ("allowed", [])
    assert _answer(store, EVE, "sts:GetCallerIdentity") == ("allowed", [])


def test_aws_managed_policies_need_only_the_identity_policy(store) -> None:
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html
    # AWS managed policies are AWS's, not another account's resources.
    arn = "arn:aws:iam::aws:policy/AdministratorAccess"
    r = store.explain(ALICE, "iam:GetPolicyVersion", arn)
    assert (r["decision"], r["missing_allow_from"]) == ("allowed", [])
    assert store.explain(BOB, "iam:GetPolicy", arn)["decision"] == "allowed"


@pytest.mark.parametrize("role", [SSO_ROLE, SLR])
@pytest.mark.parametrize(
    "action",
    ["iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:DeleteRole"],
)
def test_sso_and_service_linked_roles_cannot_be_modified(store, role: str, action: str) -> None:
    # https://docs.aws.amazon.com/singlesignon/latest/userguide/referencingpermissionsets.html and
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html
    r = store.explain(BOB, action, role)
    assert (r["decision"], [e["source"] for e in r["denied_by"]]) == ("explicitly_denied", ["aws"])
    assert format_decision(r).splitlines()[3:5] == [
        "denied by:",
        "    AWS: "
        + (
            "IAM Identity Center roles (/aws-reserved/sso.amazonaws.com/) cannot be modified"
            if role == SSO_ROLE
            else "a service-linked role's policies and trust cannot be changed in IAM"
        ),
    ]
    # Reading them is not refused.
    assert store.explain(BOB, "iam:GetRole", role)["decision"] == "allowed"


def test_aws_alias_prefix_is_reserved(store) -> None:
    # https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html
    alias = f"arn:aws:kms:{REGION}:{MEMBER}:alias/aws/s3"
    assert store.explain(BOB, "kms:DeleteAlias", alias)["decision"] == "explicitly_denied"
    own = f"arn:aws:kms:{REGION}:{MEMBER}:alias/team-key"
    ctx = {"aws:RequestedRegion": REGION}
    assert _answer(store, BOB, "kms:DeleteAlias", own, context=ctx) == ("allowed", [])


def test_kms_key_policy_naming_root_delegates_and_one_naming_nobody_denies(store) -> None:
    # https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html: the root
    # statement lets IAM policies grant access; without it the key policy must name the caller.
    ctx = {"aws:RequestedRegion": REGION}
    assert _answer(store, ALICE, "kms:Decrypt", KEY_ROOT, context=ctx) == ("allowed", [])
    r = store.explain(ALICE, "kms:Decrypt", KEY_NOBODY, context=ctx)
    assert (r["decision"], r["missing_allow_from"]) == ("implicitly_denied", ["resource_policy"])
    missing = f"arn:aws:kms:{REGION}:{MEMBER}:key/k-not-in-snapshot"
    r = store.explain(ALICE, "kms:Decrypt", missing, context=ctx)
    assert (r["decision"], r["missing_allow_from"]) == ("implicitly_denied", ["resource_policy"])


def test_boundary_limits_a_grant_to_the_role_arn_not_to_its_sessions(store) -> None:
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html ("Resource-
    # based policies"): naming the role ARN is limited by the boundary (which allows only s3),
    # naming a role session (or `*`) is not.
    ctx = {"aws:RequestedRegion": REGION}
    r = store.explain(BOUNDED, "sqs:SendMessage", QUEUE_ROLE, context=ctx)
    assert (r["decision"], r["missing_allow_from"]) == ("implicitly_denied", ["boundary"])
    assert _answer(store, BOUNDED, "sqs:SendMessage", QUEUE_STAR, context=ctx) == ("allowed", [])
    assert _answer(store, BOUNDED, "sqs:SendMessage", QUEUE_SESSION, context=ctx) == (
        "allowed",
        [],
    )


def test_not_principal_deny_applies_to_a_boundary_limited_principal(store) -> None:
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html:
    # "The NotPrincipal element with a Deny effect will always deny any IAM principal that has a
    # permissions boundary policy attached, regardless of the values specified".
    ctx = {"aws:RequestedRegion": REGION}
    locked = "arn:aws:s3:::data/locked/k"
    r = store.explain(BOUNDED, "s3:GetObject", locked, context=ctx)
    assert (r["decision"], [e["statement"] for e in r["denied_by"]]) == ("explicitly_denied", [2])
    assert store.explain(FREE, "s3:GetObject", locked, context=ctx)["decision"] != (
        "explicitly_denied"
    )


def test_action_names_are_matched_as_written(store) -> None:
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html:
    # an action is `service:ActionName`; "s3:GetObject   " names no action and matches nothing.
    store_con = build(
        {
            "raw_iam_users": [_user(BOB)],
            "raw_iam_inline_policies": [
                _inline(BOB, {"Effect": "Allow", "Action": "s3:GetObject   ", "Resource": "*"})
            ],
        },
        [*TABLES, "effective_permissions"],
    )
    only = PolicyStore.from_connection(store_con)
    assert only.explain(BOB, "s3:GetObject")["decision"] == "implicitly_denied"
    # The SQL evaluation neither: the pattern keeps its spaces and names no catalog action.
    assert store_con.execute(
        "select actions from stg_policy_statements where policy_key like '%inline%'"
    ).fetchall() == [(["s3:getobject   "],)]
    assert store_con.execute("select count(*) from effective_permissions").fetchall() == [(0,)]


# --- the command line and batch (item 2) ----------------------------------------------------


def test_context_option_parses_repeated_and_list_values() -> None:
    parser = argparse.ArgumentParser()
    add_explain_parser(parser.add_subparsers())
    args = parser.parse_args(
        [
            "explain",
            ALICE,
            "s3:GetObject",
            "--context",
            "aws:SourceIp=10.1.2.3",
            "--context",
            "aws:TagKeys=a,b",
            "--context",
            "aws:TagKeys=c",
        ]
    )
    assert parse_context(args.context) == {
        "aws:SourceIp": "10.1.2.3",
        "aws:TagKeys": ["a", "b", "c"],
    }
    with pytest.raises(UsageError):
        parse_context(["no-equals-sign"])


def test_batch_lines_take_a_context(store) -> None:
    lines = io.StringIO(
        "\n".join(
            json.dumps(q)
            for q in (
                {"principal": ALICE, "action": "s3:PutObject", "resource": "arn:aws:s3:::data/k"},
                {
                    "principal": ALICE,
                    "action": "s3:PutObject",
                    "resource": "arn:aws:s3:::data/k",
                    "context": {"aws:RequestedRegion": "us-east-1", "aws:TagKeys": ["a"]},
                },
                {"principal": ALICE, "action": "s3:PutObject", "context": {"k": 1}},
            )
        )
    )
    out = io.StringIO()
    run_batch(store, lines, out)
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [a.get("decision", a.get("error")) for a in answers] == [
        "conditionally_allowed",
        "explicitly_denied",
        "context 'k' must be a string or a list of strings",
    ]
    assert answers[1]["context"] == {"aws:requestedregion": ["us-east-1"], "aws:tagkeys": ["a"]}


def test_an_empty_context_value_says_the_key_is_absent(store) -> None:
    # `--context aws:MultiFactorAuthPresent=`: the request carries no MFA key, so the
    # `Bool aws:MultiFactorAuthPresent true` condition is false (absent key, positive operator).
    assert parse_context(["aws:MultiFactorAuthPresent="]) == {"aws:MultiFactorAuthPresent": []}
    q = (ALICE, "sqs:SendMessage", f"arn:aws:sqs:{REGION}:{MEMBER}:other")
    ctx = {"aws:RequestedRegion": REGION, **parse_context(["aws:MultiFactorAuthPresent="])}
    assert _answer(store, *q, context=ctx) == ("implicitly_denied", [])
