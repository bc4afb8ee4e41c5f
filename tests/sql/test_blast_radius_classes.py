"""large-blast-radius counted per action class (issue 11 item 2): the rule reads the class answers
of each policy set (int_policy_set_classes_evaluated) instead of one row per principal and
action. Its rows must be exactly what the per-action reading gives (the rule's former query,
kept here as the reference), on policies whose classes are not one action each: `*` with
Denies, NotAction lists, service and verb wildcards, conditional grants, a boundary, and
principals sharing a set."""

from __future__ import annotations

import json

import pytest

from tests.sql.harness import (
    build,
    catalog_rows,
    iam_group,
    iam_role,
    iam_user,
    inline_policy,
    rows,
    user_arn,
)

SERVICES = ["s3", "ec2", "iam", "lambda", "kms", "sqs", "sns"]
CATALOG = [
    (f"{service}:{verb}{noun}", level)
    for service in SERVICES
    for verb, level in (
        ("Put", "Write"),
        ("Delete", "Write"),
        ("Attach", "Permissions management"),
        ("Get", "Read"),
        ("List", "List"),
    )
    for noun in ("Thing", "Other")
]

# The rule's per-action reading before it counted classes: effective, unconditional
# `Resource: "*"` Write/Permissions management actions per principal and service.
REFERENCE = """
with catalog as (
    select action, service, access_level from ref_iam_actions
    where access_level in ('Write', 'Permissions management')
),
permissions as (
    select e.principal_arn, e.is_conditional, e.granted_by_json, c.service, c.access_level
    from int_principal_actions_evaluated as e
    inner join catalog as c on c.action = e.action
    where e.principal_type in ('user', 'role')
        and e.is_effective
        and e.allows_all_unconditionally
),
per_service as (
    select principal_arn, service, count(*) as actions,
        count(*) filter (where access_level = 'Permissions management') as pm,
        count(*) filter (where is_conditional) as conditional
    from permissions group by principal_arn, service
),
granting as (
    select p.principal_arn, list_sort(list(distinct g.policy)) as policies
    from permissions as p,
        unnest(from_json(p.granted_by_json, '[{"policy": "VARCHAR"}]')) as t(g)
    group by p.principal_arn
)
select
    s.principal_arn,
    count(*) as service_count,
    sum(s.actions)::integer as action_count,
    sum(s.pm)::integer as pm,
    sum(s.conditional)::integer as conditional,
    list({'service': s.service, 'actions': s.actions} order by s.actions desc, s.service)
        as services,
    any_value(g.policies) as policies
from per_service as s
left join granting as g on g.principal_arn = s.principal_arn
group by s.principal_arn
having count(*) >= 5
"""


def _allow(actions: object, resource: object = "*", **extra: object) -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resource, **extra}


@pytest.mark.parametrize("sets_per_bucket", ["250", "1"])
def test_large_blast_radius_per_class_equals_per_action_reading(
    sets_per_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also with one policy set per principal bucket: the rule is built a bucket at a time
    (`-- partition: principal_bucket`), and no principal is lost or reported twice."""
    monkeypatch.setenv("CIEM_SETS_PER_BUCKET", sets_per_bucket)
    users = [
        "star-deny",
        "not-action",
        "not-action-wild",
        "wildcards",
        "conditional-deny",
        "bounded",
        "twin-a",
        "twin-b",
        "group-member",
    ]
    mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    inputs = {
        "raw_iam_users": [
            iam_user(
                u,
                permissions_boundary_arn=(
                    "arn:aws:iam::111111111111:policy/edge" if u == "bounded" else None
                ),
            )
            for u in users
        ],
        "raw_iam_roles": [iam_role("reader-role", [])],
        "raw_iam_groups": [iam_group("writers")],
        "raw_iam_group_memberships": [
            {
                "account_id": "111111111111",
                "group_arn": "arn:aws:iam::111111111111:group/writers",
                "user_arn": user_arn("group-member"),
            }
        ],
        "raw_iam_inline_policies": [
            # `*` minus an unconditional Deny of two services' writes: rest class and named ones
            inline_policy(
                user_arn("star-deny"),
                [
                    _allow("*"),
                    {"Effect": "Deny", "Action": ["s3:Put*", "ec2:*"], "Resource": "*"},
                ],
                "star",
            ),
            inline_policy(
                user_arn("not-action"),
                [{"Effect": "Allow", "NotAction": ["iam:*", "kms:Get*"], "Resource": "*"}],
                "not-action",
            ),
            inline_policy(
                user_arn("not-action-wild"),
                [
                    {"Effect": "Allow", "NotAction": "*:Delete*", "Resource": "*"},
                    _allow("s3:DeleteThing", "arn:aws:s3:::only-this/*"),
                ],
                "not-action-wild",
            ),
            inline_policy(
                user_arn("wildcards"),
                [
                    _allow(["s3:*", "ec2:Put*", "iam:Attach*", "lambda:*Thing", "sqs:*"]),
                    _allow("sns:*", Condition=mfa),
                ],
                "wild",
            ),
            inline_policy(
                user_arn("conditional-deny"),
                [
                    _allow(["*:Put*", "*:Attach*", "*:Delete*"]),
                    {"Effect": "Deny", "Action": "kms:*", "Resource": "*", "Condition": mfa},
                ],
                "cond-deny",
            ),
            inline_policy(user_arn("bounded"), [_allow("*")], "bounded-star"),
            inline_policy(user_arn("twin-a"), [_allow(["*:Put*", "*:Attach*"])], "twin"),
            inline_policy(user_arn("twin-b"), [_allow(["*:Put*", "*:Attach*"])], "twin"),
            inline_policy(
                "arn:aws:iam::111111111111:group/writers", [_allow("*:Delete*")], "group-del"
            ),
            inline_policy(
                user_arn("group-member"),
                [{"Effect": "Allow", "NotAction": ["sqs:*", "sns:*"], "Resource": "*"}],
                "member-own",
            ),
            inline_policy("arn:aws:iam::111111111111:role/reader-role", [_allow("*:Get*")], "read"),
        ],
        "raw_iam_policies": [
            {
                "account_id": "111111111111",
                "policy_arn": "arn:aws:iam::111111111111:policy/edge",
                "policy_name": "edge",
                "policy_id": "ANPAEDGE",
                "path": "/",
                "is_aws_managed": False,
                "document": json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "NotAction": "lambda:*", "Resource": "*"}
                        ],
                    }
                ),
            }
        ],
        "ref_iam_actions": catalog_rows(CATALOG),
    }
    con = build(
        inputs,
        ["det_large_blast_radius", "int_principal_actions_evaluated", "int_principal_policy_sets"],
    )
    [(buckets,)] = rows(con, "select max(principal_bucket) + 1 from int_principal_policy_sets")
    assert (buckets > 1) == (sets_per_bucket == "1")
    reported = rows(con, "select resource_arn, evidence from det_large_blast_radius")
    got = {arn: json.loads(evidence) for arn, evidence in reported}
    assert len(got) == len(reported)  # one row per principal
    admins = {a for (a,) in rows(con, "select principal_arn from int_admin_identities")}
    expected = {
        arn: {
            "service_count": count,
            "action_count": actions,
            "write_actions": actions - pm,
            "permissions_management_actions": pm,
            "conditional_actions": conditional,
            "min_services": 5,
            "services": services,
            "granting_policies": policies,
        }
        for arn, count, actions, pm, conditional, services, policies in rows(con, REFERENCE)
        if arn not in admins
    }
    assert got == expected
    # the cases the comparison is about are reported (not an empty set compared to itself)
    assert set(got) == {
        user_arn(u)
        for u in (
            "star-deny",
            "not-action",
            "not-action-wild",
            "wildcards",
            "conditional-deny",
            "bounded",
            "twin-a",
            "twin-b",
            "group-member",
        )
    }
    assert admins == set()
    assert got[user_arn("twin-a")] == got[user_arn("twin-b")]
    assert got[user_arn("conditional-deny")]["conditional_actions"] > 0
