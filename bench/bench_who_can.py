"""`ciem who-can` on a generated 10,000-principal organization (issue 12 item 5: fast enough for
an analyst; under 5 s on the demo).

    .venv/bin/python bench/bench_who_can.py [--principals 10000] [--accounts 10] [--repeat 3]

Generates the snapshot tables of an organization (half users, half roles, spread over the
accounts, each with one of 40 customer-managed policies, some with conditions; SCPs on every
level including AWS's region-restriction example exempting a break-glass role by
aws:PrincipalArn; a bucket policy, a KMS key policy), builds the statement models in an in-memory
DuckDB (the tables `ciem explain` reads), loads the PolicyStore once and times who_can for a
few questions (median and max of --repeat). Prints the figures; writes nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.lib.serve.explain import PolicyStore  # noqa: E402
from pipelines.lib.serve.who_can import who_can  # noqa: E402
from pipelines.lib.warehouse.sql_models import run_model  # noqa: E402
from tests.sql.harness import MODELS, build  # noqa: E402

MGMT = "100000000000"
CREATED = datetime(2025, 1, 1, tzinfo=UTC)
REGION_SCP = {
    "Effect": "Deny",
    "NotAction": ["iam:*", "organizations:*", "sts:*"],
    "Resource": "*",
    "Condition": {
        "StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]},
        "ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/breakglass-*"]},
    },
}


def _doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _policy_docs() -> list[str]:
    services = ["s3", "sqs", "kms", "ec2", "lambda", "dynamodb", "sns", "logs"]
    docs = []
    for i in range(40):
        svc = services[i % len(services)]
        stmt: dict = {"Effect": "Allow", "Action": [f"{svc}:Get*", f"{svc}:List*"], "Resource": "*"}
        if i % 5 == 0:
            stmt["Action"] = f"{svc}:*"
        if i % 4 == 0:
            stmt["Condition"] = {"StringEquals": {"aws:PrincipalTag/team": f"team-{i % 7}"}}
        if i % 9 == 0:
            stmt["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
        docs.append(_doc(stmt, {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))
    docs[0] = _doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    return docs


def generate(principals: int, accounts: int) -> dict[str, list[dict]]:
    ids = [MGMT] + [f"{200000000000 + i}" for i in range(1, accounts)]
    docs = _policy_docs()
    tables: dict[str, list[dict]] = {
        k: []
        for k in (
            "raw_iam_users",
            "raw_iam_roles",
            "raw_iam_policies",
            "raw_iam_policy_attachments",
            "raw_s3_buckets",
            "raw_s3_bucket_policies",
            "raw_resource_policies",
        )
    }
    for account in ids:
        for n, doc in enumerate(docs):
            tables["raw_iam_policies"].append(
                {
                    "account_id": account,
                    "policy_arn": f"arn:aws:iam::{account}:policy/p{n}",
                    "policy_name": f"p{n}",
                    "policy_id": f"ANPA{account}{n}",
                    "is_aws_managed": False,
                    "document": doc,
                }
            )
    trust = _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{MGMT}:root"},
            "Action": "sts:AssumeRole",
        }
    )
    for i in range(principals):
        account = ids[i % len(ids)]
        kind = "user" if i % 2 == 0 else "role"
        name = f"breakglass-{i}" if i % 997 == 0 else f"{kind}-{i}"
        arn = f"arn:aws:iam::{account}:{kind}/{name}"
        tags = json.dumps([{"Key": "team", "Value": f"team-{i % 7}"}])
        if kind == "user":
            tables["raw_iam_users"].append(
                {
                    "account_id": account,
                    "user_name": name,
                    "user_id": f"AIDA{i:016d}",
                    "arn": arn,
                    "path": "/",
                    "create_date": CREATED,
                    "tags_json": tags,
                }
            )
        else:
            tables["raw_iam_roles"].append(
                {
                    "account_id": account,
                    "role_name": name,
                    "role_id": f"AROA{i:016d}",
                    "arn": arn,
                    "path": "/",
                    "create_date": CREATED,
                    "assume_role_policy_document": trust,
                    "is_service_linked": False,
                    "tags_json": tags,
                }
            )
        tables["raw_iam_policy_attachments"].append(
            {
                "account_id": account,
                "principal_arn": arn,
                "principal_type": kind,
                "policy_arn": f"arn:aws:iam::{account}:policy/p{i % len(docs)}",
            }
        )
    data = ids[1]
    tables["raw_s3_buckets"].append({"account_id": data, "bucket": "shared-data"})
    tables["raw_s3_bucket_policies"].append(
        {
            "account_id": data,
            "bucket": "shared-data",
            "document": _doc(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": ["999999999999", f"arn:aws:iam::{ids[2]}:root"]},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::shared-data/*",
                }
            ),
        }
    )
    # A data-perimeter bucket: an Allow to `*` inside the organization, a Deny to everyone else
    # (https://github.com/aws-samples/data-perimeter-policy-examples).
    tables["raw_s3_buckets"].append({"account_id": data, "bucket": "perimeter-data"})
    tables["raw_s3_bucket_policies"].append(
        {
            "account_id": data,
            "bucket": "perimeter-data",
            "document": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": "s3:GetObject",
                            "Resource": "arn:aws:s3:::perimeter-data/*",
                            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-bench"}},
                        },
                        {
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": "arn:aws:s3:::perimeter-data/*",
                            "Condition": {
                                "StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-bench"},
                                "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
                            },
                        },
                    ],
                }
            ),
        }
    )
    key = f"arn:aws:kms:eu-west-1:{data}:key/k1"
    tables["raw_resource_policies"].append(
        {
            "account_id": data,
            "region": "eu-west-1",
            "service": "kms",
            "resource_type": "kms_key",
            "resource_name": "k1",
            "resource_arn": key,
            "document": _doc(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{data}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ),
            "source_file": "x",
        }
    )
    tables["raw_org_organization"] = [
        {"organization_id": "o-bench", "arn": "o", "management_account_id": MGMT}
    ]
    tables["raw_org_accounts"] = [{"account_id": a, "arn": a, "name": a} for a in ids]
    tables["raw_org_parents"] = [
        {"child_id": "ou-work", "parent_id": "r-1", "parent_type": "ROOT"},
        *(
            {"child_id": a, "parent_id": "ou-work", "parent_type": "ORGANIZATIONAL_UNIT"}
            for a in ids[1:]
        ),
        {"child_id": MGMT, "parent_id": "r-1", "parent_type": "ROOT"},
    ]
    tables["raw_org_policies"] = [
        {
            "policy_id": "p-full",
            "arn": "f",
            "name": "FullAWSAccess",
            "type": "SERVICE_CONTROL_POLICY",
            "document": _doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
        },
        {
            "policy_id": "p-region",
            "arn": "r",
            "name": "RegionRestriction",
            "type": "SERVICE_CONTROL_POLICY",
            "document": _doc(REGION_SCP),
        },
    ]
    targets = [("p-full", t) for t in ["r-1", "ou-work", *ids]] + [("p-region", "ou-work")]
    tables["raw_org_policy_targets"] = [
        {"policy_id": p, "target_id": t, "target_type": "X", "target_name": t, "target_arn": t}
        for p, t in targets
    ]
    return tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--principals", type=int, default=10_000)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    t = time.perf_counter()
    inputs = generate(args.principals, args.accounts)
    con = build(
        inputs,
        [
            "stg_policy_documents",
            "stg_policy_statements",
            "int_identities",
            "int_principal_policies",
            "int_account_scp_levels",
        ],
    )
    built = time.perf_counter() - t
    # The per-principal resource-policy condition verdicts (issue 12), decided once per
    # distinct fact tuple: their cost and size at this scale.
    t = time.perf_counter()
    for name in (
        "int_resource_condition_facts",
        "int_resource_condition_fact_verdicts",
        "int_resource_condition_verdicts",
    ):
        run_model(con, MODELS[name])
    verdicts_built = time.perf_counter() - t
    (n_verdicts,) = con.execute("select count(*) from int_resource_condition_verdicts").fetchone()
    (n_decided,) = con.execute(
        "select count(*) from int_resource_condition_fact_verdicts"
    ).fetchone()
    t = time.perf_counter()
    store = PolicyStore.from_connection(con)
    loaded = time.perf_counter() - t
    data = f"{200000000001}"
    questions = [
        ("s3:GetObject", "arn:aws:s3:::shared-data/k", None),
        ("s3:GetObject", "arn:aws:s3:::shared-data/k", {"aws:RequestedRegion": "us-east-1"}),
        ("s3:GetObject", "arn:aws:s3:::perimeter-data/k", None),
        ("kms:Decrypt", f"arn:aws:kms:eu-west-1:{data}:key/k1", None),
        ("iam:PassRole", f"arn:aws:iam::{data}:role/role-1", None),
    ]
    print(
        f"{args.principals} principals in {args.accounts} accounts: models built in "
        f"{built:.1f} s, PolicyStore loaded in {loaded:.1f} s; resource condition verdicts: "
        f"{n_verdicts} (principal, statement) rows from {n_decided} evaluations in "
        f"{verdicts_built:.1f} s"
    )
    for action, resource, context in questions:
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            result = who_can(store, action, resource, context)
            times.append(time.perf_counter() - t)
        decisions: dict[str, int] = {}
        for p in result["principals"]:
            decisions[p["decision"]] = decisions.get(p["decision"], 0) + 1
        print(
            f"  who-can {action} {resource} context={context}: median "
            f"{statistics.median(times):.2f} s, max {max(times):.2f} s; {decisions}, "
            f"{len(result['external'])} external"
        )


if __name__ == "__main__":
    main()
