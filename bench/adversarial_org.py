"""An adversarial organization for the evaluation benchmark (issue 11), written as a snapshot folder
in the AWS CLI layout that `ciem run --snapshot` reads.

    .venv/bin/python bench/adversarial_org.py OUT_DIR [--accounts 10] [--principals 1000] [--seed 7]

Unlike `bench_evaluation.py` (tidy: most roles share a few hundred policy sets), this one is built
to hurt the evaluation: every account has `--principals` identities (95% users, 5% roles), nearly
every user a policy set of its own (inline policies of its own plus a random choice of managed
policies and large groups), and the statements are wide: about 12% `NotAction` (random lists, so
no two are alike), about 7% `"Action": "*"`, and many wide wildcards (`s3:*`, `iam:*Policy*`,
and a verb across services: `Get*` as `s3:Get*`, `ec2:Get*`… for the 25 services with the most
such actions, since IAM has no service wildcard and landing quarantines `*:Get*`). Some users
have a permission boundary (some of them NotAction allows), and the accounts sit in a deep OU
tree (5 levels) whose levels carry SCPs: FullAWSAccess, Deny statements with NotAction (region
guardrails), a Deny with NotAction and no condition, and one branch with an allow-list instead
of FullAWSAccess. Deterministic for a seed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_evaluation import ADMIN, CREATED, TRUST, _catalog, _managed

# Changes when the generator writes other organizations (bench_scale regenerates its cache):
# 2 = valid action patterns only (no `*:Get*`).
ORG_VERSION = 2
MANAGEMENT = "100000000000"
ROOT_ID = "r-adv0"
WIDE = ["s3:*", "*:Get*", "iam:*Policy*", "ec2:*", "*:List*", "*:Describe*", "sts:*", "kms:*"]
# `*:Verb*` above stands for `service:Verb*` over this many services (those with the most actions
# of that verb): the IAM grammar has no wildcard service prefix.
SERVICES_PER_VERB = 25
VERBS = ["Get", "List", "Describe", "Put", "Create", "Delete", "Update", "Tag"]


def across_services(pattern: str, catalog: dict[str, list[str]]) -> list[str]:
    """`*:Verb*` as valid patterns: `service:Verb*` for the SERVICES_PER_VERB services with the
    most actions of that verb (any other pattern as itself)."""
    if not pattern.startswith("*:"):
        return [pattern]
    verb = pattern[2:].rstrip("*").lower()
    counts = {
        service: sum(a.split(":", 1)[1].lower().startswith(verb) for a in actions)
        for service, actions in catalog.items()
    }
    top = sorted((s for s in counts if counts[s]), key=lambda s: (-counts[s], s))
    return [f"{s}:{pattern[2:]}" for s in sorted(top[:SERVICES_PER_VERB])]


def _pattern(rnd: random.Random, catalog: dict[str, list[str]], services: list[str]) -> list[str]:
    draw = rnd.random()
    service = rnd.choice(services)
    if draw < 0.3:
        return across_services(rnd.choice(WIDE), catalog)
    if draw < 0.5:
        return [f"{service}:*"]
    if draw < 0.7:
        return [f"{service}:{rnd.choice(VERBS)}*"]
    return [rnd.choice(catalog[service])]  # the catalog names are `service:Action`


def _patterns(
    rnd: random.Random, catalog: dict[str, list[str]], services: list[str], count: int
) -> list[str]:
    """`count` random patterns (a cross-service one counts as one), without repeats."""
    out: list[str] = []
    for _ in range(count):
        out += [p for p in _pattern(rnd, catalog, services) if p not in out]
    return out


def statement(
    rnd: random.Random, catalog: dict[str, list[str]], services: list[str], account: str
) -> dict[str, Any]:
    """One random statement: ~12% NotAction, ~7% Action "*", the rest wildcards and names."""
    draw = rnd.random()
    stmt: dict[str, Any] = {"Effect": "Allow"}
    if draw < 0.12:
        stmt["NotAction"] = _patterns(rnd, catalog, services, rnd.randint(1, 4))
    elif draw < 0.19:
        stmt["Action"] = "*"
    else:
        stmt["Action"] = _patterns(rnd, catalog, services, rnd.randint(1, 6))
    draw = rnd.random()
    if draw < 0.15:
        stmt["Resource"] = [
            f"arn:aws:s3:::bucket-{rnd.randint(1, 300)}/*",
            f"arn:aws:dynamodb:us-east-1:{account}:table/t{rnd.randint(1, 50)}*",
        ]
    elif draw < 0.18:
        stmt["NotResource"] = f"arn:aws:s3:::secret-{rnd.randint(1, 20)}/*"
    else:
        stmt["Resource"] = "*"
    if rnd.random() < 0.10:
        stmt["Condition"] = {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
    if rnd.random() < 0.08:
        stmt["Effect"] = "Deny"
    return stmt


def document(
    rnd: random.Random, catalog: dict[str, list[str]], services: list[str], account: str
) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [statement(rnd, catalog, services, account) for _ in range(rnd.randint(1, 4))],
    }


def account_details(
    account: str, principals: int, catalog: dict[str, list[str]], seed: int
) -> dict[str, Any]:
    """get-account-authorization-details for one adversarial account."""
    rnd = random.Random(seed)  # noqa: S311 - deterministic test data, not security
    services = sorted(catalog)
    n_managed = 200
    arns = [f"arn:aws:iam::{account}:policy/m{i:04d}" for i in range(n_managed)]
    policies = [
        _managed(arn, f"m{i:04d}", document(rnd, catalog, services, account))
        for i, arn in enumerate(arns)
    ]
    boundary_docs = {
        "b-admin": ADMIN,
        "b-no-iam": {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}
            ],
        },
        "b-data": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["s3:*", "dynamodb:*", *across_services("*:Get*", catalog)],
                    "Resource": "*",
                }
            ],
        },
    }
    boundaries = []
    for name, doc in boundary_docs.items():
        arn = f"arn:aws:iam::{account}:policy/{name}"
        policies.append(_managed(arn, name, doc))
        boundaries.append(arn)

    def attached(selected: list[str]) -> list[dict]:
        return [{"PolicyName": a.rsplit("/", 1)[1], "PolicyArn": a} for a in selected]

    def inline(n: int) -> list[dict]:
        return [
            {
                "PolicyName": f"inline-{k}",
                "PolicyDocument": document(rnd, catalog, services, account),
            }
            for k in range(n)
        ]

    n_roles = max(1, principals // 20)
    n_users = principals - n_roles
    n_groups = 20
    groups = [
        {
            "GroupName": f"g{i}",
            "GroupId": f"AGPA{account}{i:05d}",
            "Arn": f"arn:aws:iam::{account}:group/g{i}",
            "Path": "/",
            "CreateDate": CREATED,
            "GroupPolicyList": inline(rnd.randint(0, 2)),
            "AttachedManagedPolicies": attached(rnd.sample(arns, rnd.randint(1, 3))),
        }
        for i in range(n_groups)
    ]
    users = []
    for i in range(n_users):
        user: dict[str, Any] = {
            "UserName": f"u{i}",
            "UserId": f"AIDA{account}{i:05d}",
            "Arn": f"arn:aws:iam::{account}:user/u{i}",
            "Path": "/",
            "CreateDate": CREATED,
            # large groups: 20 groups over all users, each user in 1-3 of them
            "GroupList": [f"g{g}" for g in rnd.sample(range(n_groups), rnd.randint(1, 3))],
            # a policy set of its own: inline policies nobody else has (97% of users)
            "UserPolicyList": inline(rnd.randint(1, 2)) if rnd.random() < 0.97 else [],
            "AttachedManagedPolicies": attached(rnd.sample(arns, rnd.randint(0, 3))),
            "Tags": [],
        }
        if rnd.random() < 0.10:
            user["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": rnd.choice(boundaries),
            }
        users.append(user)
    roles = []
    for i in range(n_roles):
        role: dict[str, Any] = {
            "Path": "/",
            "RoleName": f"r{i}",
            "RoleId": f"AROA{account}{i:05d}",
            "Arn": f"arn:aws:iam::{account}:role/r{i}",
            "CreateDate": CREATED,
            "AssumeRolePolicyDocument": TRUST,
            "InstanceProfileList": [],
            "RolePolicyList": inline(rnd.randint(0, 1)),
            "AttachedManagedPolicies": attached(rnd.sample(arns, rnd.randint(1, 3))),
            "Tags": [],
            "RoleLastUsed": {},
        }
        if rnd.random() < 0.10:
            role["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": rnd.choice(boundaries),
            }
        roles.append(role)
    return {
        "UserDetailList": users,
        "GroupDetailList": groups,
        "RoleDetailList": roles,
        "Policies": policies,
    }


def _ou_tree(accounts: list[str]) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """A 5-level OU tree under the root (2 OUs per level), accounts spread over the leaves.
    Returns parent by node, the OUs, and each account's leaf OU."""
    parent: dict[str, str] = {}
    level = [ROOT_ID]
    ous: list[str] = []
    for depth in range(5):
        nxt = []
        for p in level:
            for k in range(2):
                ou = f"ou-adv0-{depth}{len(nxt):02d}{k}"
                parent[ou] = p
                nxt.append(ou)
        ous += nxt
        level = nxt
    leaf_of = {a: level[i % len(level)] for i, a in enumerate(accounts)}
    parent.update(leaf_of)
    parent[MANAGEMENT] = ROOT_ID
    return parent, ous, leaf_of


def _scp(pid: str, name: str, doc: dict, aws_managed: bool = False) -> dict:
    return {
        "Policy": {
            "PolicySummary": {
                "Id": pid,
                "Arn": f"arn:aws:organizations::aws:policy/service_control_policy/{pid}",
                "Name": name,
                "Type": "SERVICE_CONTROL_POLICY",
                "AwsManaged": aws_managed,
            },
            "Content": json.dumps(doc),
        }
    }


def org_files(snapshot: Path, accounts: list[str], catalog: dict[str, list[str]]) -> None:
    org = snapshot / "organization"
    for sub in ("parents", "policies", "targets"):
        (org / sub).mkdir(parents=True, exist_ok=True)

    def write(path: str, doc: dict) -> None:
        (org / path).write_text(json.dumps(doc))

    write(
        "describe-organization.json",
        {
            "Organization": {
                "Id": "o-adv0",
                "Arn": f"arn:aws:organizations::{MANAGEMENT}:organization/o-adv0",
                "MasterAccountId": MANAGEMENT,
                "FeatureSet": "ALL",
            }
        },
    )
    everyone = [MANAGEMENT, *accounts]
    write(
        "list-accounts.json",
        {
            "Accounts": [
                {"Id": a, "Arn": f"arn:aws:o::a/{a}", "Name": f"acct-{a}"} for a in everyone
            ]
        },
    )
    write("list-roots.json", {"Roots": [{"Id": ROOT_ID, "Arn": "arn:r", "Name": "Root"}]})
    parent, ous, _ = _ou_tree(accounts)
    for node, p in parent.items():
        kind = "ROOT" if p == ROOT_ID else "ORGANIZATIONAL_UNIT"
        write(f"parents/{node}.json", {"Parents": [{"Id": p, "Type": kind}]})
    # One branch (the second OU of level 1, and everything under it) has an allow-list at that
    # level instead of FullAWSAccess.
    allow_listed = ous[3]
    full_access = [ROOT_ID, MANAGEMENT, *accounts, *(o for o in ous if o != allow_listed)]
    scps: dict[str, tuple[dict, list[str]]] = {
        "p-FullAWSAccess": (ADMIN, full_access),
        "p-allowlist": (
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "s3:*",
                            "ec2:*",
                            "iam:*",
                            "sts:*",
                            *across_services("*:Describe*", catalog),
                            *across_services("*:List*", catalog),
                        ],
                        "Resource": "*",
                    }
                ],
            },
            [allow_listed],
        ),
        "p-regions": (
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "NotAction": ["iam:*", "sts:*", "support:*", "organizations:*"],
                        "Resource": "*",
                        "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}},
                    }
                ],
            },
            [ous[0], ous[1]],
        ),
        "p-deny-most": (
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "NotAction": ["s3:*", "ec2:*", "iam:Get*", "iam:List*", "cloudwatch:*"],
                        "Resource": "*",
                    }
                ],
            },
            [ous[10]],
        ),
        "p-guardrails": (
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Action": "organizations:LeaveOrganization",
                        "Resource": "*",
                    },
                    {
                        "Effect": "Deny",
                        "Action": ["s3:DeleteBucket", "s3:PutBucketPolicy"],
                        "Resource": "arn:aws:s3:::audit-*",
                    },
                ],
            },
            ous[6:14],
        ),
    }
    for pid, (doc, targets) in scps.items():
        write(
            f"policies/{pid}.json", _scp(pid, pid.removeprefix("p-"), doc, pid == "p-FullAWSAccess")
        )
        write(
            f"targets/{pid}.json",
            {
                "Targets": [
                    {"TargetId": t, "Arn": f"arn:t/{t}", "Name": t, "Type": "X"} for t in targets
                ]
            },
        )


def generate(out: Path, accounts: int, principals: int, seed: int = 7) -> list[Path]:
    """The snapshot folder `out` (one dated snapshot); returns the authorization-details files."""
    catalog = _catalog()
    ids = [f"{300000000000 + i:012d}" for i in range(accounts)]
    files = []
    for i, account in enumerate(ids):
        details = account_details(account, principals, catalog, seed=seed * 100_000 + i)
        path = out / account / "iam" / "get-account-authorization-details.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(details))
        files.append(path)
    org_files(out, ids, catalog)
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="snapshot folder to write")
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--principals", type=int, default=1000, help="per account")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    files = generate(args.out, args.accounts, args.principals, args.seed)
    print(f"{len(files)} accounts x {args.principals} principals -> {args.out}")


if __name__ == "__main__":
    main()
