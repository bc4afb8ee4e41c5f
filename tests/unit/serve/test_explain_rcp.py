"""`ciem explain` with resource control policies (RCPs), after AWS Organizations' "Resource
control policies (RCPs)" and "RCP evaluation" pages: RCPs restrict requests on resources of
member accounts (never the management account), for the services that support RCPs, whoever
the caller is (other accounts included) except service-linked roles; every level root -> OUs ->
resource account must allow (RCPFullAWSAccess), and an RCP Deny wins. They are organization
policies of type RESOURCE_CONTROL_POLICY and must never be taken for SCPs.

The organization (landed from AWS CLI files through the snapshot reader):

    r-ab12 (root)  SCP FullAWSAccess; RCP RCPFullAWSAccess + perimeter (conditional Deny s3:*)
    ├── 111111111111 management  SCP FullAWSAccess; RCP RCPFullAWSAccess; bucket mgmt-logs
    ├── ou-ab12-prod0001  SCP FullAWSAccess; RCP RCPFullAWSAccess
    │   └── 222222222222 prod  SCP FullAWSAccess; RCPs RCPFullAWSAccess + prod-guard
    │         (Deny s3:DeleteObject on prod-data/*, Deny kms:*); bucket prod-data
    └── ou-ab12-sand0001  SCP FullAWSAccess; NO RCP attached
        └── 444444444444 sandbox  SCP FullAWSAccess; RCP RCPFullAWSAccess; bucket sandbox-tmp
    333333333333 outside the organization (user ext)
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from pipelines.cli.explain import run_batch
from pipelines.lib.land.quarantine import Quarantine
from pipelines.lib.land.snapshot import read_snapshot
from pipelines.lib.serve.explain import PolicyStore, format_decision
from tests.sql.harness import build, catalog_rows

MGMT = "111111111111"
PROD = "222222222222"
OUTSIDE = "333333333333"
SANDBOX = "444444444444"
ORG_ID = "o-ab12cd34ef"
ROOT = "r-ab12"
OU_PROD = "ou-ab12-prod0001"
OU_SAND = "ou-ab12-sand0001"

ALICE = f"arn:aws:iam::{PROD}:user/alice"
SLR_PATH = "/aws-service-role/storage-lens.s3.amazonaws.com/"
SLR = f"arn:aws:iam::{PROD}:role{SLR_PATH}AWSServiceRoleForS3StorageLens"
SAM = f"arn:aws:iam::{SANDBOX}:user/sam"
EXT = f"arn:aws:iam::{OUTSIDE}:user/ext"

PROD_OBJECT = "arn:aws:s3:::prod-data/report.csv"
MGMT_OBJECT = "arn:aws:s3:::mgmt-logs/2026/a.log"
SANDBOX_OBJECT = "arn:aws:s3:::sandbox-tmp/x"
PROD_QUEUE = f"arn:aws:sqs:eu-west-1:{PROD}:jobs"
PROD_KEY = f"arn:aws:kms:eu-west-1:{PROD}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SANDBOX_INSTANCE = f"arn:aws:ec2:eu-west-1:{SANDBOX}:instance/i-0abc1234def567890"

FULL_AWS_ACCESS_ARN = "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess"
RCP_FULL_ARN = "arn:aws:organizations::aws:policy/resource_control_policy/p-RCPFullAWSAccess"
PERIMETER_ARN = (
    f"arn:aws:organizations::{MGMT}:policy/{ORG_ID}/resource_control_policy/p-perimeter1"
)
GUARD_ARN = f"arn:aws:organizations::{MGMT}:policy/{ORG_ID}/resource_control_policy/p-prodguard"

# The AWS managed policies' contents, as describe-policy returns them.
FULL_AWS_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
RCP_FULL_AWS_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
}
# The identity perimeter of AWS's data-perimeter RCP examples: nobody outside the organization
# (AWS services acting on their own excepted) may use the S3 resources.
PERIMETER = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "EnforceOrgIdentities",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {
                "StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG_ID},
                "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
            },
        }
    ],
}
PROD_GUARD = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "NoObjectDeletion",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:DeleteObject",
            "Resource": "arn:aws:s3:::prod-data/*",
        },
        {"Sid": "NoKms", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"},
    ],
}


def _write(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


def _allow(*actions: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
    }


def _gaad(account: str, users: list[tuple[str, dict]], roles: list[tuple[str, str, dict]]) -> dict:
    return {
        "UserDetailList": [
            {
                "UserName": name,
                "UserId": "AIDA" + name.upper(),
                "Arn": f"arn:aws:iam::{account}:user/{name}",
                "Path": "/",
                "CreateDate": "2025-01-01T00:00:00Z",
                "GroupList": [],
                "AttachedManagedPolicies": [],
                "UserPolicyList": [{"PolicyName": f"{name}-access", "PolicyDocument": doc}],
            }
            for name, doc in users
        ],
        "RoleDetailList": [
            {
                "RoleName": name,
                "RoleId": "AROA" + name.upper(),
                "Arn": f"arn:aws:iam::{account}:role{path}{name}",
                "Path": path,
                "CreateDate": "2025-01-01T00:00:00Z",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "storage-lens.s3.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "AttachedManagedPolicies": [],
                "RolePolicyList": [{"PolicyName": f"{name}-access", "PolicyDocument": doc}],
            }
            for name, path, doc in roles
        ],
        "GroupDetailList": [],
        "Policies": [],
    }


def _bucket_policy(bucket: str, principal: str, action: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": principal},
                "Action": action,
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            }
        ],
    }


def _write_snapshot(root: Path) -> None:
    _write(
        root / PROD / "iam" / "get-account-authorization-details.json",
        _gaad(
            PROD,
            [("alice", _allow("s3:*", "sqs:*", "kms:*"))],
            [
                (
                    "AWSServiceRoleForS3StorageLens",
                    SLR_PATH,
                    _allow("s3:*"),
                )
            ],
        ),
    )
    _write(
        root / SANDBOX / "iam" / "get-account-authorization-details.json",
        _gaad(SANDBOX, [("sam", _allow("s3:*", "ec2:*"))], []),
    )
    _write(
        root / OUTSIDE / "iam" / "get-account-authorization-details.json",
        _gaad(OUTSIDE, [("ext", _allow("s3:*"))], []),
    )
    outside_root = f"arn:aws:iam::{OUTSIDE}:root"
    _write(
        root / PROD / "s3" / "bucket-policies" / "prod-data.json",
        _bucket_policy("prod-data", outside_root, "s3:GetObject"),
    )
    _write(
        root / MGMT / "s3" / "bucket-policies" / "mgmt-logs.json",
        _bucket_policy("mgmt-logs", outside_root, "s3:GetObject"),
    )
    # A bucket without a policy, known as prod's from list-buckets.json (issue 12 item 4).
    _write(root / PROD / "s3" / "list-buckets.json", {"Buckets": [{"Name": "prod-plain"}]})
    _write(
        root / SANDBOX / "s3" / "bucket-policies" / "sandbox-tmp.json",
        _bucket_policy("sandbox-tmp", f"arn:aws:iam::{SANDBOX}:root", "s3:*"),
    )

    org = root / "organization"
    org_arn = f"arn:aws:organizations::{MGMT}"
    _write(
        org / "describe-organization.json",
        {
            "Organization": {
                "Id": ORG_ID,
                "Arn": f"{org_arn}:organization/{ORG_ID}",
                "FeatureSet": "ALL",
                "MasterAccountArn": f"{org_arn}:account/{ORG_ID}/{MGMT}",
                "MasterAccountId": MGMT,
                "MasterAccountEmail": "mgmt@example.com",
            }
        },
    )
    accounts = {MGMT: "management", PROD: "prod", SANDBOX: "sandbox"}
    _write(
        org / "list-accounts.json",
        {
            "Accounts": [
                {
                    "Id": account,
                    "Arn": f"{org_arn}:account/{ORG_ID}/{account}",
                    "Email": f"{name}@example.com",
                    "Name": name,
                    "Status": "ACTIVE",
                    "JoinedMethod": "CREATED",
                    "JoinedTimestamp": "2024-01-01T00:00:00Z",
                }
                for account, name in accounts.items()
            ]
        },
    )
    _write(
        org / "list-roots.json",
        {"Roots": [{"Id": ROOT, "Arn": f"{org_arn}:root/{ORG_ID}/{ROOT}", "Name": "Root"}]},
    )
    parents = {MGMT: ROOT, OU_PROD: ROOT, OU_SAND: ROOT, PROD: OU_PROD, SANDBOX: OU_SAND}
    for child, parent in parents.items():
        kind = "ROOT" if parent == ROOT else "ORGANIZATIONAL_UNIT"
        _write(org / "parents" / f"{child}.json", {"Parents": [{"Id": parent, "Type": kind}]})

    def target(node: str) -> dict:
        if node == ROOT:
            return {"TargetId": ROOT, "Arn": "x", "Name": "Root", "Type": "ROOT"}
        if node.startswith("ou-"):
            return {"TargetId": node, "Arn": "x", "Name": node, "Type": "ORGANIZATIONAL_UNIT"}
        return {"TargetId": node, "Arn": "x", "Name": accounts[node], "Type": "ACCOUNT"}

    policies = [
        ("p-FullAWSAccess", FULL_AWS_ACCESS_ARN, "FullAWSAccess", "SERVICE_CONTROL_POLICY",
         True, FULL_AWS_ACCESS, [ROOT, MGMT, OU_PROD, PROD, OU_SAND, SANDBOX]),
        ("p-RCPFullAWSAccess", RCP_FULL_ARN, "RCPFullAWSAccess", "RESOURCE_CONTROL_POLICY",
         True, RCP_FULL_AWS_ACCESS, [ROOT, MGMT, OU_PROD, PROD, SANDBOX]),
        ("p-perimeter1", PERIMETER_ARN, "perimeter", "RESOURCE_CONTROL_POLICY",
         False, PERIMETER, [ROOT]),
        ("p-prodguard", GUARD_ARN, "prod-guard", "RESOURCE_CONTROL_POLICY",
         False, PROD_GUARD, [PROD]),
    ]  # fmt: skip
    for pid, arn, name, kind, managed, content, targets in policies:
        summary = {"Id": pid, "Arn": arn, "Name": name, "Type": kind, "AwsManaged": managed}
        _write(
            org / "policies" / f"{pid}.json",
            {"Policy": {"PolicySummary": summary, "Content": json.dumps(content)}},
        )
        _write(org / "targets" / f"{pid}.json", {"Targets": [target(n) for n in targets]})


CATALOG = catalog_rows(
    [
        ("s3:GetObject", "Read"),
        ("s3:DeleteObject", "Write"),
        ("sqs:SendMessage", "Write"),
        ("kms:Decrypt", "Write"),
        ("kms:RetireGrant", "Write"),
        ("ec2:StartInstances", "Write"),
    ]
)


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("rcp") / "snapshot"
    _write_snapshot(root)
    quarantine = Quarantine("snapshot")
    tables = read_snapshot(root, quarantine)
    assert quarantine.entries == []
    inputs = {name: table.to_pylist() for name, table in tables.items() if table.num_rows}
    inputs["ref_iam_actions"] = CATALOG
    return build(inputs, ["effective_permissions", "stg_policy_documents"])


@pytest.fixture(scope="module")
def store(con: Any) -> PolicyStore:
    return PolicyStore.from_connection(con)


# --------------------------------------------------------------------------------------------
# expected chain entries, written out


def _identity(principal: str, statement: int = 0) -> dict:
    name = principal.rsplit("/", 1)[1]
    return {
        "source": "identity",
        "policy": f"{name}-access",
        "policy_arn": None,
        "policy_key": f"{principal}|inline|{name}-access",
        "statement": statement,
        "sid": None,
        "effect": "Allow",
        "conditional": False,
        "condition_keys": [],
        "kind": "inline",
        "via": "direct",
    }


def _scp_full(node: str) -> dict:
    return {
        "source": f"scp:{node}",
        "policy": "FullAWSAccess",
        "policy_arn": FULL_AWS_ACCESS_ARN,
        "policy_key": "org|p-FullAWSAccess",
        "statement": 0,
        "sid": None,
        "effect": "Allow",
        "conditional": False,
        "condition_keys": [],
    }


def _rcp_full(node: str) -> dict:
    return {
        "source": f"rcp:{node}",
        "policy": "RCPFullAWSAccess",
        "policy_arn": RCP_FULL_ARN,
        "policy_key": "org|p-RCPFullAWSAccess",
        "statement": 0,
        "sid": None,
        "effect": "Allow",
        "conditional": False,
        "condition_keys": [],
    }


PERIMETER_DENY = {
    "source": f"rcp:{ROOT}",
    "policy": "perimeter",
    "policy_arn": PERIMETER_ARN,
    "policy_key": "org|p-perimeter1",
    "statement": 0,
    "sid": "EnforceOrgIdentities",
    "effect": "Deny",
    # Its condition decided true from the snapshot (a caller outside the organization).
    "conditional": False,
    "condition_keys": [],
}


def _guard_deny(statement: int, sid: str) -> dict:
    return {
        "source": f"rcp:{PROD}",
        "policy": "prod-guard",
        "policy_arn": GUARD_ARN,
        "policy_key": "org|p-prodguard",
        "statement": statement,
        "sid": sid,
        "effect": "Deny",
        "conditional": False,
        "condition_keys": [],
    }


def _bucket_grant(bucket: str) -> dict:
    return {
        "source": "resource_policy",
        "policy": bucket,
        "policy_arn": None,
        "policy_key": f"resource|arn:aws:s3:::{bucket}",
        "statement": 0,
        "sid": None,
        "effect": "Allow",
        "conditional": False,
        "condition_keys": [],
        "resource_arn": f"arn:aws:s3:::{bucket}",
    }


def _answer(principal: str, action: str, resource: str | None, decision: str, **chain: Any) -> dict:
    return {
        "principal": principal,
        "action": action,
        "resource": resource,
        "known_action": chain.get("known_action", True),
        "decision": decision,
        "allowed_by": chain.get("allowed_by", []),
        "denied_by": chain.get("denied_by", []),
        "missing_allow_from": chain.get("missing_allow_from", []),
        "condition_keys": chain.get("condition_keys", []),
        "partial_denies": chain.get("partial_denies", []),
    }


PROD_SCPS = [_scp_full(ROOT), _scp_full(OU_PROD), _scp_full(PROD)]
PROD_RCPS = [_rcp_full(ROOT), _rcp_full(OU_PROD), _rcp_full(PROD)]
SANDBOX_SCPS = [_scp_full(ROOT), _scp_full(OU_SAND), _scp_full(SANDBOX)]


# --------------------------------------------------------------------------------------------
# landing and the SCP models: RCPs keep their type and never count as SCPs


def test_rcps_land_with_their_type_and_stay_out_of_the_scp_models(con: Any) -> None:
    assert con.execute(
        "select policy_id, name, type, aws_managed from raw_org_policies order by policy_id"
    ).fetchall() == [
        ("p-FullAWSAccess", "FullAWSAccess", "SERVICE_CONTROL_POLICY", True),
        ("p-RCPFullAWSAccess", "RCPFullAWSAccess", "RESOURCE_CONTROL_POLICY", True),
        ("p-perimeter1", "perimeter", "RESOURCE_CONTROL_POLICY", False),
        ("p-prodguard", "prod-guard", "RESOURCE_CONTROL_POLICY", False),
    ]
    assert con.execute(
        """select policy_key, policy_kind from stg_policy_documents
           where policy_key like 'org|%' order by policy_key"""
    ).fetchall() == [
        ("org|p-FullAWSAccess", "scp"),
        ("org|p-RCPFullAWSAccess", "rcp"),
        ("org|p-perimeter1", "rcp"),
        ("org|p-prodguard", "rcp"),
    ]
    # Every level of every member account carries the SCP only (the RCPs attached to the
    # same nodes are not SCPs); the management account has no SCP levels.
    full = "org|p-FullAWSAccess"
    assert con.execute(
        """select account_id, node_id, depth, policy_key from int_account_scp_levels
           order by account_id, depth"""
    ).fetchall() == [
        (PROD, PROD, 0, full),
        (PROD, OU_PROD, 1, full),
        (PROD, ROOT, 2, full),
        (SANDBOX, SANDBOX, 0, full),
        (SANDBOX, OU_SAND, 1, full),
        (SANDBOX, ROOT, 2, full),
    ]
    assert con.execute(
        "select distinct account_id, policy_key from int_scp_statements order by account_id"
    ).fetchall() == [(PROD, full), (SANDBOX, full)]
    # So the RCP Denies (kms:*, s3:DeleteObject, the conditional s3:*) cut nothing at action
    # level: alice keeps every action her policy grants, unconditionally.
    assert con.execute(
        f"""select action, is_conditional, denied_resources from effective_permissions
            where principal_arn = '{ALICE}' order by action"""
    ).fetchall() == [
        ("kms:decrypt", False, []),
        ("kms:retiregrant", False, []),
        ("s3:deleteobject", False, []),
        ("s3:getobject", False, []),
        ("sqs:sendmessage", False, []),
    ]


def test_rcp_levels_per_member_account(store: PolicyStore) -> None:
    full, perimeter, guard = "org|p-RCPFullAWSAccess", "org|p-perimeter1", "org|p-prodguard"
    assert store.rcp_levels == {
        PROD: [(ROOT, [full, perimeter]), (OU_PROD, [full]), (PROD, [full, guard])],
        SANDBOX: [(ROOT, [full, perimeter]), (OU_SAND, []), (SANDBOX, [full])],
    }


# --------------------------------------------------------------------------------------------
# decisions


def test_rcp_full_aws_access_only_allows(store: PolicyStore) -> None:
    # sqs on a queue of the prod account: only RCPFullAWSAccess matches at each level.
    assert store.explain(ALICE, "sqs:SendMessage", PROD_QUEUE) == _answer(
        ALICE,
        "sqs:SendMessage",
        PROD_QUEUE,
        "allowed",
        allowed_by=[_identity(ALICE), *PROD_SCPS, *PROD_RCPS],
    )


def test_perimeter_deny_on_a_caller_outside_the_organization_is_decided(
    store: PolicyStore,
) -> None:
    # The bucket policy grants the outside account and its identity policy allows: without the
    # RCP the request is allowed. AWS denies it when aws:PrincipalOrgID is not the organization's
    # (the caller is outside it). Both keys are facts of the snapshot for an IAM principal
    # (issue 12: aws:PrincipalOrgID absent outside the organization, aws:PrincipalIsAWSService
    # false), so the Deny applies, unconditionally
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
    assert store.explain(EXT, "s3:GetObject", PROD_OBJECT) == _answer(
        EXT,
        "s3:GetObject",
        PROD_OBJECT,
        "explicitly_denied",
        denied_by=[PERIMETER_DENY],
    )
    # A caller inside the organization: the same RCP Deny does not apply.
    assert store.explain(ALICE, "s3:GetObject", PROD_OBJECT) == _answer(
        ALICE,
        "s3:GetObject",
        PROD_OBJECT,
        "allowed",
        allowed_by=[_identity(ALICE), *PROD_SCPS, *PROD_RCPS],
    )


def test_rcps_apply_to_the_account_that_owns_a_bucket_without_a_policy(
    store: PolicyStore,
) -> None:
    # list-buckets.json makes prod-plain prod's: a same-account request, the RCPs of prod apply.
    plain = "arn:aws:s3:::prod-plain/k"
    assert store.explain(ALICE, "s3:GetObject", plain) == _answer(
        ALICE,
        "s3:GetObject",
        plain,
        "allowed",
        allowed_by=[_identity(ALICE), *PROD_SCPS, *PROD_RCPS],
    )
    # A bucket nobody lists: outside the organization, so the identity policy alone is not
    # enough (both sides must allow) and no RCP of ours applies.
    unknown = "arn:aws:s3:::somebody-elses/k"
    assert store.explain(ALICE, "s3:GetObject", unknown) == _answer(
        ALICE,
        "s3:GetObject",
        unknown,
        "implicitly_denied",
        allowed_by=[_identity(ALICE), *PROD_SCPS],
        missing_allow_from=["resource_policy"],
    )


def test_unconditional_rcp_deny_wins_over_every_allow(store: PolicyStore) -> None:
    assert store.explain(ALICE, "s3:DeleteObject", PROD_OBJECT) == _answer(
        ALICE,
        "s3:DeleteObject",
        PROD_OBJECT,
        "explicitly_denied",
        denied_by=[_guard_deny(0, "NoObjectDeletion")],
    )
    assert store.explain(ALICE, "kms:Decrypt", PROD_KEY) == _answer(
        ALICE, "kms:Decrypt", PROD_KEY, "explicitly_denied", denied_by=[_guard_deny(1, "NoKms")]
    )


def test_kms_retire_grant_is_not_impacted_by_rcps(store: PolicyStore) -> None:
    # No RCP level is evaluated (none in allowed_by or missing_allow_from); the snapshot holds
    # no key policy for the key, and KMS always needs one (issue 12), hence the implicit deny.
    assert store.explain(ALICE, "kms:RetireGrant", PROD_KEY) == _answer(
        ALICE,
        "kms:RetireGrant",
        PROD_KEY,
        "implicitly_denied",
        allowed_by=[_identity(ALICE), *PROD_SCPS],
        missing_allow_from=["resource_policy"],
    )


def test_level_without_an_rcp_is_an_implicit_deny(store: PolicyStore) -> None:
    assert store.explain(SAM, "s3:GetObject", SANDBOX_OBJECT) == _answer(
        SAM,
        "s3:GetObject",
        SANDBOX_OBJECT,
        "implicitly_denied",
        allowed_by=[_identity(SAM), *SANDBOX_SCPS, _rcp_full(ROOT), _rcp_full(SANDBOX)],
        missing_allow_from=[f"rcp:{OU_SAND}"],
    )


def test_service_rcps_do_not_support_is_not_restricted(store: PolicyStore) -> None:
    # Same account, same missing RCP level: ec2 is not on the list of services RCPs support.
    assert store.explain(SAM, "ec2:StartInstances", SANDBOX_INSTANCE) == _answer(
        SAM,
        "ec2:StartInstances",
        SANDBOX_INSTANCE,
        "allowed",
        allowed_by=[_identity(SAM), *SANDBOX_SCPS],
    )


def test_management_account_resources_are_not_restricted(store: PolicyStore) -> None:
    # RCPFullAWSAccess is attached to the management account and the perimeter to the root,
    # but RCPs do not affect resources of the management account.
    assert store.explain(EXT, "s3:GetObject", MGMT_OBJECT) == _answer(
        EXT,
        "s3:GetObject",
        MGMT_OBJECT,
        "allowed",
        allowed_by=[_identity(EXT), _bucket_grant("mgmt-logs")],
    )


def test_service_linked_role_calls_are_not_restricted(store: PolicyStore) -> None:
    assert store.explain(SLR, "s3:DeleteObject", PROD_OBJECT) == _answer(
        SLR,
        "s3:DeleteObject",
        PROD_OBJECT,
        "allowed",
        allowed_by=[_identity(SLR)],
    )


def test_action_level_answers_do_not_apply_rcps(store: PolicyStore) -> None:
    # Without a resource there is no resource account: the RCP Denies (kms:*, s3:DeleteObject)
    # are not evaluated, as in effective_permissions.
    for action in ("kms:Decrypt", "s3:DeleteObject"):
        assert store.explain(ALICE, action) == _answer(
            ALICE, action, None, "allowed", allowed_by=[_identity(ALICE), *PROD_SCPS]
        )


def test_json_batch_output_and_readable_screen(store: PolicyStore) -> None:
    lines = io.StringIO(
        json.dumps({"principal": SAM, "action": "s3:GetObject", "resource": SANDBOX_OBJECT})
        + "\n"
        + json.dumps({"principal": ALICE, "action": "s3:DeleteObject", "resource": PROD_OBJECT})
        + "\n"
    )
    out = io.StringIO()
    assert run_batch(store, lines, out) == 2
    first, second = [json.loads(line) for line in out.getvalue().splitlines()]
    assert list(first) == [
        "principal",
        "action",
        "resource",
        "known_action",
        "decision",
        "allowed_by",
        "denied_by",
        "missing_allow_from",
        "condition_keys",
        "partial_denies",
    ]
    assert first == store.explain(SAM, "s3:GetObject", SANDBOX_OBJECT)
    assert (first["decision"], first["missing_allow_from"]) == (
        "implicitly_denied",
        [f"rcp:{OU_SAND}"],
    )
    assert (second["decision"], [e["source"] for e in second["denied_by"]]) == (
        "explicitly_denied",
        [f"rcp:{PROD}"],
    )
    screen = format_decision(store.explain(ALICE, "s3:DeleteObject", PROD_OBJECT)).splitlines()
    assert screen == [
        ALICE,
        f"  s3:DeleteObject on {PROD_OBJECT}",
        "decision: EXPLICITLY_DENIED",
        "denied by:",
        f"    rcp:{PROD}: prod-guard ({GUARD_ARN}), statement 0 (Sid NoObjectDeletion)",
    ]
