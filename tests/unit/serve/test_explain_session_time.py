"""`ciem explain` bounds aws:TokenIssueTime by the last run's as-of date, as the models do.

KEYS = https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
("aws:TokenIssueTime ... present only when the principal uses temporary credentials");
TEMP = https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_request.html
(temporary credentials last at most 36 hours).
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from pipelines.lib.serve.explain import PolicyStore
from tests.sql.harness import build
from tests.unit.serve.test_explain_conditions import MEMBER, TABLES, _inline, _role, _user

USER = f"arn:aws:iam::{MEMBER}:user/u"
ROLE = f"arn:aws:iam::{MEMBER}:role/r"
POLICY = f"arn:aws:iam::{MEMBER}:policy/p"


def _grant(op: str) -> dict:
    # iam-vulnerable's fp5 (DateLessThan) and fn3 (DateGreaterThan), 2020-01-01T00:00:01Z.
    return {
        "Effect": "Allow",
        "Action": "iam:CreatePolicyVersion",
        "Resource": "*",
        "Condition": {op: {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}},
    }


def _connection(op: str, with_run: bool) -> duckdb.DuckDBPyConnection:
    inputs = {
        "raw_iam_users": [_user(USER)],
        "raw_iam_roles": [_role(ROLE)],
        "raw_iam_inline_policies": [_inline(USER, _grant(op)), _inline(ROLE, _grant(op))],
    }
    con = build(inputs, TABLES, as_of=date(2026, 11, 20))
    if not with_run:  # a warehouse without the run's parameters
        con.execute("drop table run_params")
    return con


@pytest.mark.parametrize(
    ("op", "user", "role"),
    [
        ("DateLessThan", "implicitly_denied", "implicitly_denied"),
        # A user's long-term keys carry no issue time; its sessions cannot call IAM without MFA.
        ("DateGreaterThan", "conditionally_allowed", "allowed"),
    ],
)
def test_token_issue_time_is_decided_from_the_last_run(op: str, user: str, role: str) -> None:
    store = PolicyStore.from_connection(_connection(op, with_run=True))
    assert store.explain(USER, "iam:CreatePolicyVersion", POLICY)["decision"] == user
    assert store.explain(ROLE, "iam:CreatePolicyVersion", POLICY)["decision"] == role


def test_without_a_run_date_the_key_stays_open() -> None:
    store = PolicyStore.from_connection(_connection("DateLessThan", with_run=False))
    for arn in (USER, ROLE):
        r = store.explain(arn, "iam:CreatePolicyVersion", POLICY)
        assert (r["decision"], r["condition_keys"]) == (
            "conditionally_allowed",
            ["aws:tokenissuetime"],
        )
