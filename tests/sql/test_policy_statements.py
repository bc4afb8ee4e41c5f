"""Model tests for policy normalization and wildcard expansion: stg_policy_statements and
int_statement_actions_expanded."""

from __future__ import annotations

from tests.sql.harness import SMALL_CATALOG_ACTIONS, build, inline_policy, rows


def test_statement_actions_expanded_matches_iam_wildcards_case_insensitively() -> None:
    statements = [
        {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"},  # 0
        {"Effect": "Allow", "Action": ["S3:LISTBUCKET", "s3:NoSuchAction"], "Resource": "*"},  # 1
        {"Effect": "Allow", "NotAction": ["s3:*", "iam:*"], "Resource": "*"},  # 2
        {"Effect": "Allow", "Action": "*", "Resource": "*"},  # 3
        {"Effect": "Allow", "Action": "ec2:Run?nstances", "Resource": "*"},  # 4
        {"Effect": "Allow", "Action": "*:List*", "Resource": "*"},  # 5
    ]
    con = build(
        {
            "raw_iam_inline_policies": [
                inline_policy("arn:aws:iam::111111111111:user/a", statements)
            ]
        },
        ["int_statement_actions_expanded"],
    )
    got = set(rows(con, "select statement_index, action from int_statement_actions_expanded"))
    expected = (
        {(0, "s3:getobject")}
        | {(1, "s3:listbucket")}
        | {
            (2, a)
            for a in ("ec2:runinstances", "lambda:createfunction", "cloudwatch:putmetricdata")
        }
        | {(3, a) for a in SMALL_CATALOG_ACTIONS}
        | {(4, "ec2:runinstances")}
        | {(5, "s3:listbucket"), (5, "s3:listallmybuckets")}
    )
    assert got == expected


def test_statements_accept_single_statement_object_and_string_fields() -> None:
    # `Statement` is one object, not a list; Action and Resource are strings.
    statement = {
        "Sid": "One",
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/*",
        "Condition": {"Bool": {"aws:SecureTransport": "true"}},
    }
    con = build(
        {"raw_iam_inline_policies": [inline_policy("arn:aws:iam::111111111111:role/r", statement)]},
        ["stg_policy_statements"],
    )
    assert rows(
        con,
        """select statement_index, sid, effect, actions, resources, has_condition,
                        applies_to_all_resources from stg_policy_statements""",
    ) == [(0, "One", "Allow", ["s3:getobject"], ["arn:aws:s3:::b/*"], True, False)]
