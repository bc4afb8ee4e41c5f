"""Condition and principal keys are literal keys, never JSON paths: a key written `$.x`, `$` or
`/x` (a JSONPath or a JSON pointer to DuckDB's `->`) is read as written (issue 18, item 4)."""

from __future__ import annotations

from tests.sql.harness import (
    bucket_policy,
    build,
    iam_role,
    iam_user,
    inline_policy,
    rows,
    user_arn,
)

ALICE = user_arn("alice")
CONDITION = {
    "StringEquals": {"$.x": "a", "/y": ["b", "c"], "aws:PrincipalTag/team": "z"},
    "$": {"aws:SourceIp": "10.0.0.0/8"},
}


def test_identity_statement_condition_keys_are_the_keys_as_written() -> None:
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    con = build(
        {
            "raw_iam_users": [iam_user("alice")],
            "raw_iam_inline_policies": [
                inline_policy(ALICE, [{**statement, "Condition": CONDITION}])
            ],
        },
        ["stg_policy_statements"],
    )
    assert rows(con, "select condition_keys from stg_policy_statements") == [
        (["$.x", "/y", "aws:principaltag/team", "aws:sourceip"],)
    ]


def test_resource_policy_condition_entries_are_the_entries_as_written() -> None:
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/*",
        "Condition": CONDITION,
    }
    con = build(
        {"raw_s3_bucket_policies": [bucket_policy("b", [statement])]},
        ["int_policy_condition_entries"],
    )
    entries = rows(
        con,
        "select operator, condition_key_as_written, condition_values "
        "from int_policy_condition_entries",
    )
    assert {(op, key, tuple(values)) for op, key, values in entries} == {
        ("StringEquals", "$.x", ("a",)),
        ("StringEquals", "/y", ("b", "c")),
        ("StringEquals", "aws:PrincipalTag/team", ("z",)),
        ("$", "aws:SourceIp", ("10.0.0.0/8",)),
    }


def test_trust_principal_types_are_the_keys_as_written() -> None:
    trust = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::222222222222:root", "$": "x", "/Service": "y"},
        "Action": "sts:AssumeRole",
    }
    con = build({"raw_iam_roles": [iam_role("r", [trust])]}, ["int_role_trust_principals"])
    found = rows(con, "select principal_type_key, principal from int_role_trust_principals")
    assert set(found) == {
        ("AWS", "arn:aws:iam::222222222222:root"),
        ("$", "x"),
        ("/Service", "y"),
    }
