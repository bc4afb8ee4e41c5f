"""Property-based tests (hypothesis) of the evaluation logic: the SQL models
(effective_permissions) and the `ciem explain` evaluator, on random identity policies over a
small catalog, must satisfy IAM's algebra and agree with each other, conditions included: on keys
the snapshot decides (the user's ARN, account, name, tags; the organization's id) and on keys of
the request (MFA, region), alone and together."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest

# hypothesis is a dev dependency (pinned in the lock); skipped only where it is not installed.
pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipelines.lib.serve.explain import PolicyStore
from tests.sql import test_resource_condition_verdicts as perimeter
from tests.sql.harness import SMALL_CATALOG, build

ACCT = "111111111111"
USER = f"arn:aws:iam::{ACCT}:user/u"
CATALOG = [name.lower() for name, _ in SMALL_CATALOG]
PERMIT = ("allowed", "conditionally_allowed")

action_patterns = st.sampled_from(
    [
        "s3:*",
        "s3:Get*",
        "S3:PUTOBJECT",
        "s3:List?ucket",
        "*",
        "iam:PassRole",
        "iam:*",
        "ec2:Run?nstances",
        "*:List*",
        "lambda:createfunction",
        "cloudwatch:NoSuchAction",
    ]
)
resource_patterns = st.sampled_from(
    [
        "*",
        "arn:aws:s3:::b/*",
        "arn:aws:s3:::b/x",
        "arn:aws:s3:::B/*",
        "arn:aws:s3:::b?x",
        "arn:aws:s3:::home/${aws:username}/*",
        "arn:aws:iam::111111111111:role/r",
    ]
)
# (operator, key, value): keys of the request (never decided without a context) and keys the
# snapshot decides for the user `u` of account 111111111111, tagged team=red, in organization
# o-test (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
condition_entries = st.sampled_from(
    [
        ("Bool", "aws:MultiFactorAuthPresent", "true"),
        ("StringEquals", "aws:RequestedRegion", ["eu-west-1", "eu-central-1"]),
        ("StringNotEquals", "aws:RequestedRegion", "eu-west-1"),
        ("ArnLike", "aws:PrincipalArn", f"arn:aws:iam::{ACCT}:user/*"),
        ("ArnNotLike", "aws:PrincipalArn", "arn:aws:iam::*:user/u"),
        ("ArnNotLike", "aws:PrincipalArn", "arn:aws:iam::*:role/break-glass"),
        ("StringEquals", "aws:PrincipalAccount", "222222222222"),
        ("StringEquals", "aws:PrincipalTag/team", "red"),
        ("StringEquals", "aws:PrincipalTag/Team", ["blue", "green"]),
        ("StringLike", "aws:PrincipalTag/team", "r?d"),
        ("Null", "aws:PrincipalTag/cost-center", "true"),
        ("StringEqualsIfExists", "aws:PrincipalTag/owner", "x"),
        ("StringEquals", "aws:username", "${aws:username}"),
        ("StringEquals", "aws:PrincipalOrgID", "o-test"),
        ("StringNotEquals", "aws:PrincipalOrgID", "o-test"),
        ("ForAnyValue:StringLike", "aws:PrincipalOrgPaths", "o-test/r-root/*"),
        ("Bool", "aws:PrincipalIsAWSService", "true"),
        ("StringEquals", "aws:PrincipalType", "User"),
    ]
)
RESOURCES = [
    "arn:aws:s3:::b/x",
    "arn:aws:s3:::b/yx",
    "arn:aws:s3:::B/x",
    "arn:aws:s3:::home/u/k",
    "arn:aws:iam::111111111111:role/r",
    "arn:aws:s3:::other",
]


@st.composite
def statements(draw: st.DrawFn, effect: str | None = None) -> dict:
    stmt: dict = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"]))}
    actions = draw(st.lists(action_patterns, min_size=1, max_size=3))
    stmt["NotAction" if draw(st.booleans()) and len(actions) < 3 else "Action"] = actions
    resources = draw(st.lists(resource_patterns, min_size=1, max_size=2))
    stmt["NotResource" if draw(st.integers(0, 5)) == 0 else "Resource"] = resources
    if draw(st.integers(0, 2)) == 0:
        condition: dict[str, dict[str, object]] = {}
        for operator, key, value in draw(st.lists(condition_entries, min_size=1, max_size=2)):
            condition.setdefault(operator, {})[key] = value
        stmt["Condition"] = condition
    return stmt


policies = st.lists(statements(), min_size=1, max_size=4)


def _inputs(stmts: list[dict], boundary: list[dict] | None = None) -> dict[str, list[dict]]:
    boundary_arn = f"arn:aws:iam::{ACCT}:policy/b" if boundary else None
    inputs: dict[str, list[dict]] = {
        "raw_iam_users": [
            {
                "account_id": ACCT,
                "user_name": "u",
                "user_id": "AIDAU",
                "arn": USER,
                "path": "/",
                "create_date": datetime(2025, 1, 1, tzinfo=UTC),
                "permissions_boundary_arn": boundary_arn,
                "tags_json": json.dumps([{"Key": "team", "Value": "red"}]),
            }
        ],
        # The user's account is the organization's management account (SCPs do not apply).
        "raw_org_organization": [
            {
                "organization_id": "o-test",
                "arn": f"arn:aws:organizations::{ACCT}:organization/o-test",
                "management_account_id": ACCT,
                "feature_set": "ALL",
            }
        ],
        "raw_org_parents": [{"child_id": ACCT, "parent_id": "r-root", "parent_type": "ROOT"}],
        "raw_iam_inline_policies": [
            {
                "account_id": ACCT,
                "principal_arn": USER,
                "principal_type": "user",
                "policy_name": "p",
                "document": json.dumps({"Version": "2012-10-17", "Statement": stmts}),
            }
        ],
        # The buckets the properties name (every case variant) are the user's account's: an S3
        # request on a bucket of unknown owner would be cross-account (issue 12 item 4).
        "raw_s3_buckets": [
            {"account_id": ACCT, "bucket": b}
            for b in sorted(
                {v for n in ("data", "Data", "dAtA") for v in (n, n.upper(), n.swapcase())}
            )
        ],
    }
    if boundary:
        inputs["raw_iam_policies"] = [
            {
                "account_id": ACCT,
                "policy_arn": boundary_arn,
                "policy_name": "b",
                "policy_id": "ANPAB",
                "is_aws_managed": False,
                "document": json.dumps({"Version": "2012-10-17", "Statement": boundary}),
            }
        ]
    return inputs


def _evaluate(stmts: list[dict], boundary: list[dict] | None = None):
    sql, _, store = _evaluate_conditions(stmts, boundary)
    return set(sql), store


def _evaluate_conditions(stmts: list[dict], boundary: list[dict] | None = None):
    """SQL's effective actions, and each one's (is_conditional, condition_keys)."""
    con = build(
        _inputs(stmts, boundary),
        ["effective_permissions", "stg_policy_documents", "int_account_scp_levels"],
    )
    rows = con.execute(
        "select action, is_conditional, condition_keys from effective_permissions"
    ).fetchall()
    sql = {a: (c, sorted(k)) for a, c, k in rows}
    return sql, con, PolicyStore.from_connection(con)


def _permits(store: PolicyStore, action: str, resource: str | None = None) -> bool:
    return store.explain(USER, action, resource)["decision"] in PERMIT


# Each example builds the SQL models (~0.3 s): a dozen per property keeps the default suite
# fast; CIEM_PROPERTY_EXAMPLES=500 runs a deeper search.
EXAMPLES = int(os.environ.get("CIEM_PROPERTY_EXAMPLES", "12"))
SQL_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@SQL_SETTINGS
@given(policies, st.one_of(st.none(), st.lists(statements(), min_size=1, max_size=2)))
def test_sql_and_explain_agree_at_action_level(stmts: list[dict], boundary) -> None:
    sql, store = _evaluate(stmts, boundary)
    assert sql == {a for a in CATALOG if _permits(store, a)}


MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
REGIONS = {"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}


@SQL_SETTINGS
@given(policies, st.one_of(st.none(), st.lists(statements(), min_size=1, max_size=2)))
# NotResource "*" covers no resource: neither statement applies (explain kept the Deny's keys).
@example(
    [
        {"Effect": "Allow", "Action": ["s3:*"], "NotResource": ["*"], "Condition": REGIONS},
        {"Effect": "Deny", "Action": ["s3:*"], "NotResource": ["*"], "Condition": MFA},
    ],
    None,
)
# A conditional Deny covering every resource the grant names: conditional (explain: allowed).
@example(
    [
        {"Effect": "Allow", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::b/*"]},
        {"Effect": "Deny", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::b/*"], "Condition": MFA},
    ],
    None,
)
def test_sql_and_explain_agree_on_conditions_at_action_level(stmts: list[dict], boundary) -> None:
    """The same resolution of conditions: a condition the snapshot decides false takes its
    statement out, one decided true makes it unconditional, and the answer that stays
    conditional names the same request keys on both sides."""
    sql, _, store = _evaluate_conditions(stmts, boundary)
    explained = {a: store.explain(USER, a) for a in CATALOG}
    assert set(sql) == {a for a, r in explained.items() if r["decision"] in PERMIT}
    for action, (conditional, keys) in sql.items():
        r = explained[action]
        assert conditional == (r["decision"] == "conditionally_allowed"), (action, r)
        if conditional:
            assert set(r["condition_keys"]) == set(keys), (action, r)
        # only request keys stay open: every snapshot key of the strategy is decided
        assert set(keys) <= {"aws:multifactorauthpresent", "aws:requestedregion"}, action


def _answers(stmts: list[dict], boundary: list[dict] | None = None) -> tuple[set, set]:
    """Whole answers on both sides: SQL's (action, is_conditional, condition_keys,
    has_partial_deny) rows, and explain's (action, decision, condition_keys) per catalog action."""
    con = build(
        _inputs(stmts, boundary),
        ["effective_permissions", "stg_policy_documents", "int_account_scp_levels"],
    )
    sql = {
        (a, c, tuple(sorted(k)), p)
        for a, c, k, p in con.execute(
            """select action, is_conditional, condition_keys, has_partial_deny
               from effective_permissions"""
        ).fetchall()
    }
    store = PolicyStore.from_connection(con)
    explained = set()
    for action in CATALOG:
        r = store.explain(USER, action)
        explained.add((action, r["decision"], tuple(r["condition_keys"])))
    return sql, explained


S3 = sorted(a for a in CATALOG if a.startswith("s3:"))
ALL_S3 = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}


def test_a_not_resource_star_allow_grants_nothing() -> None:
    # NotResource "*" leaves no resource (not even the `*` of an action that names none, as
    # s3:ListAllMyBuckets): the statement grants nothing, with or without a Condition, and in
    # the boundary it allows nothing.
    for stmt in (
        {"Effect": "Allow", "Action": "s3:*", "NotResource": "*"},
        {"Effect": "Allow", "Action": "*", "NotResource": ["arn:aws:s3:::b", "**"]},
        {"Effect": "Allow", "Action": "s3:*", "NotResource": ["*"], "Condition": REGIONS},
    ):
        sql, explained = _answers([stmt])
        assert sql == set(), stmt
        assert explained == {(a, "implicitly_denied", ()) for a in CATALOG}, stmt
        _, store = _evaluate([stmt])
        assert {store.explain(USER, "s3:GetObject", r)["decision"] for r in RESOURCES} == {
            "implicitly_denied"
        }, stmt
    sql, explained = _answers(
        [ALL_S3], boundary=[{"Effect": "Allow", "Action": "*", "NotResource": "*"}]
    )
    assert sql == set()
    assert explained == {(a, "implicitly_denied", ()) for a in CATALOG}


def test_a_not_resource_star_deny_denies_nothing() -> None:
    # ... nor does a Deny: no partial Deny, no Condition key, nothing conditional.
    for deny in (
        {"Effect": "Deny", "Action": "s3:*", "NotResource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "NotResource": "*", "Condition": MFA},
    ):
        sql, explained = _answers([ALL_S3, deny])
        assert sql == {(a, False, (), False) for a in S3}, deny
        assert explained == {(a, "allowed", ()) for a in S3} | {
            (a, "implicitly_denied", ()) for a in CATALOG if a not in S3
        }, deny


def test_a_conditional_deny_on_what_the_grant_names_makes_it_conditional() -> None:
    grant = {"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::b/*"]}
    others = {(a, "implicitly_denied", ()) for a in CATALOG if a not in S3}
    mfa = ("aws:multifactorauthpresent",)
    # covering every resource the grant names: allowed only when the Deny's Condition fails
    for deny_resources in (["arn:aws:s3:::b/*"], ["arn:aws:s3:::*"], ["arn:aws:s3:::b/*", "x"]):
        deny = {"Effect": "Deny", "Action": "s3:*", "Resource": deny_resources, "Condition": MFA}
        sql, explained = _answers([grant, deny])
        assert sql == {(a, True, mfa, True) for a in S3}, deny_resources
        assert explained == {(a, "conditionally_allowed", mfa) for a in S3} | others
    # covering a part of them: allowed without condition on the rest (a partial Deny, whose
    # keys effective_permissions lists all the same: b/x depends on them)
    deny = {"Effect": "Deny", "Action": "s3:*", "Resource": ["arn:aws:s3:::b/x"], "Condition": MFA}
    sql, explained = _answers([grant, deny])
    assert sql == {(a, False, mfa, True) for a in S3}
    assert explained == {(a, "allowed", ()) for a in S3} | others
    # conditional anyway (the grant's own region Condition): the partial Deny's keys stay too,
    # on both sides (erring towards more keys, never fewer)
    sql, explained = _answers([{**grant, "Condition": REGIONS}, deny])
    keys = ("aws:multifactorauthpresent", "aws:requestedregion")
    assert sql == {(a, True, keys, True) for a in S3}
    assert explained == {(a, "conditionally_allowed", keys) for a in S3} | others


@SQL_SETTINGS
@given(policies, statements(effect="Allow"))
def test_adding_an_allow_never_removes_a_permission(stmts: list[dict], extra: dict) -> None:
    before, store_before = _evaluate(stmts)
    after, store_after = _evaluate([*stmts, extra])
    assert before <= after
    for action in CATALOG:
        for resource in RESOURCES:
            if _permits(store_before, action, resource):
                assert _permits(store_after, action, resource)


@SQL_SETTINGS
@given(policies, statements(effect="Deny"))
def test_adding_an_unconditional_deny_never_adds_a_permission(
    stmts: list[dict], extra: dict
) -> None:
    extra.pop("Condition", None)
    before, store_before = _evaluate(stmts)
    after, store_after = _evaluate([*stmts, extra])
    assert after <= before
    for action in CATALOG:
        for resource in RESOURCES:
            if _permits(store_after, action, resource):
                assert _permits(store_before, action, resource)


@SQL_SETTINGS
@given(st.lists(action_patterns, min_size=1, max_size=3))
def test_not_action_grants_exactly_the_catalog_minus_action(patterns: list[str]) -> None:
    granted, _ = _evaluate([{"Effect": "Allow", "Action": patterns, "Resource": "*"}])
    not_granted, _ = _evaluate([{"Effect": "Allow", "NotAction": patterns, "Resource": "*"}])
    assert not_granted == set(CATALOG) - granted


@SQL_SETTINGS
@given(policies, st.randoms(use_true_random=False))
def test_case_changes_in_action_names_change_nothing(stmts: list[dict], rnd) -> None:
    def scramble(text: str) -> str:
        return "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in text)

    changed = [
        {
            k: ([scramble(a) for a in v] if k in ("Action", "NotAction") else v)
            for k, v in stmt.items()
        }
        for stmt in stmts
    ]
    before, store = _evaluate(stmts)
    after, _ = _evaluate(changed)
    assert before == after
    for action in CATALOG:
        for resource in RESOURCES[:3]:
            assert (
                store.explain(USER, action, resource)["decision"]
                == store.explain(USER, scramble(action), resource)["decision"]
            )


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    st.sampled_from(["arn:aws:s3:::Data/Key", "arn:aws:s3:::data/KEY", "arn:aws:s3:::dAtA/k"]),
    st.sampled_from(CATALOG),
)
def test_case_changes_in_resource_arns_do_change_the_answer(arn: str, action: str) -> None:
    _, store = _evaluate([{"Effect": "Allow", "Action": "*", "Resource": arn}])
    assert store.explain(USER, action, arn)["decision"] == "allowed"
    for variant in {arn.lower(), arn.upper(), arn.swapcase()} - {arn}:
        result = store.explain(USER, action, variant)
        assert result["decision"] == "implicitly_denied"
        assert result["missing_allow_from"] == ["identity"]


# Resource-policy statements with conditions (a bucket of the member account 222222222222 in
# organization o-1; principals in it, in the management account, and one outside): the Principal
# forms AWS documents, and keys of the principal, of the resource, of a service caller and of the
# request (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
resource_principals = st.sampled_from(
    [
        "*",
        {"AWS": "*"},
        {"AWS": f"arn:aws:iam::{perimeter.MEMBER}:root"},
        {"AWS": perimeter.OUTSIDER},
        {"AWS": [perimeter.ALICE, perimeter.EXT]},
        {"AWS": f"arn:aws:sts::{perimeter.MEMBER}:assumed-role/app/s"},
    ]
)
resource_condition_entries = st.sampled_from(
    [
        ("StringEquals", "aws:PrincipalOrgID", "o-1"),
        ("StringNotEqualsIfExists", "aws:PrincipalOrgID", ["o-1", "o-2"]),
        ("ForAnyValue:StringLike", "aws:PrincipalOrgPaths", "o-1/r-1/*"),
        ("StringEquals", "aws:PrincipalAccount", [perimeter.MEMBER, perimeter.OUTSIDER]),
        ("StringNotEquals", "aws:PrincipalAccount", "${aws:ResourceAccount}"),
        ("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:role/*"),
        ("ArnNotEquals", "aws:PrincipalArn", perimeter.ALICE),
        ("StringEquals", "aws:PrincipalTag/team", "red"),
        ("Null", "aws:PrincipalTag/team", "true"),
        ("StringEquals", "aws:ResourceAccount", perimeter.MEMBER),
        ("StringEquals", "aws:ResourceOrgID", "${aws:PrincipalOrgID}"),
        ("StringEquals", "aws:ResourceTag/env", "prod"),
        ("StringEquals", "aws:SourceAccount", perimeter.MEMBER),
        ("ArnLike", "aws:SourceArn", "arn:aws:cloudtrail:*"),
        ("BoolIfExists", "aws:PrincipalIsAWSService", "false"),
        ("StringEquals", "aws:PrincipalType", "AssumedRole"),
        ("Bool", "aws:SecureTransport", "true"),
        ("IpAddress", "aws:SourceIp", "10.0.0.0/8"),
        ("StringEquals", "s3:x-amz-acl", "private"),
    ]
)


@st.composite
def resource_statements(draw: st.DrawFn) -> dict:
    stmt: dict = {
        "Effect": draw(st.sampled_from(["Allow", "Deny"])),
        "Action": draw(st.sampled_from(["s3:GetObject", "s3:*", "s3:PutObject"])),
        "Resource": "arn:aws:s3:::data/*",
    }
    if stmt["Effect"] == "Deny" and draw(st.integers(0, 4)) == 0:
        stmt["NotPrincipal"] = {"AWS": [perimeter.ALICE, f"arn:aws:iam::{ACCT}:root"]}
    else:
        stmt["Principal"] = draw(resource_principals)
    condition: dict[str, dict[str, object]] = {}
    for operator, key, value in draw(st.lists(resource_condition_entries, min_size=1, max_size=3)):
        condition.setdefault(operator, {})[key] = value
    stmt["Condition"] = condition
    return stmt


@SQL_SETTINGS
@given(st.lists(resource_statements(), min_size=1, max_size=4))
def test_sql_and_explain_agree_on_resource_policy_conditions(stmts: list[dict]) -> None:
    """Per principal and resource-policy statement: the same principals covered, the same
    verdict, and the same request keys left (cross-account callers, `Principal: "*"` with
    organization conditions, tags)."""
    con = build(
        perimeter._inputs(stmts),
        ["int_resource_condition_verdicts", "effective_permissions", "stg_policy_documents"],
    )
    sql = {
        (p, k, i): (v, sorted(c))
        for p, k, i, v, c in con.execute(
            """select principal_arn, policy_key, statement_index, verdict, condition_keys
               from int_resource_condition_verdicts"""
        ).fetchall()
    }
    explained = perimeter.explained_verdicts(PolicyStore.from_connection(con), con)
    assert sql == explained
    # Request keys, and the bucket's tags, which the snapshot does not collect.
    request_keys = {"aws:securetransport", "aws:sourceip", "s3:x-amz-acl", "aws:resourcetag/env"}
    assert all(set(keys) <= request_keys for _, keys in sql.values())
