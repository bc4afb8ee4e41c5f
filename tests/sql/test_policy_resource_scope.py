"""Model tests for resource scope in effective_permissions: a Deny evaluated with its own
resources, IAM's resource patterns, conditional Denies and policy variables."""

from __future__ import annotations

from tests.sql.harness import (
    ACCT,
    attachment,
    build,
    iam_user,
    inline_policy,
    managed_policy,
    rows,
    user_arn,
)


def _single_user_inputs(statements: list[dict], *, user: str = "u") -> dict[str, list[dict]]:
    """One user of a standalone account (no organization) with one inline policy."""
    return {
        "raw_iam_users": [iam_user(user)],
        "raw_iam_inline_policies": [inline_policy(user_arn(user), statements)],
    }


def _scope(con) -> set[tuple]:
    return {
        (action, tuple(granted), tuple(denied), scope, conditional, partial)
        for action, granted, denied, scope, conditional, partial in rows(
            con,
            """select action, granted_resources, denied_resources, resource_scope,
                      is_conditional, has_partial_deny
               from effective_permissions""",
        )
    }


def test_deny_is_evaluated_with_its_own_resource() -> None:
    statements = [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
        {
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::c/*"],
        },
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b*"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::secret"},
    ]
    con = build(_single_user_inputs(statements), ["effective_permissions"])
    assert _scope(con) == {
        # the Deny covers the whole grant: the action is gone
        # the Deny covers one of the two granted patterns: the other stays
        ("s3:putobject", ("arn:aws:s3:::c/*",), ("arn:aws:s3:::b*",), "scoped", False, True),
        # a Deny on one bucket leaves "*" granted (all other resources)
        ("s3:listbucket", ("*",), ("arn:aws:s3:::secret",), "all", False, True),
    }


def test_resource_patterns_match_case_sensitively_with_only_star_and_question_mark() -> None:
    statements = [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::Bucket/*"},
        # differs in case: does not cover the grant
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*"},
        # `?` is one character: it does not cover everything `*` grants
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/?"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b_1"},
        # `_` and `%` are not wildcards in IAM
        {"Effect": "Deny", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b%"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/r1"},
        {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/r?"},
    ]
    con = build(_single_user_inputs(statements), ["effective_permissions"])
    assert _scope(con) == {
        (
            "s3:getobject",
            ("arn:aws:s3:::Bucket/*",),
            ("arn:aws:s3:::bucket/*",),
            "scoped",
            False,
            True,
        ),
        ("s3:putobject", ("arn:aws:s3:::b/*",), ("arn:aws:s3:::b/?",), "scoped", False, True),
        ("s3:listbucket", ("arn:aws:s3:::b_1",), ("arn:aws:s3:::b%",), "scoped", False, True),
    }


def test_conditional_deny_makes_the_grant_conditional_and_keeps_its_keys() -> None:
    statements = [
        {"Effect": "Allow", "Action": ["ec2:RunInstances", "s3:GetObject"], "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": "ec2:RunInstances",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}},
        },
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": "*",
            "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
        },
    ]
    con = build(_single_user_inputs(statements), ["effective_permissions"])
    got = rows(
        con,
        "select action, is_conditional, has_partial_deny, condition_keys "
        "from effective_permissions",
    )
    assert {(a, c, p, tuple(k)) for a, c, p, k in got} == {
        ("ec2:runinstances", True, True, ("aws:requestedregion",)),
        ("s3:getobject", False, False, ()),
        ("iam:passrole", True, False, ("iam:passedtoservice",)),
    }


def test_policy_variables_are_substituted_per_principal() -> None:
    policy = managed_policy(
        f"arn:aws:iam::{ACCT}:policy/home",
        [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::home/${aws:username}/*",
            },
            {
                "Effect": "Deny",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::home/${AWS:UserName}/private/*",
            },
        ],
    )
    inputs = {
        "raw_iam_users": [iam_user("ann_1"), iam_user("ben")],
        "raw_iam_policies": [policy],
        "raw_iam_policy_attachments": [
            attachment(user_arn(u), policy["policy_arn"]) for u in ("ann_1", "ben")
        ],
    }
    con = build(inputs, ["effective_permissions"])
    assert {
        (p, tuple(g), tuple(d))
        for p, g, d in rows(
            con,
            """select split_part(principal_arn, '/', -1), granted_resources, denied_resources
               from effective_permissions""",
        )
    } == {
        ("ann_1", ("arn:aws:s3:::home/ann_1/*",), ("arn:aws:s3:::home/ann_1/private/*",)),
        ("ben", ("arn:aws:s3:::home/ben/*",), ("arn:aws:s3:::home/ben/private/*",)),
    }
