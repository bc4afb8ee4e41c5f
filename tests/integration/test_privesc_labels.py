"""privilege-escalation against the labels of the real iam-vulnerable account (BishopFox).

Principals named `privesc*` have a known escalation path, `fn*` are escalations other tools miss
(positives), `fp*` are look-alikes that must not fire (negatives). The models run on the real
snapshot built around cloudsplaining's `iam-vulnerable-account-authz-details.json` (with its
SCPs); the fired set is compared whole with a hand-reviewed expectation, and precision and
recall against the labels are printed. A labelled principal counts as reported when the product
reports it as able to become administrator (`privilege-escalation`) or as one already
(`admin-iam-user`, `admin-iam-role`, `admin-iam-group`: it reaches admin in 0 steps).
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

ADMIN_RULES = ("det_admin_iam_user", "det_admin_iam_role", "det_admin_iam_group")

# Labeled positives the product does not report, each with the reason (hand-reviewed). The
# labels mark every principal of an iam-vulnerable scenario, its targets included; the rules
# report the principals that are or can become administrator, so the targets without power and
# the principals with no path in this snapshot stay silent.
EXPECTED_MISSES = {
    # Targets with no permission of their own in the dump.
    "user/privesc-AssumeRole-start-user": "holds no policy; no trust policy names it",
    "role/privesc-permissive-role-trust": "holds no policy; it is a target (trusts the account)",
    "group/privesc8-AttachGroupPolicy-group": "holds no policy; it is the target of privesc8",
    "group/privesc11-PutGroupPolicy-group": "holds no policy; it is the target of privesc11",
    # No path in the graph: the modification reaches another principal, and nothing lets the
    # source act as that principal afterwards (no credentials, no sts:AssumeRole, no trust
    # naming it). A role is in no group and is not a user. The only principal that may assume
    # these roles is a session of AWSReservedSSO_AdministratorAccess (their trust names
    # `assumed-role/AWSReservedSSO_AdministratorAccess_…/elad@codsec.io`): whoever holds them
    # came from an administrator, a role that no user or group policy reaches and that AWS
    # refuses to modify, so the `*+assumed-by` edges have no target. PMapper finds no path for
    # them either; cloudsplaining flags the single action.
    "role/privesc7-AttachUserPolicy-role": "assumed only from an SSO admin session (a role)",
    "role/privesc10-PutUserPolicy-role": "assumed only from an SSO admin session (a role)",
    "role/privesc8-AttachGroupPolicy-role": "assumed only from an SSO admin session (no group)",
    "role/privesc11-PutGroupPolicy-role": "assumed only from an SSO admin session (no group)",
    "role/privesc13-AddUserToGroup-role": "assumed only from an SSO admin session (no user)",
    "user/privesc9-AttachRolePolicy-user": "no role it can assume (no sts:AssumeRole)",
    "user/privesc12-PutRolePolicy-user": "no role it can assume (no sts:AssumeRole)",
}

# Unlabeled principals the rule reports, each with the reason (hand-reviewed).
EXPECTED_EXTRAS: dict[str, str] = {
    "role/AWS-QuickSetup-StackSet-Local-AdministrationRole": (
        "assumes AWS-QuickSetup-StackSet-Local-ExecutionRole, an administrator (one step)"
    ),
    "role/AWS-QuickSetup-StackSet-Local-ExecutionRole": "administrator (admin-iam-role)",
    "role/AWSReservedSSO_AdministratorAccess_dc6414f7f2ab04fc": "administrator (admin-iam-role)",
    "role/OrganizationAccountAccessRole": "administrator (admin-iam-role)",
    "role/stacksets-exec-b5520cb2730c2f54b523d6375a319abb": "administrator (admin-iam-role)",
}

# Labeled positives reported as administrators already (0 steps), not as escalating: the
# targets of their scenarios.
EXPECTED_ADMINS = {"role/privesc-AssumeRole-ending-role", "role/privesc-high-priv-service-role"}

# Labeled negatives the rule reports, each with the reason. None: fp5's grant is conditional on
# `DateLessThan aws:TokenIssueTime 2020-…`, and a request made on the run's date carries
# temporary credentials issued at most 36 hours earlier (or, for a user's long-term keys, no
# aws:TokenIssueTime at all), so the Condition is false for every request the principal can
# make and the evaluator decides it (conditions.py, `session_window`).
EXPECTED_FALSE_POSITIVES: dict[str, str] = {}

# Measured on this snapshot (see the closing note in the README): the thresholds hold them.
MIN_PRECISION = 1.0
MIN_RECALL = 0.86


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    """The snapshot's tables, the real catalog and reference CSVs; the rule and its deps built."""
    tables = read_snapshot(SNAPSHOT, Quarantine(source="snapshot", quiet=True))
    inputs = {name: table.to_pylist() for name, table in tables.items()}
    inputs["ref_iam_actions"] = load_catalog().to_pylist()
    inputs |= {name: load_reference(name).to_pylist() for name in REFERENCE_CSVS}
    return build(inputs, ["det_privilege_escalation", "int_privesc_paths", *ADMIN_RULES])


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


def _reported(con: duckdb.DuckDBPyConnection, rules: tuple[str, ...]) -> set[str]:
    return {
        _short(arn)
        for rule in rules
        for (arn,) in con.execute(f"select resource_arn from {rule}").fetchall()
    }


def test_labelled_administrators_are_reported_as_such(con: duckdb.DuckDBPyConnection) -> None:
    positives, _, _ = _labels(con)
    assert _reported(con, ADMIN_RULES) & positives == EXPECTED_ADMINS
    assert not _reported(con, ("det_privilege_escalation",)) & EXPECTED_ADMINS


def test_fired_principals_equal_the_hand_reviewed_set(con: duckdb.DuckDBPyConnection) -> None:
    fired = _reported(con, ("det_privilege_escalation", *ADMIN_RULES))
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
        f"\nprivilege-escalation and admin-* on iam-vulnerable: {len(fired)} reported, "
        f"{len(true_positives)}/{len(positives)} positives, "
        f"{len(fired & negatives)}/{len(negatives)} false positives; "
        f"precision {precision:.3f}, recall {recall:.3f}"
    )
    assert precision >= MIN_PRECISION
    assert recall >= MIN_RECALL


def test_severity_is_medium_only_where_the_caller_cannot_satisfy_the_condition(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # The SCPs deny outside two regions (a Deny conditional on aws:RequestedRegion): the caller
    # sets the region of its own request, so such paths stay high, conditional and say the key.
    # aws:TokenIssueTime belongs to the session, not to what the caller writes in the request:
    # fn3's user (DateGreaterThan 2020: true with temporary credentials, false with its long-term
    # keys) is medium; fn3's role acts only through sessions issued after 2020, so its path holds
    # unconditionally (high); fp5 (DateLessThan 2020) has no path at all.
    got = {
        _short(arn): (severity, title, json.loads(evidence))
        for arn, severity, title, evidence in con.execute(
            "select resource_arn, severity, title, evidence from det_privilege_escalation"
        ).fetchall()
    }
    medium = {n for n, (severity, _, _) in got.items() if severity == "medium"}
    assert medium == {"user/fn3-exploitableConditionConstraint-user"}
    assert got["role/fn3-exploitableConditionConstraint-role"][0] == "high"
    assert not got["role/fn3-exploitableConditionConstraint-role"][2]["conditional"]
    for name in medium:
        assert got[name][2]["condition_keys"] == ["aws:tokenissuetime"]
        assert got[name][1].endswith("(conditional)")
    regional = {
        n
        for n, (_, _, evidence) in got.items()
        if evidence["condition_keys"] == ["aws:requestedregion"]
    }
    assert regional
    for name in regional:
        severity, title, evidence = got[name]
        assert (severity, evidence["conditional"], evidence["needs_environment"]) == (
            "high",
            True,
            False,
        )
        assert title.endswith("(conditional on its own request: aws:requestedregion)")
    assert got["role/privesc-AssumeRole-starting-role"][0] == "high"
    # Every path: conditional steps say their keys, and whether the caller can satisfy them.
    paths = con.execute(
        "select is_conditional, needs_environment, condition_keys, path"
        " from privilege_escalation_paths"
    ).fetchall()
    assert {(c, n, tuple(k)) for c, n, k, _ in paths} == {
        (False, False, ()),
        (True, False, ("aws:requestedregion",)),
        (True, True, ("aws:tokenissuetime",)),
    }
    for _, _, _, path in paths:
        for step in json.loads(path):
            expected = None
            if step["conditional"]:
                expected = step["condition_keys"] == ["aws:requestedregion"]
            assert step["caller_can_satisfy"] is expected, step


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
    # `arn:aws:iam::aws:policy/fp4-*` (none is in force for it); fp5: an Allow conditional on
    # a token issued before 2020, which no request today carries.
    paths = con.execute(
        """select principal_arn, is_conditional from int_privesc_paths
           where principal_arn like '%/fp%'"""
    ).fetchall()
    assert paths == []
    verdicts = con.execute(
        """select principal_arn, verdict from int_principal_condition_verdicts
           where policy_key similar to '.*(fp5|fn3)-.*'"""
    ).fetchall()
    assert {(_short(arn), verdict) for arn, verdict in verdicts} == {
        ("user/fp5-nonExploitableConditionConstraint-user", "false"),
        ("role/fp5-nonExploitableConditionConstraint-role", "false"),
        ("user/fn3-exploitableConditionConstraint-user", "unknown"),
        ("role/fn3-exploitableConditionConstraint-role", "true"),
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
