"""Model tests for the relationships mart: every edge kind, and which edges are risky and why."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pipelines.lib.reference.csvs import load_reference
from tests.sql.harness import SMALL_CATALOG, build, catalog_rows, rows

ACCT = "111111111111"
MEMBER = "222222222222"
VENDOR = "999999999999"
GITHUB = f"arn:aws:iam::{ACCT}:oidc-provider/token.actions.githubusercontent.com"
BOUNDARY = f"arn:aws:iam::{ACCT}:policy/boundary"
READONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def _arn(kind: str, name: str, account: str = ACCT) -> str:
    return f"arn:aws:iam::{account}:{kind}/{name}"


def _doc(statements: list[dict]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _role(name: str, trust: list[dict], boundary: str | None = None) -> dict[str, Any]:
    return {
        "account_id": ACCT,
        "role_name": name,
        "role_id": "AROA" + name.upper().replace("-", ""),
        "arn": _arn("role", name),
        "path": "/",
        "create_date": datetime(2025, 1, 1, tzinfo=UTC),
        "is_service_linked": False,
        "permissions_boundary_arn": boundary,
        "assume_role_policy_document": _doc(trust),
    }


def _inline(principal_arn: str, ptype: str, name: str, statements: list[dict]) -> dict:
    return {
        "account_id": ACCT,
        "principal_arn": principal_arn,
        "principal_type": ptype,
        "policy_name": name,
        "document": _doc(statements),
    }


def _inputs() -> dict[str, list[dict]]:
    everything = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    read = [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]
    trust_ec2 = [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    return {
        "raw_iam_users": [
            {
                "account_id": ACCT,
                "user_name": "dev",
                "user_id": "AIDADEV",
                "arn": _arn("user", "dev"),
                "path": "/",
                "permissions_boundary_arn": BOUNDARY,
            }
        ],
        "raw_iam_groups": [
            {
                "account_id": ACCT,
                "group_name": "devs",
                "group_id": "AGPADEVS",
                "arn": _arn("group", "devs"),
                "path": "/",
            }
        ],
        "raw_iam_group_memberships": [
            {
                "account_id": ACCT,
                "user_arn": _arn("user", "dev"),
                "group_arn": _arn("group", "devs"),
            }
        ],
        "raw_iam_policy_attachments": [
            {
                "account_id": ACCT,
                "principal_arn": _arn("group", "devs"),
                "principal_type": "group",
                "policy_arn": READONLY,
            }
        ],
        "raw_iam_inline_policies": [
            _inline(_arn("user", "dev"), "user", "dev-extra", read),
            _inline(_arn("role", "admin-ec2"), "role", "all", everything),
            _inline(_arn("role", "app"), "role", "read", read),
            _inline(_arn("role", "deploy"), "role", "read", read),
        ],
        "raw_iam_roles": [
            _role(
                "admin-ec2",
                [
                    *trust_ec2,
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
                        "Action": "sts:AssumeRole",
                    },
                ],
            ),
            _role(
                "app",
                [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
                boundary=BOUNDARY,
            ),
            _role(
                "deploy",
                [
                    {
                        "Effect": "Allow",
                        "Principal": {"Federated": GITHUB},
                        "Action": "sts:AssumeRoleWithWebIdentity",
                    },
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": [VENDOR, f"arn:aws:iam::{MEMBER}:root"]},
                        "Action": "sts:AssumeRole",
                    },
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}},
                    },
                    {"Effect": "Allow", "Principal": "*", "Action": "sts:TagSession"},
                ],
            ),
        ],
        "raw_iam_instance_profiles": [
            {
                "account_id": ACCT,
                "instance_profile_name": "admin-ec2",
                "instance_profile_id": "AIPAADMIN",
                "arn": _arn("instance-profile", "admin-ec2"),
                "role_arn": _arn("role", "admin-ec2"),
            }
        ],
        "raw_ec2_instances": [
            {
                "account_id": ACCT,
                "region": "us-east-1",
                "instance_id": "i-0abc",
                "arn": f"arn:aws:ec2:us-east-1:{ACCT}:instance/i-0abc",
                "state": "running",
                "instance_profile_arn": _arn("instance-profile", "admin-ec2"),
            }
        ],
        "raw_lambda_functions": [
            {
                "account_id": ACCT,
                "region": "us-east-1",
                "function_name": "resize",
                "function_arn": f"arn:aws:lambda:us-east-1:{ACCT}:function:resize",
                "role_arn": _arn("role", "app"),
                "runtime": "python3.12",
            }
        ],
        "raw_s3_bucket_policies": [
            {
                "account_id": ACCT,
                "bucket": "site",
                "document": _doc(
                    [
                        {
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": "s3:GetObject",
                            "Resource": "arn:aws:s3:::site/*",
                        },
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": MEMBER},
                            "Action": ["s3:GetObject", "s3:PutObject"],
                            "Resource": "arn:aws:s3:::site/*",
                        },
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "*"},
                            "Action": "s3:ListBucket",
                            "Resource": "arn:aws:s3:::site",
                            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}},
                        },
                    ]
                ),
            }
        ],
        "raw_org_accounts": [
            {"account_id": a, "arn": f"arn:aws:organizations::{ACCT}:account/o-abc/{a}", "name": a}
            for a in (ACCT, MEMBER)
        ],
        "ref_iam_actions": catalog_rows([*SMALL_CATALOG, ("sts:AssumeRole", "Write")]),
        "ref_oidc_providers": load_reference("ref_oidc_providers").to_pylist(),
    }


def test_relationships_have_every_edge_kind_with_its_risk() -> None:
    con = build(_inputs(), ["relationships"])
    got = set(
        rows(
            con,
            """
        select source_arn, source_type, relationship, target_arn, target_type,
               source_account_id, target_account_id, is_risky, risk_reason
        from relationships
    """,
        )
    )
    user, group, deploy = _arn("user", "dev"), _arn("group", "devs"), _arn("role", "deploy")
    admin, app = _arn("role", "admin-ec2"), _arn("role", "app")
    bucket = "arn:aws:s3:::site"
    assert got == {
        (user, "iam_user", "member_of", group, "iam_group", ACCT, ACCT, False, None),
        (group, "iam_group", "has_policy", READONLY, "managed_policy", ACCT, None, False, None),
        (
            user,
            "iam_user",
            "has_policy",
            f"{user}#inline/dev-extra",
            "inline_policy",
            ACCT,
            ACCT,
            False,
            None,
        ),
        (
            admin,
            "iam_role",
            "has_policy",
            f"{admin}#inline/all",
            "inline_policy",
            ACCT,
            ACCT,
            False,
            None,
        ),
        (
            app,
            "iam_role",
            "has_policy",
            f"{app}#inline/read",
            "inline_policy",
            ACCT,
            ACCT,
            False,
            None,
        ),
        (
            deploy,
            "iam_role",
            "has_policy",
            f"{deploy}#inline/read",
            "inline_policy",
            ACCT,
            ACCT,
            False,
            None,
        ),
        (user, "iam_user", "has_boundary", BOUNDARY, "managed_policy", ACCT, ACCT, False, None),
        (app, "iam_role", "has_boundary", BOUNDARY, "managed_policy", ACCT, ACCT, False, None),
        (
            "ec2.amazonaws.com",
            "service",
            "can_assume",
            admin,
            "iam_role",
            None,
            ACCT,
            True,
            "assumes-admin-role",
        ),
        (
            f"arn:aws:iam::{ACCT}:root",
            "aws_account",
            "can_assume",
            admin,
            "iam_role",
            ACCT,
            ACCT,
            True,
            "assumes-admin-role",
        ),
        ("lambda.amazonaws.com", "service", "can_assume", app, "iam_role", None, ACCT, False, None),
        (
            GITHUB,
            "oidc_provider",
            "can_assume",
            deploy,
            "iam_role",
            ACCT,
            ACCT,
            True,
            "oidc-trust-without-subject",
        ),
        (
            f"arn:aws:iam::{VENDOR}:root",
            "aws_account",
            "can_assume",
            deploy,
            "iam_role",
            VENDOR,
            ACCT,
            True,
            "cross-account-trust-without-external-id, trust-outside-organization",
        ),
        (
            f"arn:aws:iam::{MEMBER}:root",
            "aws_account",
            "can_assume",
            deploy,
            "iam_role",
            MEMBER,
            ACCT,
            False,
            None,
        ),
        # `*` restricted to the organization: an edge, not a risk (the TagSession-only
        # statement grants no assume and adds no edge)
        ("*", "anyone", "can_assume", deploy, "iam_role", None, ACCT, False, None),
        (
            f"arn:aws:ec2:us-east-1:{ACCT}:instance/i-0abc",
            "ec2_instance",
            "runs_as",
            admin,
            "iam_role",
            ACCT,
            ACCT,
            True,
            "runs-as-admin-role",
        ),
        (
            f"arn:aws:lambda:us-east-1:{ACCT}:function:resize",
            "lambda_function",
            "runs_as",
            app,
            "iam_role",
            ACCT,
            ACCT,
            False,
            None,
        ),
        (
            "*",
            "anyone",
            "resource_policy_grant",
            bucket,
            "s3_bucket",
            None,
            ACCT,
            True,
            "public-resource-policy",
        ),
        (
            f"arn:aws:iam::{MEMBER}:root",
            "aws_account",
            "resource_policy_grant",
            bucket,
            "s3_bucket",
            MEMBER,
            ACCT,
            False,
            None,
        ),
    }


def test_relationship_details_and_neighbourhood_query() -> None:
    con = build(_inputs(), ["relationships"])
    deploy = _arn("role", "deploy")
    # the documented neighbourhood query, with the resource's ARN bound as a parameter
    neighbourhood = con.execute(
        "select relationship, source_arn, target_arn from relationships "
        "where source_arn = $arn or target_arn = $arn order by all",
        {"arn": deploy},
    ).fetchall()
    assert [r[0] for r in neighbourhood] == ["can_assume"] * 4 + ["has_policy"]
    ((details,),) = rows(
        con,
        "select details from relationships where relationship = 'resource_policy_grant' "
        "and source_arn = '*'",
    )
    # the conditional ListBucket statement is `*` too: both statements are listed
    assert json.loads(details) == {
        "statements": [0, 2],
        "action_count": 2,
        "actions": ["s3:getobject", "s3:listbucket"],
        "conditional": False,
        "condition_keys": ["aws:principalorgid"],
    }
    ((details,),) = rows(
        con,
        "select details from relationships where relationship = 'can_assume' "
        f"and source_arn = '{GITHUB}'",
    )
    assert json.loads(details) == {
        "statements": [
            {
                "statement": 0,
                "sid": None,
                "principal": GITHUB,
                "assume_actions": ["sts:assumerolewithwebidentity"],
                "condition": None,
            }
        ],
        "has_external_id": False,
        "organization_account": True,
        "oidc_provider": "token.actions.githubusercontent.com",
        "subject_condition_key": "token.actions.githubusercontent.com:sub",
    }


def test_a_perimeter_deny_makes_edges_from_anyone_not_risky() -> None:
    perimeter = {
        "Sid": "Perimeter",
        "Effect": "Deny",
        "Principal": "*",
        "Condition": {
            "StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc"},
            "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
        },
    }
    open_trust = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
    public_read = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
    }

    def bucket(name: str, *extra: dict) -> dict:
        statements = [{**public_read, "Resource": f"arn:aws:s3:::{name}/*"}, *extra]
        return {"account_id": ACCT, "bucket": name, "document": _doc(statements)}

    con = build(
        {
            "raw_iam_roles": [
                _role("fenced", [open_trust, {**perimeter, "Action": "sts:AssumeRole"}]),
                _role("open", [open_trust]),
            ],
            "raw_s3_bucket_policies": [
                bucket(
                    "fenced",
                    {**perimeter, "Action": "s3:*", "Resource": "arn:aws:s3:::fenced/*"},
                ),
                bucket("open"),
            ],
            "ref_iam_actions": catalog_rows([*SMALL_CATALOG, ("sts:AssumeRole", "Write")]),
            "ref_oidc_providers": load_reference("ref_oidc_providers").to_pylist(),
        },
        ["relationships"],
    )
    assert set(
        rows(
            con,
            "select relationship, target_arn, is_risky, risk_reason from relationships "
            "where source_arn = '*'",
        )
    ) == {
        ("can_assume", _arn("role", "fenced"), False, None),
        ("can_assume", _arn("role", "open"), True, "trust-wildcard-principal"),
        ("resource_policy_grant", "arn:aws:s3:::fenced", False, None),
        ("resource_policy_grant", "arn:aws:s3:::open", True, "public-resource-policy"),
    }
