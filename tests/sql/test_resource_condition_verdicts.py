"""Model tests: resource-based and trust policy statements decided per principal (issue 12).
A bucket policy with AWS's data-perimeter patterns (an Allow to `*` on `aws:PrincipalOrgID`, a
Deny to `*` unless `aws:PrincipalOrgID`, a grant to another account under
`aws:SecureTransport`, a tag grant that still needs `aws:SourceIp`, `aws:PrincipalAccount`
against `${aws:ResourceAccount}`, `aws:SourceAccount` which a user's or role's request never
carries) and a trust policy on `aws:PrincipalTag` and `aws:ResourceTag`: the verdicts of
int_resource_condition_verdicts, the number of evaluations (one per distinct fact tuple), and
`ciem explain`, which must read every statement the same way.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
https://github.com/aws-samples/data-perimeter-policy-examples
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from pipelines.lib.serve.explain import PolicyStore
from tests.sql.harness import (
    ACCT,
    bucket_policy,
    build,
    iam_role,
    iam_user,
    inline_policy,
    org_accounts,
    organization,
    policy_json,
    rows,
)

MEMBER, OUTSIDER = "222222222222", "333333333333"
ALICE = f"arn:aws:iam::{MEMBER}:user/alice"
APP = f"arn:aws:iam::{MEMBER}:role/app"
EXT = f"arn:aws:iam::{OUTSIDER}:role/ext"
BOB = f"arn:aws:iam::{ACCT}:user/bob"
BUCKET = "arn:aws:s3:::data"
OBJECT = "arn:aws:s3:::data/k"
PERIMETER = [
    {
        "Sid": "OrgRead",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"{BUCKET}/*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}},
    },
    {
        "Sid": "Perimeter",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:*",
        "Resource": [BUCKET, f"{BUCKET}/*"],
        "Condition": {
            "StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-1"},
            "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
        },
    },
    {
        "Sid": "Partner",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{OUTSIDER}:root"},
        "Action": "s3:PutObject",
        "Resource": f"{BUCKET}/*",
        "Condition": {"Bool": {"aws:SecureTransport": "true"}},
    },
    {
        "Sid": "RedTeamFromOffice",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:ListBucket",
        "Resource": BUCKET,
        "Condition": {
            "StringEquals": {"aws:PrincipalTag/team": "red"},
            "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
        },
    },
    {
        "Sid": "SameAccount",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObjectTagging",
        "Resource": f"{BUCKET}/*",
        "Condition": {"StringEquals": {"aws:PrincipalAccount": "${aws:ResourceAccount}"}},
    },
    {
        "Sid": "ServiceOnly",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": f"{BUCKET}/*",
        "Condition": {"StringEquals": {"aws:SourceAccount": MEMBER}},
    },
]
TRUST = [
    {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"aws:PrincipalTag/team": "blue", "aws:ResourceTag/env": "prod"}
        },
    }
]


def _tags(**tags: str) -> str:
    return json.dumps([{"Key": k, "Value": v} for k, v in tags.items()])


def _inputs(bucket_statements: list[dict] = PERIMETER) -> dict[str, list[dict[str, Any]]]:
    return {
        "raw_iam_users": [
            iam_user("alice", MEMBER, tags_json=_tags(team="red")),
            iam_user("bob", ACCT, tags_json=_tags(team="blue")),
        ],
        "raw_iam_roles": [
            iam_role("app", TRUST, account=MEMBER, tags_json=_tags(env="prod")),
            iam_role("ext", account=OUTSIDER),
        ],
        "raw_iam_inline_policies": [
            inline_policy(p, [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}])
            for p in (ALICE, APP, EXT)
        ]
        + [inline_policy(BOB, [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}])],
        "raw_s3_bucket_policies": [bucket_policy("data", bucket_statements, MEMBER)],
        "raw_s3_buckets": [{"account_id": MEMBER, "bucket": "data"}],
        "raw_org_organization": organization("o-1", ACCT),
        "raw_org_accounts": org_accounts(ACCT, MEMBER),
        "raw_org_parents": [
            {"child_id": MEMBER, "parent_id": "r-1", "parent_type": "ROOT"},
            {"child_id": ACCT, "parent_id": "r-1", "parent_type": "ROOT"},
        ],
        "raw_org_policies": [
            {
                "policy_id": "p-full",
                "arn": f"arn:aws:organizations::{ACCT}:policy/o-1/service_control_policy/p-full",
                "name": "FullAWSAccess",
                "type": "SERVICE_CONTROL_POLICY",
                "aws_managed": True,
                "document": policy_json([{"Effect": "Allow", "Action": "*", "Resource": "*"}]),
            }
        ],
        "raw_org_policy_targets": [
            {"policy_id": "p-full", "target_id": t, "target_type": "X"} for t in ("r-1", MEMBER)
        ],
    }


def _name(arn: str) -> str:
    return arn.split(":")[5]


def test_each_principal_gets_the_verdict_aws_would_give() -> None:
    con = build(_inputs(), ["int_resource_condition_verdicts"])
    got = rows(
        con,
        """select policy_kind, statement_index, split_part(principal_arn, ':', 6),
                  principal_match, verdict, condition_keys
           from int_resource_condition_verdicts order by all""",
    )
    everyone = [("role/app", "session"), ("role/ext", "session"), ("user/alice", "wildcard"),
                ("user/bob", "wildcard")]  # fmt: skip
    insider = {"role/app", "user/alice", "user/bob"}
    expected = []
    for who, match in everyone:
        expected.append(("resource", 0, who, match, "true" if who in insider else "false", []))
        expected.append(("resource", 1, who, match, "false" if who in insider else "true", []))
        if who == "user/alice":
            expected.append(("resource", 3, who, match, "unknown", ["aws:sourceip"]))
        else:
            expected.append(("resource", 3, who, match, "false", []))
        same = who in ("role/app", "user/alice")
        expected.append(("resource", 4, who, match, "true" if same else "false", []))
        expected.append(("resource", 5, who, match, "false", []))
    expected.append(("resource", 2, "role/ext", "account", "unknown", ["aws:securetransport"]))
    expected.append(("trust", 0, "user/bob", "account", "true", []))
    assert got == sorted(expected)


def test_a_statement_is_decided_once_per_distinct_fact_tuple() -> None:
    con = build(_inputs(), ["int_resource_condition_verdicts"])
    got = dict(
        rows(
            con,
            """select statement_index, count(*) from int_resource_condition_fact_verdicts
               where policy_key like 'resource|%' group by all""",
        )
    )
    # The org statements read membership only (members, the rest); the account statement the
    # account (three accounts); the tag statement the whole identity (four principals);
    # aws:SourceAccount nothing of the principal (one tuple).
    assert got == {0: 2, 1: 2, 2: 1, 3: 4, 4: 3, 5: 1}


def test_explain_reads_every_resource_statement_the_same_way() -> None:
    """The same facts, the same evaluator: for every principal and statement, explain's outcome
    of the statement's Condition on a request for the policy's resource is the model's."""
    con = build(
        _inputs(),
        ["int_resource_condition_verdicts", "effective_permissions", "stg_policy_documents"],
    )
    store = PolicyStore.from_connection(con)
    sql = {
        (p, k, i): (v, sorted(c))
        for p, k, i, v, c in rows(
            con,
            """select principal_arn, policy_key, statement_index, verdict, condition_keys
               from int_resource_condition_verdicts""",
        )
    }
    assert sql == explained_verdicts(store, con)


def test_explain_decisions_follow_the_verdicts() -> None:
    con = build(_inputs(), ["effective_permissions", "stg_policy_documents"])
    store = PolicyStore.from_connection(con)

    def answer(principal: str, action: str, resource: str, **context: str) -> tuple[str, list]:
        r = store.explain(principal, action, resource, context or None)
        return r["decision"], r["condition_keys"]

    # insiders: the perimeter Deny is false for them, the org Allow true
    assert answer(ALICE, "s3:GetObject", OBJECT) == ("allowed", [])
    assert answer(BOB, "s3:GetObject", OBJECT) == ("implicitly_denied", [])  # no identity grant
    # the outsider: the perimeter Deny holds, whatever the partner grant says
    assert answer(EXT, "s3:PutObject", OBJECT) == ("explicitly_denied", [])
    assert answer(EXT, "s3:PutObject", OBJECT, **{"aws:SecureTransport": "true"}) == (
        "explicitly_denied",
        [],
    )
    # bob assumes app: his tag and app's tag are facts
    assert answer(BOB, "sts:AssumeRole", APP) == ("allowed", [])


def explained_verdicts(
    store: PolicyStore, con: duckdb.DuckDBPyConnection | None = None
) -> dict[tuple[str, str, int], tuple[str, list[str]]]:
    """explain's reading of every conditional resource/trust statement for every principal it
    covers: (principal, policy_key, statement) -> (verdict, request keys); with the warehouse
    (`con`), also every trust statement naming the service principal of a Lambda function or EC2
    instance that runs as the role, for that compute (`service_request_facts`)."""
    from pipelines.lib.serve.explain import _principal_match
    from pipelines.lib.serve.facts import request_facts, service_request_facts
    from pipelines.lib.warehouse.conditions import evaluate

    out = {}
    for resource_arn, _, key, _ in store.resource_policies:
        owner = store.resource_account(resource_arn)
        for s in store.statements.get(key, []):
            if not s.has_condition:
                continue
            for arn, identity in store.identities.items():
                if identity.principal_type not in ("user", "role"):
                    continue
                if _principal_match(s, identity) is None:
                    continue
                facts = request_facts(
                    identity, store.org, resource_arn, owner, store.resource_tags.get(resource_arn)
                )
                outcome = evaluate(s.condition, facts)
                verdict = {True: "true", False: "false", None: "unknown"}[outcome.value]
                out[(arn, key, s.statement_index)] = (verdict, sorted(outcome.needed))
    if con is None:
        return out
    compute = con.execute(
        """select function_arn, account_id, role_arn, 'lambda.amazonaws.com'
           from raw_lambda_functions
           union all
           select i.arn, i.account_id, p.role_arn, 'ec2.amazonaws.com'
           from raw_ec2_instances as i
           join raw_iam_instance_profiles as p on p.arn = i.instance_profile_arn
           where i.state is distinct from 'terminated'"""
    ).fetchall()
    for compute_arn, account, role, service in compute:
        key = f"trust|{role}"
        for s in store.statements.get(key, []):
            services = {n.lower() for n in s.principal_services or ()}
            if not s.has_condition or service not in services:
                continue
            if s.condition is None:  # not a JSON object: open on its keys
                out[(compute_arn, key, s.statement_index)] = ("unknown", sorted(s.condition_keys))
                continue
            facts = service_request_facts(
                service,
                account,
                compute_arn,
                store.org,
                role,
                store.resource_account(role),
                store.resource_tags.get(role),
            )
            outcome = evaluate(s.condition, facts)
            verdict = {True: "true", False: "false", None: "unknown"}[outcome.value]
            out[(compute_arn, key, s.statement_index)] = (verdict, sorted(outcome.needed))
    return out
