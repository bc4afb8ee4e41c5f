"""privilege-escalation against the labels of the real iam-vulnerable account (BishopFox).

Principals named `privesc*` have a known escalation path, `fn*` are escalations other tools miss
(positives), `fp*` are look-alikes that must not fire (negatives). The models run on the real
snapshot built around cloudsplaining's `iam-vulnerable-account-authz-details.json` (with its
SCPs); the fired set is compared whole with a hand-reviewed expectation, and precision and
recall against the labels are printed.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.land.quarantine import Quarantine
from pipelines.lib.land.snapshot import read_snapshot
from pipelines.lib.reference.catalog import load_catalog
from pipelines.lib.reference.csvs import REFERENCE_CSVS, load_reference
from tests.sql.harness import build

SNAPSHOT = (
    Path(__file__).resolve().parents[1] / "fixtures" / "real" / "snapshots" / "iam-vulnerable"
)
ACCOUNT = "200611803367"

# Labeled positives the rule does not report, each with the reason (hand-reviewed). The labels
# mark every principal of an iam-vulnerable scenario, its targets included; the rule reports
# the principals that can become administrator, so the targets and the principals with no path
# in this snapshot stay silent.
EXPECTED_MISSES = {
    # Targets, not attackers: already administrators (never reported as escalating).
    "role/privesc-AssumeRole-ending-role": "administrator already (Allow * on *)",
    "role/privesc-high-priv-service-role": "administrator already (Allow * on *)",
    # Targets with no permission of their own in the dump.
    "user/privesc-AssumeRole-start-user": "holds no policy; no trust policy names it",
    "role/privesc-permissive-role-trust": "holds no policy; it is a target (trusts the account)",
    "group/privesc8-AttachGroupPolicy-group": "holds no policy; it is the target of privesc8",
    "group/privesc11-PutGroupPolicy-group": "holds no policy; it is the target of privesc11",
    # No path in the graph: the modification reaches another principal, and nothing lets the
    # source act as that principal afterwards (no credentials, no sts:AssumeRole, no trust
    # naming it). A role is in no group and is not a user; a user is not a role. PMapper finds
    # no path for them either; cloudsplaining flags the single action.
    "role/privesc7-AttachUserPolicy-role": "a role cannot attach a policy to itself as a user",
    "role/privesc10-PutUserPolicy-role": "a role cannot put a user policy on itself",
    "role/privesc8-AttachGroupPolicy-role": "a role belongs to no group",
    "role/privesc11-PutGroupPolicy-role": "a role belongs to no group",
    "role/privesc13-AddUserToGroup-role": "a role cannot add itself to a group",
    "user/privesc9-AttachRolePolicy-user": "no role it can assume (no sts:AssumeRole)",
    "user/privesc12-PutRolePolicy-user": "no role it can assume (no sts:AssumeRole)",
}

# Unlabeled principals the rule reports, each with the reason (hand-reviewed).
EXPECTED_EXTRAS: dict[str, str] = {
    "role/AWS-QuickSetup-StackSet-Local-AdministrationRole": (
        "assumes AWS-QuickSetup-StackSet-Local-ExecutionRole, an administrator (one step)"
    ),
}

# Labeled negatives the rule reports, each with the reason: conditional paths are reported
# (severity medium, `conditional` in the evidence), never dropped; the condition on
# aws:TokenIssueTime is a request key that the snapshot cannot decide.
EXPECTED_FALSE_POSITIVES = {
    "user/fp5-nonExploitableConditionConstraint-user": "conditional path (aws:TokenIssueTime)",
    "role/fp5-nonExploitableConditionConstraint-role": "conditional path (aws:TokenIssueTime)",
}

# Measured on this snapshot (see the closing note in the README): the thresholds hold them.
MIN_PRECISION = 0.95
MIN_RECALL = 0.83


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    """The snapshot's tables, the real catalog and reference CSVs; the rule and its deps built."""
    tables = read_snapshot(SNAPSHOT, Quarantine(source="snapshot", quiet=True))
    inputs = {name: table.to_pylist() for name, table in tables.items()}
    inputs["ref_iam_actions"] = load_catalog().to_pylist()
    inputs |= {name: load_reference(name).to_pylist() for name in REFERENCE_CSVS}
    return build(inputs, ["det_privilege_escalation", "int_privesc_paths"])


def _short(arn: str) -> str:
    """`arn:aws:iam::<acct>:role/path/name` -> `role/name`."""
    kind, _, rest = arn.split(":", 5)[5].partition("/")
    return f"{kind}/{rest.rsplit('/', 1)[-1]}"


def _labels(con: duckdb.DuckDBPyConnection) -> tuple[set[str], set[str], set[str]]:
    """(positives, negatives, every principal) by name prefix."""
    names = {
        _short(arn) for (arn,) in con.execute("select principal_arn from int_identities").fetchall()
    }
    label = {n: n.split("/", 1)[1] for n in names}
    positives = {n for n, name in label.items() if name.startswith(("privesc", "fn"))}
    negatives = {n for n, name in label.items() if name.startswith("fp")}
    return positives, negatives, names


def test_fired_principals_equal_the_hand_reviewed_set(con: duckdb.DuckDBPyConnection) -> None:
    fired = {
        _short(arn)
        for (arn,) in con.execute("select resource_arn from det_privilege_escalation").fetchall()
    }
    positives, negatives, names = _labels(con)
    assert set(EXPECTED_MISSES) <= positives
    assert set(EXPECTED_FALSE_POSITIVES) <= negatives
    assert not set(EXPECTED_EXTRAS) & (positives | negatives)
    assert set(EXPECTED_EXTRAS) <= names
    assert fired == (positives - set(EXPECTED_MISSES)) | set(EXPECTED_EXTRAS) | set(
        EXPECTED_FALSE_POSITIVES
    )

    true_positives = fired & positives
    precision = len(true_positives) / len(fired & (positives | negatives))
    recall = len(true_positives) / len(positives)
    print(
        f"\nprivilege-escalation on iam-vulnerable: {len(fired)} fired, "
        f"{len(true_positives)}/{len(positives)} positives, "
        f"{len(fired & negatives)}/{len(negatives)} false positives; "
        f"precision {precision:.3f}, recall {recall:.3f}"
    )
    assert precision >= MIN_PRECISION
    assert recall >= MIN_RECALL


def test_conditional_paths_are_medium_and_unconditional_ones_high(
    con: duckdb.DuckDBPyConnection,
) -> None:
    got = {
        _short(arn): severity
        for arn, severity in con.execute(
            "select resource_arn, severity from det_privilege_escalation"
        ).fetchall()
    }
    assert {n for n, sev in got.items() if sev == "medium"} >= set(EXPECTED_FALSE_POSITIVES)
    assert got["role/privesc-AssumeRole-starting-role"] == "high"


def test_multi_hop_paths_found(con: duckdb.DuckDBPyConnection) -> None:
    got = {
        (_short(s), _short(t), hops, tuple((step["method"], _short(step["to"])) for step in path))
        for s, t, hops, path in con.execute(
            """select source_arn, target_arn, hops, path from privilege_escalation_paths
               where source_arn similar to '.*(privesc-AssumeRole|privesc13).*'"""
        ).fetchall()
        for path in [json.loads(path)]
    }
    starting, intermediate, ending = (
        f"role/privesc-AssumeRole-{n}-role" for n in ("starting", "intermediate", "ending")
    )
    assert {g for g in got if not g[0].startswith("user/privesc13")} == {
        (starting, ending, 2, (("assume-role", intermediate), ("assume-role", ending))),
        (intermediate, ending, 1, (("assume-role", ending),)),
    }
    # privesc13 adds itself to the SRE group (iam:*), which then makes itself (or any role it
    # re-trusts, or the service role it passes) admin: two steps, the first always the same.
    joined = {g for g in got if g[0] == "user/privesc13-AddUserToGroup-user"}
    assert {(hops, path[0]) for _, _, hops, path in joined} == {
        (2, ("add-user-to-group", "group/privesc-sre-group"))
    }
    assert ("group/privesc-sre-group", ("attach-group-policy", "group/privesc-sre-group")) in {
        (t, path[1]) for _, t, _, path in joined
    }


def test_every_labeled_negative_is_silent_for_its_reason(con: duckdb.DuckDBPyConnection) -> None:
    # fp1/fp2/fp3: Denies remove the grants; fp4: CreatePolicyVersion only on AWS-managed
    # `arn:aws:iam::aws:policy/fp4-*` (none is in force for it); fp5: a conditional Allow,
    # kept and marked conditional.
    paths = con.execute(
        """select principal_arn, is_conditional from int_privesc_paths
           where principal_arn like '%/fp%'"""
    ).fetchall()
    assert {(_short(arn), conditional) for arn, conditional in paths} == {
        ("user/fp5-nonExploitableConditionConstraint-user", True),
        ("role/fp5-nonExploitableConditionConstraint-role", True),
    }


def test_resource_scoped_grant_reaches_its_own_policy(con: duckdb.DuckDBPyConnection) -> None:
    # fn2: iam:CreatePolicyVersion on arn:aws:iam::*:policy/fn2-* covers its own policy.
    got = con.execute(
        """
        select principal_arn, method_id, target_arns from int_privesc_paths
        where principal_arn like '%fn2-%'
        order by 1"""
    ).fetchall()
    policy = f"arn:aws:iam::{ACCOUNT}:policy/fn2-exploitableResourceConstraint"
    assert got == [
        (
            f"arn:aws:iam::{ACCOUNT}:role/fn2-exploitableResourceConstraint-role",
            "create-policy-version",
            [policy],
        ),
        (
            f"arn:aws:iam::{ACCOUNT}:user/fn2-exploitableResourceConstraint-user",
            "create-policy-version",
            [policy],
        ),
    ]
