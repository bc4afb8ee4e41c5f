"""Model tests: `aws:SourceAccount` / `aws:SourceArn` decided for the service principals of compute
the snapshot knows (issue 12, item 1). A role's trust statement naming `lambda.amazonaws.com`
(or `ec2.amazonaws.com`) is decided once per Lambda function (EC2 instance) that runs as the
role: Lambda assumes the execution role with the function's account and ARN as aws:SourceAccount
and aws:SourceArn; AWS does not document whether EC2 sets them for an instance profile's role, so
they stay open for an instance (what is known of the service, aws:PrincipalServiceName, still
decides). A compute the trust keeps out cannot get the role's credentials:
admin-lambda-function / admin-ec2-instance are not raised for it (the role itself still is, by
admin-iam-role).
https://docs.aws.amazon.com/lambda/latest/dg/permissions-managed-policies.html ("When a service
assumes a role in your account, you can include the aws:SourceAccount and aws:SourceArn global
condition context keys in your role trust policy")
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
(aws:SourceAccount, aws:SourceArn: present only when a service calls on a resource's behalf)
https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
(ArnLike, ...IfExists)
"""

from __future__ import annotations

import json
from typing import Any

from pipelines.lib.serve.explain import PolicyStore
from pipelines.lib.warehouse.condition_verdicts import condition_verdict
from tests.sql.harness import ACCT, build, iam_role, inline_policy, role_arn, rows, user_arn

OTHER = "999999999999"
REGION = "us-east-1"
LAMBDA, EC2 = "lambda.amazonaws.com", "ec2.amazonaws.com"


def _fn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCT}:function:{name}"


def _i(instance_id: str) -> str:
    return f"arn:aws:ec2:{REGION}:{ACCT}:instance/{instance_id}"


def _trust(services: str | list[str], condition: dict[str, Any] | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": services},
        "Action": "sts:AssumeRole",
    }
    if condition is not None:
        s["Condition"] = condition
    return s


ROLES = {
    # aws:SourceAccount equal to the function's account / another account
    "acct-same": [_trust(LAMBDA, {"StringEquals": {"aws:SourceAccount": ACCT}})],
    "acct-other": [_trust(LAMBDA, {"StringEquals": {"aws:SourceAccount": OTHER}})],
    # aws:SourceArn ArnLike a function pattern: app-* in, batch out
    "arn-like": [
        _trust(LAMBDA, {"ArnLike": {"aws:SourceArn": f"arn:aws:lambda:*:{ACCT}:function:app-*"}})
    ],
    # IfExists: Lambda sets the key (another account: false); for EC2 it stays open
    "if-exists": [_trust([LAMBDA, EC2], {"StringEqualsIfExists": {"aws:SourceAccount": OTHER}})],
    "ec2-source": [_trust(EC2, {"StringEquals": {"aws:SourceAccount": ACCT}})],
    # the service's name is known: a trust naming both services but only for Lambda
    "lambda-only": [_trust([LAMBDA, EC2], {"StringEquals": {"aws:PrincipalServiceName": LAMBDA}})],
    # a request key stays open; a second, unconditional Allow decides it
    "source-ip": [_trust(LAMBDA, {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})],
    "two-allows": [
        _trust(LAMBDA, {"StringEquals": {"aws:SourceAccount": OTHER}}),
        _trust(LAMBDA),
    ],
    # a service principal: aws:PrincipalIsAWSService true; its tags and ARN stay open
    "service-only": [
        _trust(
            LAMBDA,
            {
                "Bool": {"aws:PrincipalIsAWSService": "true"},
                "StringEquals": {"aws:PrincipalTag/team": "x"},
            },
        )
    ],
}
FUNCTIONS = {
    "acct-same-fn": "acct-same",
    "acct-other-fn": "acct-other",
    "app-1": "arn-like",
    "batch": "arn-like",
    "if-exists-fn": "if-exists",
    "source-ip-fn": "source-ip",
    "two-allows-fn": "two-allows",
    "service-only-fn": "service-only",
}
INSTANCES = {
    "i-ifexists": "if-exists",
    "i-ec2source": "ec2-source",
    "i-gone": "ec2-source",
    "i-lambdaonly": "lambda-only",
}


def _inputs() -> dict[str, list[dict[str, Any]]]:
    everything = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    return {
        "raw_iam_roles": [iam_role(name, trust) for name, trust in ROLES.items()],
        "raw_iam_inline_policies": [inline_policy(role_arn(n), everything) for n in ROLES],
        "raw_lambda_functions": [
            {
                "account_id": ACCT,
                "region": REGION,
                "function_name": name,
                "function_arn": _fn(name),
                "role_arn": role_arn(role),
            }
            for name, role in FUNCTIONS.items()
        ],
        "raw_iam_instance_profiles": [
            {
                "account_id": ACCT,
                "instance_profile_name": role,
                "instance_profile_id": "AIPA" + role.upper().replace("-", ""),
                "arn": f"arn:aws:iam::{ACCT}:instance-profile/{role}",
                "role_arn": role_arn(role),
            }
            for role in ("if-exists", "ec2-source", "lambda-only")
        ],
        "raw_ec2_instances": [
            {
                "account_id": ACCT,
                "region": REGION,
                "instance_id": iid,
                "arn": _i(iid),
                "state": "terminated" if iid == "i-gone" else "running",
                "instance_profile_arn": f"arn:aws:iam::{ACCT}:instance-profile/{profile}",
            }
            for iid, profile in INSTANCES.items()
        ],
    }


def test_service_rows_of_the_facts_and_verdicts() -> None:
    con = build(_inputs(), ["int_resource_condition_verdicts"])
    got = rows(
        con,
        """select resource_arn, policy_kind, policy_key, statement_index, effect, principal_arn,
                  principal_match, verdict, condition_keys
           from int_resource_condition_verdicts order by all""",
    )

    def row(role: str, compute: str, verdict: str, keys: list[str], index: int = 0) -> tuple:
        arn = role_arn(role)
        return (arn, "trust", f"trust|{arn}", index, "Allow", compute, "service", verdict, keys)

    assert got == sorted(
        [
            row("acct-same", _fn("acct-same-fn"), "true", []),
            row("acct-other", _fn("acct-other-fn"), "false", []),
            row("arn-like", _fn("app-1"), "true", []),
            row("arn-like", _fn("batch"), "false", []),
            row("if-exists", _fn("if-exists-fn"), "false", []),
            row("if-exists", _i("i-ifexists"), "unknown", ["aws:sourceaccount"]),
            row("ec2-source", _i("i-ec2source"), "unknown", ["aws:sourceaccount"]),  # not i-gone
            row("lambda-only", _i("i-lambdaonly"), "false", []),
            row("source-ip", _fn("source-ip-fn"), "unknown", ["aws:sourceip"]),
            row("two-allows", _fn("two-allows-fn"), "false", []),  # statement 1: no Condition
            row("service-only", _fn("service-only-fn"), "unknown", ["aws:principaltag/team"]),
        ]
    )
    # The facts each row was decided from: aws:SourceArn only where the Condition reads it.
    facts = dict(
        con.execute(
            """select principal_arn, facts_json from int_resource_condition_facts
               where principal_arn in (?, ?, ?)""",
            [_fn("app-1"), _fn("acct-same-fn"), _i("i-ifexists")],
        ).fetchall()
    )
    common = {"org_id": None, "resource_account": ACCT, "resource_org_member": False}
    common |= {"resource_org_path": None, "resource_tags_json": "[]"}
    assert {k: json.loads(v) for k, v in facts.items()} == {
        _fn("app-1"): {
            "principal_type": "service",
            "service": LAMBDA,
            "source_account": ACCT,
            "source_arn": _fn("app-1"),
            **common,
        },
        _fn("acct-same-fn"): {
            "principal_type": "service",
            "service": LAMBDA,
            "source_account": ACCT,
            "source_arn": None,
            **common,
        },
        _i("i-ifexists"): {
            "principal_type": "service",
            "service": EC2,
            "source_account": ACCT,
            "source_arn": None,
            **common,
        },
    }


def test_each_compute_is_told_whether_it_gets_the_role() -> None:
    con = build(_inputs(), ["int_compute_role_trust"])
    got = rows(con, "select * from int_compute_role_trust order by all")
    lam = [(_fn(f), "lambda_function", ACCT, role_arn(r), LAMBDA) for f, r in FUNCTIONS.items()]
    verdicts = {
        "acct-same-fn": ("true", []),
        "acct-other-fn": ("false", []),
        "app-1": ("true", []),
        "batch": ("false", []),
        "if-exists-fn": ("false", []),
        "source-ip-fn": ("unknown", ["aws:sourceip"]),
        "two-allows-fn": ("true", []),
        "service-only-fn": ("unknown", ["aws:principaltag/team"]),
    }
    expected = [(*c, *verdicts[c[0].rsplit(":", 1)[1]]) for c in lam]
    expected += [
        (_i("i-ifexists"), "ec2_instance", ACCT, role_arn("if-exists"), EC2, "unknown",
         ["aws:sourceaccount"]),
        (_i("i-ec2source"), "ec2_instance", ACCT, role_arn("ec2-source"), EC2, "unknown",
         ["aws:sourceaccount"]),
        (_i("i-lambdaonly"), "ec2_instance", ACCT, role_arn("lambda-only"), EC2, "false", []),
    ]  # fmt: skip
    assert got == sorted(expected)


def test_admin_compute_detections_skip_compute_the_trust_keeps_out() -> None:
    con = build(_inputs(), ["det_admin_lambda_function", "det_admin_ec2_instance"])
    got = set(
        rows(
            con,
            """select rule_id, resource_arn from det_admin_lambda_function
               union all select rule_id, resource_arn from det_admin_ec2_instance""",
        )
    )
    assert got == {
        ("admin-lambda-function", _fn(f))
        for f in ("acct-same-fn", "app-1", "source-ip-fn", "two-allows-fn", "service-only-fn")
    } | {("admin-ec2-instance", _i(i)) for i in ("i-ifexists", "i-ec2source")}


def test_the_evaluator_reads_service_facts_as_aws_sets_them() -> None:
    """The transform's own reading, key by key (the SQL rows above pass through it)."""

    def verdict(condition: dict, service: str, arn: str | None = None) -> tuple[str, list]:
        facts = {"principal_type": "service", "service": service, "source_account": ACCT}
        facts |= {"source_arn": arn, "org_id": None}
        r = condition_verdict(json.dumps(condition), json.dumps(facts))
        return r["verdict"], r["needed_keys"]

    arn_like = {"ArnLike": {"aws:SourceArn": f"arn:aws:lambda:{REGION}:{ACCT}:function:a?c"}}
    assert verdict(arn_like, LAMBDA, _fn("abc")) == ("true", [])
    assert verdict(arn_like, LAMBDA, _fn("abcd")) == ("false", [])
    assert verdict({"Null": {"aws:SourceAccount": "false"}}, LAMBDA) == ("true", [])
    not_other = {"StringNotEquals": {"aws:SourceAccount": OTHER}}
    assert verdict(not_other, LAMBDA) == ("true", [])
    # EC2: whether it sets the keys is not documented, so they stay open
    assert verdict(arn_like, EC2) == ("unknown", ["aws:sourcearn"])
    assert verdict({"Null": {"aws:SourceArn": "true"}}, EC2) == ("unknown", ["aws:sourcearn"])
    assert verdict(not_other, EC2) == ("unknown", ["aws:sourceaccount"])
    assert verdict({"StringEquals": {"aws:PrincipalServiceName": EC2}}, EC2) == ("true", [])
    assert verdict({"Bool": {"aws:PrincipalIsAWSService": "false"}}, LAMBDA) == ("false", [])
    # what the snapshot does not know of a service principal stays open
    org = {"StringEquals": {"aws:SourceOrgID": "o-1"}}
    assert verdict(org, LAMBDA) == ("unknown", ["aws:sourceorgid"])


def test_iam_callers_and_explain_are_unchanged() -> None:
    """A trust that names both an AWS principal and Lambda: the user's row is the IAM caller's
    (no aws:Source* key: false), the function's the service's (true), and explain reads the
    user's the same way."""
    trust = [
        {
            "Effect": "Allow",
            "Principal": {"AWS": user_arn("dev"), "Service": LAMBDA},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCT}},
        }
    ]
    inputs = _inputs()
    inputs["raw_iam_roles"] = [iam_role("both", trust)]
    inputs["raw_iam_users"] = [
        {"account_id": ACCT, "user_name": "dev", "user_id": "AIDADEV", "arn": user_arn("dev")}
    ]
    inputs["raw_iam_inline_policies"] = [
        inline_policy(user_arn("dev"), [{"Effect": "Allow", "Action": "*", "Resource": "*"}])
    ]
    inputs["raw_lambda_functions"] = [
        {
            "account_id": ACCT,
            "region": REGION,
            "function_name": "f",
            "function_arn": _fn("f"),
            "role_arn": role_arn("both"),
        }
    ]
    con = build(
        inputs,
        ["int_resource_condition_verdicts", "effective_permissions", "stg_policy_documents"],
    )
    got = rows(
        con,
        """select principal_arn, principal_match, verdict, condition_keys
           from int_resource_condition_verdicts order by all""",
    )
    assert got == [(user_arn("dev"), "named", "false", []), (_fn("f"), "service", "true", [])]
    store = PolicyStore.from_connection(con)
    r = store.explain(user_arn("dev"), "sts:AssumeRole", role_arn("both"))
    assert (r["decision"], r["condition_keys"]) == ("implicitly_denied", [])


def test_sql_and_explain_facts_agree_on_service_rows() -> None:
    """explain's facts for a service principal acting for compute (`service_request_facts`, the
    compute read from the raw tables) decide every row of the model the same way."""
    from tests.sql.test_resource_condition_verdicts import explained_verdicts

    con = build(
        _inputs(),
        ["int_resource_condition_verdicts", "effective_permissions", "stg_policy_documents"],
    )
    sql = {
        (p, k, i): (v, sorted(c))
        for p, k, i, v, c in rows(
            con,
            """select principal_arn, policy_key, statement_index, verdict, condition_keys
               from int_resource_condition_verdicts""",
        )
    }
    assert len(sql) == 11
    assert sql == explained_verdicts(PolicyStore.from_connection(con), con)
