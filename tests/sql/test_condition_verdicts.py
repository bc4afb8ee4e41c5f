"""Model tests: conditions decided from what the snapshot knows (issue 12). A region-restriction
SCP that exempts a break-glass role by `aws:PrincipalArn`, a grant on `aws:PrincipalTag/team`,
a boundary and an identity Deny on `aws:PrincipalOrgPaths`: int_principal_condition_verdicts,
the policy sets they split, and effective_permissions, whose `condition_keys` list only the
request keys still needed.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples_general.html#example-scp-deny-region
"""

from __future__ import annotations

import json
from typing import Any

from pipelines.lib.serve.explain import PolicyStore
from tests.sql.harness import (
    ACCT,
    SMALL_CATALOG_ACTIONS,
    attachment,
    build,
    iam_role,
    iam_user,
    inline_policy,
    managed_policy,
    org_accounts,
    organization,
    policy_json,
    rows,
)

MEMBER = "222222222222"
ADMIN = f"arn:aws:iam::{MEMBER}:policy/admin"
BREAK_GLASS = f"arn:aws:iam::{MEMBER}:role/break-glass"
APP, APP2 = f"arn:aws:iam::{MEMBER}:role/app", f"arn:aws:iam::{MEMBER}:role/app2"
RED, BLUE = f"arn:aws:iam::{MEMBER}:user/red", f"arn:aws:iam::{MEMBER}:user/blue"
GLOBAL = frozenset({"iam:passrole", "iam:createuser"})  # the small catalog's global actions
REGION_DENY = {
    "Effect": "Deny",
    "NotAction": ["iam:*", "sts:*", "organizations:*"],
    "Resource": "*",
    "Condition": {
        "StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]},
        "ArnNotLike": {"aws:PrincipalARN": "arn:aws:iam::*:role/break-glass"},
    },
}


def _scp(policy_id: str, statements: list[dict]) -> dict[str, Any]:
    return {
        "policy_id": policy_id,
        "arn": f"arn:aws:organizations::{ACCT}:policy/o-1/service_control_policy/{policy_id}",
        "name": policy_id,
        "type": "SERVICE_CONTROL_POLICY",
        "aws_managed": False,
        "document": policy_json(statements),
    }


def _tags(**tags: str) -> str:
    return json.dumps([{"Key": k, "Value": v} for k, v in tags.items()])


def _inputs() -> dict[str, list[dict[str, Any]]]:
    tagged_s3 = [
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "red"}},
        },
        {
            # Deny everyone outside the OU path: everyone here is inside it.
            "Effect": "Deny",
            "Action": "s3:PutObject",
            "Resource": "*",
            "Condition": {
                "ForAllValues:StringNotLike": {"aws:PrincipalOrgPaths": "o-1/r-1/ou-1/*"}
            },
        },
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"},
    ]
    return {
        "raw_iam_users": [
            iam_user("red", MEMBER, tags_json=_tags(team="red")),
            iam_user("blue", MEMBER, tags_json=_tags(team="blue")),
        ],
        "raw_iam_roles": [iam_role(n, account=MEMBER) for n in ("break-glass", "app", "app2")],
        "raw_iam_policies": [
            managed_policy(ADMIN, [{"Effect": "Allow", "Action": "*", "Resource": "*"}], MEMBER)
        ],
        "raw_iam_policy_attachments": [attachment(r, ADMIN) for r in (BREAK_GLASS, APP, APP2)],
        "raw_iam_inline_policies": [inline_policy(u, tagged_s3) for u in (RED, BLUE)],
        "raw_org_organization": organization("o-1", ACCT),
        "raw_org_accounts": org_accounts(ACCT, MEMBER),
        "raw_org_parents": [
            {"child_id": MEMBER, "parent_id": "ou-1", "parent_type": "ORGANIZATIONAL_UNIT"},
            {"child_id": "ou-1", "parent_id": "r-1", "parent_type": "ROOT"},
            {"child_id": ACCT, "parent_id": "r-1", "parent_type": "ROOT"},
        ],
        "raw_org_policies": [
            _scp("p-full", [{"Effect": "Allow", "Action": "*", "Resource": "*"}]),
            _scp("p-regions", [REGION_DENY]),
        ],
        "raw_org_policy_targets": [
            {"policy_id": "p-full", "target_id": t, "target_type": "X"}
            for t in ("r-1", "ou-1", MEMBER, ACCT)
        ]
        + [{"policy_id": "p-regions", "target_id": "ou-1", "target_type": "ORGANIZATIONAL_UNIT"}],
    }


def test_verdicts_decide_the_snapshot_keys_and_name_the_request_keys() -> None:
    con = build(_inputs(), ["int_principal_condition_verdicts"])
    got = rows(
        con,
        """select split_part(principal_arn, ':', 6), policy_key, statement_index, verdict,
                  needed_keys
           from int_principal_condition_verdicts order by all""",
    )
    region = ["aws:requestedregion"]
    assert got == [
        ("role/app", "org|p-regions", 0, "unknown", region),
        ("role/app2", "org|p-regions", 0, "unknown", region),
        ("role/break-glass", "org|p-regions", 0, "false", []),
        ("user/blue", f"{BLUE}|inline|p", 0, "false", []),
        ("user/blue", f"{BLUE}|inline|p", 1, "false", []),
        ("user/blue", "org|p-regions", 0, "unknown", region),
        ("user/red", f"{RED}|inline|p", 0, "true", []),
        ("user/red", f"{RED}|inline|p", 1, "false", []),
        ("user/red", "org|p-regions", 0, "unknown", region),
    ]


def test_the_exempt_role_gets_a_set_of_its_own_and_those_that_agree_share_one() -> None:
    con = build(_inputs(), ["int_principal_policy_sets"])
    sets = dict(rows(con, "select principal_arn, policy_set_key from int_principal_policy_sets"))
    assert sets[APP] == sets[APP2]
    assert sets[BREAK_GLASS] != sets[APP]


def test_effective_permissions_are_conditional_only_on_the_request_keys() -> None:
    con = build(_inputs(), ["effective_permissions"])
    got = {
        (arn.split(":")[5], action): (conditional, keys)
        for arn, action, conditional, keys in rows(
            con,
            "select principal_arn, action, is_conditional, condition_keys "
            "from effective_permissions",
        )
    }
    region = (True, ["aws:requestedregion"])
    expected = {}
    for role in ("role/app", "role/app2", "role/break-glass"):
        for action in SMALL_CATALOG_ACTIONS:
            exempt = role == "role/break-glass" or action in GLOBAL
            expected[(role, action)] = (False, []) if exempt else region
    # red: the tag grant holds (unconditionally but for the region); blue lacks the tag; the
    # org-path Deny is false for both (inside the path), so s3:PutObject is theirs.
    expected[("user/red", "s3:getobject")] = region
    expected[("user/red", "s3:putobject")] = region
    expected[("user/blue", "s3:putobject")] = region
    assert got == expected


def test_explain_agrees_and_is_exact_with_the_region() -> None:
    con = build(_inputs(), ["effective_permissions", "stg_policy_documents"])
    store = PolicyStore.from_connection(con)

    def answer(principal: str, action: str, region: str | None = None) -> tuple[str, list]:
        r = store.explain(
            principal, action, context={"aws:RequestedRegion": region} if region else None
        )
        return r["decision"], r["condition_keys"]

    assert answer(APP, "ec2:RunInstances") == ("conditionally_allowed", ["aws:requestedregion"])
    assert answer(APP, "ec2:RunInstances", "us-east-1") == ("explicitly_denied", [])
    assert answer(APP, "ec2:RunInstances", "eu-central-1") == ("allowed", [])
    assert answer(BREAK_GLASS, "ec2:RunInstances") == ("allowed", [])
    assert answer(BLUE, "s3:GetObject") == ("implicitly_denied", [])
    assert answer(RED, "s3:GetObject", "eu-west-1") == ("allowed", [])
