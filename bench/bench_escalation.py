"""Benchmark of the principal graph and the privilege-escalation path search at organization scale.

    .venv/bin/python bench/bench_escalation.py [--principals 10000] [--accounts 10] [--keep DIR]
        [--repeats 3] [--baseline CHECKOUT] [--reuse]

1. Generates, deterministically, an adversarial organization of N principals in a few member
   accounts (IAM edges stay inside an account, so few large accounts are the hard case): 80%
   roles and 20% users in teams of 100; most roles trust three other roles by ARN (chains and
   cycles), 15% trust their account root (anyone holding sts:AssumeRole there can assume them),
   the rest trust Lambda or EC2 (with an instance profile) and run functions and instances;
   groups hand users pass-role, access-key, group-joining and policy-writing grants, scoped to
   teams or to `*`; 1% of the roles are administrators. Policies mix those grants with random
   catalog actions (as bench_evaluation.py does), so the evaluation is realistic too.
2. Runs the whole `ciem run` (no CloudTrail) in a child process: wall time, peak RSS, and the
   times of the graph models as the run reports them.
3. In another child process, on the warehouse that run left, rebuilds only the graph models and
   the search (int_policy_set_method_actions_evaluated, int_principal_graph_nodes, _classes,
   _method_candidates, _assume_candidates, _assume_edges, _class_edges,
   int_principal_graph_edges, privilege_escalation_paths, int_privesc_paths,
   det_privilege_escalation, relationships): wall time of each, and peak RSS of
   that process (the target: under 30 s and 1 GiB together), `--repeats` times (medians).
4. With `--baseline CHECKOUT` (another checkout of the project, e.g. a `git archive` of main),
   the same rebuild with that checkout's models, interleaved with this one's on the same
   warehouse (medians and ratios), and the edges and paths each left compared as whole tables
   (`except all` both ways, on the baseline's columns but `edge_key`, a number naming the row
   within one build; the paths' JSON steps without the keys the baseline's steps do not
   have). `--reuse` keeps the organization and the warehouse of an earlier `--keep DIR` run and
   measures only the rebuilds.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_evaluation import (  # noqa: E402
    _PROGRESS,
    ADMIN,
    CREATED,
    _catalog,
    _managed,
    _org_files,
    _policy_document,
    measured,
)

GRAPH_MODELS = (
    "int_policy_set_method_actions_evaluated",
    "int_principal_graph_nodes",
    "int_principal_graph_classes",
    "int_principal_graph_method_candidates",
    "int_principal_graph_assume_candidates",
    "int_principal_graph_assume_edges",
    "int_principal_graph_class_edges",
    "int_principal_graph_edges",
    "int_principal_graph_pair_edges",
    "int_privesc_next_steps",
    "int_privesc_steps",
    "privilege_escalation_paths",
    "int_privesc_paths",
    "det_privilege_escalation",
    "int_can_escalate_to",
    "relationships",
)
TEAM_SIZE = 100
REGION = "eu-west-1"


def _allow(actions: list[str], resource: str | list[str] = "*") -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


def _escalation_grants(rnd: random.Random, account: str, teams: int) -> list[dict]:
    """One or two grants of the kinds the graph turns into edges, scoped to a team or to `*`."""
    team = rnd.randrange(teams)
    scope = rnd.random() < 0.3  # 30% of the grants name every resource
    roles = "*" if scope else f"arn:aws:iam::{account}:role/t{team}-*"
    users = "*" if scope else f"arn:aws:iam::{account}:user/t{team}-*"
    functions = "*" if scope else f"arn:aws:lambda:{REGION}:{account}:function:t{team}-*"
    kinds = [
        lambda: _allow(["sts:AssumeRole"], roles),
        lambda: _allow(["sts:AssumeRole"], roles),
        lambda: _allow(["iam:PassRole"], roles),
        lambda: _allow(["lambda:CreateFunction", "lambda:InvokeFunction"]),
        lambda: _allow(["iam:PassRole", "ec2:RunInstances"], roles),
        lambda: _allow(["iam:CreateAccessKey"], users),
        lambda: _allow(["iam:AddUserToGroup"], f"arn:aws:iam::{account}:group/*"),
        lambda: _allow(["iam:PutRolePolicy", "iam:AttachRolePolicy"], roles),
        lambda: _allow(["iam:UpdateAssumeRolePolicy"], roles),
        lambda: _allow(["lambda:UpdateFunctionCode"], functions),
        lambda: _allow(["ssm:SendCommand"], f"arn:aws:ec2:{REGION}:{account}:instance/*"),
    ]
    return [rnd.choice(kinds)() for _ in range(rnd.randint(1, 2))]


def _profile_arn(account: str, role_arn: str) -> str:
    """The instance profile the generator gives an EC2 role: named like the role."""
    return f"arn:aws:iam::{account}:instance-profile/{role_arn.rsplit('/', 1)[1]}"


def account_details(
    account: str, principals: int, catalog: dict[str, list[str]], seed: int
) -> tuple[dict[str, Any], list[dict], list[dict]]:
    """(get-account-authorization-details, Lambda functions, EC2 instances) of one account."""
    rnd = random.Random(seed)  # noqa: S311 - deterministic test data, not security
    teams = max(1, principals // TEAM_SIZE)
    n_users = principals // 5
    n_roles = principals - n_users
    n_groups = max(2, principals // 50)
    n_policies = max(50, principals // 10)
    arns = [f"arn:aws:iam::{account}:policy/p{i:05d}" for i in range(n_policies)]
    policies = []
    for i, arn in enumerate(arns):
        document = _policy_document(rnd, catalog, account)
        if rnd.random() < 0.6:
            document["Statement"] += _escalation_grants(rnd, account, teams)
        policies.append(_managed(arn, f"p{i:05d}", document))
    admin_arn = f"arn:aws:iam::{account}:policy/admin-like"
    policies.append(_managed(admin_arn, "admin-like", ADMIN))

    def attached(selected: list[str]) -> list[dict]:
        return [{"PolicyName": a.rsplit("/", 1)[1], "PolicyArn": a} for a in selected]

    templates = [rnd.sample(arns, rnd.randint(1, 3)) for _ in range(max(10, principals // 20))]
    groups = [
        {
            "GroupName": f"g{i}",
            "GroupId": f"AGPA{account}{i:05d}",
            "Arn": f"arn:aws:iam::{account}:group/g{i}",
            "Path": "/",
            "CreateDate": CREATED,
            "GroupPolicyList": [],
            "AttachedManagedPolicies": attached([admin_arn] if i == 0 else rnd.choice(templates)),
        }
        for i in range(n_groups)
    ]
    users = [
        {
            "UserName": f"t{i % teams}-u{i}",
            "UserId": f"AIDA{account}{i:05d}",
            "Arn": f"arn:aws:iam::{account}:user/t{i % teams}-u{i}",
            "Path": "/",
            "CreateDate": CREATED,
            "GroupList": [f"g{g}" for g in rnd.sample(range(1, n_groups), rnd.randint(1, 2))],
            "UserPolicyList": [],
            "AttachedManagedPolicies": [],
            "Tags": [],
        }
        for i in range(n_users)
    ]
    role_arns = [f"arn:aws:iam::{account}:role/t{i % teams}-r{i}" for i in range(n_roles)]
    roles, lambda_roles, ec2_roles = [], [], []
    for i, arn in enumerate(role_arns):
        draw = rnd.random()
        if draw < 0.60:
            principal: dict[str, Any] = {"AWS": rnd.sample(role_arns, 3)}
        elif draw < 0.75:
            principal = {"AWS": f"arn:aws:iam::{account}:root"}
        elif draw < 0.80:
            principal = {"AWS": users[rnd.randrange(n_users)]["Arn"]}
        elif draw < 0.92:
            principal = {"Service": "lambda.amazonaws.com"}
            lambda_roles.append(arn)
        else:
            principal = {"Service": "ec2.amazonaws.com"}
            ec2_roles.append(arn)
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
        }
        name = arn.rsplit("/", 1)[1]
        profile = {
            "Path": "/",
            "InstanceProfileName": name,
            "InstanceProfileId": f"AIPA{account}{i:05d}",
            "Arn": f"arn:aws:iam::{account}:instance-profile/{name}",
            "CreateDate": CREATED,
            "Roles": [],
        }
        roles.append(
            {
                "Path": "/",
                "RoleName": name,
                "RoleId": f"AROA{account}{i:05d}",
                "Arn": arn,
                "CreateDate": CREATED,
                "AssumeRolePolicyDocument": trust,
                "InstanceProfileList": [profile] if arn in ec2_roles[-1:] else [],
                "RolePolicyList": [],
                "AttachedManagedPolicies": attached(
                    [admin_arn] if rnd.random() < 0.01 else rnd.choice(templates)
                ),
                "Tags": [],
                "RoleLastUsed": {},
            }
        )
    functions = [
        {
            "FunctionName": f"t{i % teams}-fn{i}",
            "FunctionArn": f"arn:aws:lambda:{REGION}:{account}:function:t{i % teams}-fn{i}",
            "Role": rnd.choice(lambda_roles),
            "Runtime": "python3.12",
        }
        for i in range(principals // 10)
        if lambda_roles
    ]
    instances = [
        {
            "InstanceId": f"i-{account[-4:]}{i:08x}",
            "State": {"Name": "running"},
            "IamInstanceProfile": {"Arn": _profile_arn(account, rnd.choice(ec2_roles))},
        }
        for i in range(principals // 20)
        if ec2_roles
    ]
    details = {
        "UserDetailList": users,
        "GroupDetailList": groups,
        "RoleDetailList": roles,
        "Policies": policies,
    }
    return details, functions, instances


def generate_org(
    snapshot: Path, principals: int, n_accounts: int, catalog: dict[str, list[str]]
) -> None:
    accounts = [f"{200000000000 + i:012d}" for i in range(n_accounts)]
    for i, account in enumerate(accounts):
        per_account = principals // n_accounts + (1 if i < principals % n_accounts else 0)
        details, functions, instances = account_details(account, per_account, catalog, 7000 + i)
        iam = snapshot / account / "iam"
        iam.mkdir(parents=True, exist_ok=True)
        (iam / "get-account-authorization-details.json").write_text(json.dumps(details))
        lam = snapshot / account / REGION / "lambda"
        lam.mkdir(parents=True, exist_ok=True)
        (lam / "list-functions.json").write_text(json.dumps({"Functions": functions}))
        ec2 = snapshot / account / REGION / "ec2"
        ec2.mkdir(parents=True, exist_ok=True)
        (ec2 / "describe-instances.json").write_text(
            json.dumps({"Reservations": [{"Instances": instances}]})
        )
    _org_files(snapshot, accounts)


REBUILD = """
import json, resource, sys, time
from datetime import date
from pathlib import Path
sys.path.insert(0, {root!r})
from pipelines.defs.lake_tables import lake_tables
from pipelines.lib.lake import Lake
from pipelines.lib.warehouse.connection import RunParams, connect, set_run_params
from pipelines.lib.warehouse.sql_models import discover_models, run_model
models = {{m.name: m for m in discover_models(external=lake_tables())}}
times, rows = {{}}, {{}}
with connect(Lake.at(Path({lake!r}))) as con:
    set_run_params(con, RunParams(as_of=date(2026, 11, 20)))
    start = time.perf_counter()
    for name in {models!r}:
        if name not in models:  # a model the checkout does not have
            continue
        t = time.perf_counter()
        rows[name] = run_model(con, models[name])
        times[name] = time.perf_counter() - t
    total = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if {keep!r}:  # what the models left, for the comparison
        for table in ("int_principal_graph_edges", "privilege_escalation_paths"):
            copy = f"create or replace table bench_{{table}}_{keep} as select * from {{table}}"
            con.execute(copy)
print(json.dumps({{"times": times, "rows": rows, "total": total, "peak": peak}}))
"""

COMPARE = """
import json, sys
from collections import Counter
from pathlib import Path
sys.path.insert(0, {root!r})
from pipelines.lib.lake import Lake
from pipelines.lib.warehouse.connection import connect
out = {{}}


def steps_as_baseline(path, base_keys):
    return [{{k: v for k, v in s.items() if k in base_keys}} for s in json.loads(path)]


with connect(Lake.at(Path({lake!r}))) as con:
    for table in ("int_principal_graph_edges", "privilege_escalation_paths"):
        a, b = f"bench_{{table}}_baseline", f"bench_{{table}}_current"
        cols = [c for (c,) in con.execute(
            "select column_name from information_schema.columns where table_name = ? "
            "order by ordinal_position", [a]).fetchall()]
        if table == "int_principal_graph_edges":
            # edge_key is a hash naming the row inside one build (of the class number): not
            # compared
            listed = ", ".join(c for c in cols if c != "edge_key")
            out[table] = [con.execute(f"select count(*) from (select {{listed}} from {{x}} "
                                      f"except all select {{listed}} from {{y}})").fetchall()[0][0]
                          for x, y in ((a, b), (b, a))]
            continue
        base_keys = set()
        for (path,) in con.execute(f"select path from {{a}}").fetchall():
            base_keys |= {{k for s in json.loads(path) for k in s}}
        rows = {{}}
        for name in (a, b):
            got = con.execute(f"select {{', '.join(cols)}} from {{name}}").fetchall()
            rows[name] = sorted(json.dumps([*(v for c, v in zip(cols, r) if c != "path"),
                                            steps_as_baseline(r[cols.index("path")], base_keys)],
                                           sort_keys=True, default=str) for r in got)
        left, right = Counter(rows[a]), Counter(rows[b])
        out[table] = [sum((left - right).values()), sum((right - left).values())]
print(json.dumps(out))
"""


def last_json(out: str) -> Any:
    """The JSON object a child printed last (DuckDB's progress bar may precede it on its line)."""
    line = out.strip().splitlines()[-1]
    return json.loads(line[line.index('{"') :])


def rebuild(root: Path, lake: Path, keep: str) -> dict:
    """The graph models rebuilt by `root`'s code on `lake`, in a child process."""
    _, _, out = measured(
        [sys.executable, "-c", REBUILD.format(root=str(root), lake=str(lake),
                                              models=GRAPH_MODELS, keep=keep)]
    )  # fmt: skip
    return last_json(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--principals", type=int, default=10000)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--keep", metavar="DIR", help="work folder to keep (default: temporary)")
    parser.add_argument("--repeats", type=int, default=3, help="rebuilds of the graph (median)")
    parser.add_argument(
        "--baseline", metavar="CHECKOUT", help="another checkout whose graph models to compare"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="with --keep: rebuild on the warehouse left there"
    )
    args = parser.parse_args()
    catalog = _catalog()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.keep or tmp)
        work.mkdir(parents=True, exist_ok=True)
        snapshot = work / "snapshot"
        lake = work / "lake"
        wall, peak, in_run = float("nan"), float("nan"), {}
        if not (args.reuse and args.keep and lake.exists()):
            shutil.rmtree(snapshot, ignore_errors=True)
            generate_org(snapshot, args.principals, args.accounts, catalog)
            cloudtrail = work / "no-cloudtrail"
            cloudtrail.mkdir(exist_ok=True)
            shutil.rmtree(lake, ignore_errors=True)
            wall, peak, output = measured(
                [sys.executable, "-m", "pipelines.cli", "run", "--snapshot", str(snapshot),
                 "--cloudtrail", str(cloudtrail), "--as-of", "2026-11-20", "--lake", str(lake)]
            )  # fmt: skip
            in_run = {n: float(t) for n, t in _PROGRESS.findall(output) if n in GRAPH_MODELS}
        runs: dict[str, list[dict]] = {"current": [], "baseline": []}
        for i in range(args.repeats):
            last = i == args.repeats - 1
            if args.baseline:
                runs["baseline"].append(
                    rebuild(Path(args.baseline), lake, "baseline" if last else "")
                )
            runs["current"].append(rebuild(ROOT, lake, "current" if last and args.baseline else ""))
        same = None
        if args.baseline:
            _, _, out = measured(
                [sys.executable, "-c", COMPARE.format(root=str(ROOT), lake=str(lake))]
            )
            same = last_json(out)
    print(
        f"privilege-escalation graph, {args.principals:,} principals in {args.accounts} "
        f"accounts (adversarial), medians of {args.repeats}:"
    )
    print(f"  whole `ciem run` (no CloudTrail): {wall:8.1f} s, peak {peak:7,.0f} MiB")
    current = runs["current"]
    baseline = runs["baseline"]

    def median(results: list[dict], name: str) -> float:
        values = [r["times"][name] for r in results if name in r["times"]]
        return statistics.median(values) if values else float("nan")

    print(f"  {'model':<38} {'rows':>10} {'in run s':>9} {'alone s':>8} {'baseline s':>10}")
    for name in GRAPH_MODELS:
        rows = current[-1]["rows"].get(name)
        print(
            f"  {name:<38} {rows if rows is not None else 'view':>10} "
            f"{in_run.get(name, float('nan')):>9.1f} {median(current, name):>8.1f} "
            f"{median(baseline, name):>10.1f}"
        )
    total = statistics.median(r["total"] for r in current)
    top = statistics.median(r["peak"] for r in current)
    print(
        f"  graph models and search alone: {total:.1f} s, peak {top:,.0f} MiB "
        "(target: < 30 s, < 1,024 MiB)"
    )
    if baseline:
        base_total = statistics.median(r["total"] for r in baseline)
        base_peak = statistics.median(r["peak"] for r in baseline)
        print(
            f"  baseline ({args.baseline}): {base_total:.1f} s, peak {base_peak:,.0f} MiB; "
            f"ratios {total / base_total:.2f} (time), {top / base_peak:.2f} (peak)"
        )
        for table, (only_base, only_current) in (same or {}).items():
            print(
                f"  {table}: {only_base} rows only in the baseline, {only_current} only in "
                "this checkout (baseline's columns)"
            )


if __name__ == "__main__":
    main()
