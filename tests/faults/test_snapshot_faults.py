"""Issue 18, item 7 (snapshot): bad snapshot input never changes what it did not touch.

Each case damages one thing in a copy of the demo's snapshot and lands it with `read_snapshot`:
every table is compared, as a whole set of rows, with the clean landing, and the quarantine with
the exact entries the damage should give (file, record, field). A refused policy document is
never read as granting nothing or everything: it is quarantined, naming its account and the
principal, policy or resource it belongs to. One end-to-end `ciem run` covers the defects that
used to fail the run or lose an account without a word.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipelines.lib.land.quarantine import Quarantine
from pipelines.lib.land.snapshot import read_snapshot
from pipelines.lib.land.snapshot.grammar import IDENTITY, RESOURCE, SCP, TRUST, policy_problems
from tests.faults.harness import DEMO_AS_OF, DEMO_SNAPSHOTS, ROOT, rows, run_ciem

REAL = ROOT / "tests" / "fixtures" / "real"
DEV, PROD, MGMT = "333333333333", "222222222222", "111111111111"
GAAD = "iam/get-account-authorization-details.json"
Tables = dict[str, set[tuple]]


def _land(folder: Path) -> tuple[Tables, Quarantine]:
    quarantine = Quarantine(source="snapshot", partition=folder.name)
    tables = read_snapshot(folder, quarantine)
    return {name: {tuple(r.values()) for r in t.to_pylist()} for name, t in tables.items()}, (
        quarantine
    )


@pytest.fixture(scope="module")
def clean() -> Tables:
    tables, quarantine = _land(DEMO_SNAPSHOTS / DEMO_AS_OF)
    assert quarantine.entries == []
    return tables


def _changes(clean: Tables, damaged: Tables) -> dict[str, tuple[set[tuple], set[tuple]]]:
    """Per table: (rows lost, rows gained) against the clean landing; only tables that differ."""
    return {
        name: (clean[name] - damaged[name], damaged[name] - clean[name])
        for name in clean
        if clean[name] != damaged[name]
    }


def _entries(quarantine: Quarantine) -> set[tuple[str, str | None, str | None]]:
    return {(e.file, e.record, e.field) for e in quarantine.entries}


def _edit_gaad(snapshot: Path, account: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    path = snapshot / account / GAAD
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc, indent=1))
    return path


def _gaad(account: str) -> dict[str, Any]:
    return json.loads((DEMO_SNAPSHOTS / DEMO_AS_OF / account / GAAD).read_text())


# ---------------------------------------------------------------------------------------------
# 1. policy grammar: a document IAM would refuse is refused whole, never granting nothing or *

# Where the damage goes: the policy's table, the record and field of its document, how its row
# (if any) is found, and the ARN its quarantine entry names.
MANAGED = "arn:aws:iam::333333333333:policy/DevGuardrails"  # Policies[2], a Deny
INLINE_USER = "arn:aws:iam::333333333333:user/sandbox-owner"  # Allow * on *


def _user_index(arn: str) -> int:
    """Where the demo's authorization details list a user (found by ARN, never by position)."""
    users = _gaad(DEV)["UserDetailList"]
    return next(i for i, u in enumerate(users) if u["Arn"] == arn)


def _managed_statement(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["Policies"][2]["PolicyVersionList"][0]["Document"]


def _inline_document(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["UserDetailList"][_user_index(INLINE_USER)]["UserPolicyList"][0]["PolicyDocument"]


GRAMMAR_BREAKS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    # name: (edit of the document, the field of the first problem inside it)
    "effect-misspelled": (lambda d: d["Statement"][0].update(Effect="Allw"), "Statement[0].Effect"),
    "statement-missing": (lambda d: d.pop("Statement"), "Statement"),
    "statement-string": (lambda d: d.update(Statement="oops"), "Statement"),
    "action-number": (lambda d: d["Statement"][0].update(Action=42), "Statement[0].Action"),
    "effect-lowercase-key": (
        lambda d: d["Statement"][0].update(effect=d["Statement"][0].pop("Effect")),
        "Statement[0].effect",
    ),
    "resource-null": (lambda d: d["Statement"][0].update(Resource=None), "Statement[0].Resource"),
    "object-in-action-list": (
        lambda d: d["Statement"][0].update(Action=["s3:GetObject", {"x": 1}]),
        "Statement[0].Action[1]",
    ),
    "condition-not-an-object": (
        lambda d: d["Statement"][0].update(Condition={"StringEquals": "oops"}),
        "Statement[0].Condition.StringEquals",
    ),
    "resource-unknown-partition": (
        lambda d: d["Statement"][0].update(Resource="arn:aws-mars:s3:::bucket/*"),
        "Statement[0].Resource",
    ),
}


@pytest.mark.parametrize("damage", sorted(GRAMMAR_BREAKS))
def test_a_managed_policy_breaking_the_grammar_is_refused_whole_and_named(
    damage: str, demo_snapshot: Path, clean: Tables
) -> None:
    edit, field = GRAMMAR_BREAKS[damage]
    _edit_gaad(demo_snapshot, DEV, lambda doc: edit(_managed_statement(doc)))
    tables, quarantine = _land(demo_snapshot)
    # Only the policy's document changed: its row stays, with no document (never "grants
    # nothing" silently: the entry names it and its account is incomplete).
    lost, gained = _changes(clean, tables)["raw_iam_policies"]
    assert {r[1] for r in lost} == {r[1] for r in gained} == {MANAGED}
    assert [r[-1] for r in gained] == [None]
    assert set(_changes(clean, tables)) == {"raw_iam_policies"}
    assert _entries(quarantine) == {
        (f"{DEV}/{GAAD}", "Policies[2]", f"PolicyVersionList[0].Document.{field}")
    }
    [entry] = quarantine.entries
    assert (entry.account_id, entry.subject_arn) == (DEV, MANAGED)
    assert entry.reason.startswith("policy document refused (not IAM policy grammar")


@pytest.mark.parametrize("damage", ["effect-misspelled", "resource-null", "effect-lowercase-key"])
def test_an_inline_policy_breaking_the_grammar_is_refused_naming_its_principal(
    damage: str, demo_snapshot: Path, clean: Tables
) -> None:
    edit, field = GRAMMAR_BREAKS[damage]
    _edit_gaad(demo_snapshot, DEV, lambda doc: edit(_inline_document(doc)))
    tables, quarantine = _land(demo_snapshot)
    # `"Resource": null` used to grant * on *; now the policy is refused, the user still lands.
    changes = _changes(clean, tables)
    assert set(changes) == {"raw_iam_inline_policies"}
    lost, gained = changes["raw_iam_inline_policies"]
    assert gained == set()
    assert {(r[1], r[3]) for r in lost} == {(INLINE_USER, "sandbox-full-access")}
    assert _entries(quarantine) == {
        (
            f"{DEV}/{GAAD}",
            f"UserDetailList[{_user_index(INLINE_USER)}]",
            f"UserPolicyList[0].PolicyDocument.{field}",
        )
    }
    assert quarantine.entries[0].subject_arn == INLINE_USER


def test_trust_scp_and_bucket_policies_are_checked_too(demo_snapshot: Path, clean: Tables) -> None:
    role = _gaad(DEV)["RoleDetailList"][6]
    _edit_gaad(
        demo_snapshot,
        DEV,
        lambda doc: doc["RoleDetailList"][6]["AssumeRolePolicyDocument"]["Statement"][0].update(
            Principal={"service": "ec2.amazonaws.com"}
        ),
    )
    scp = demo_snapshot / "organization" / "policies" / "p-denyguardrails.json"
    doc = json.loads(scp.read_text())
    content = json.loads(doc["Policy"]["Content"])
    content["Statement"][0]["Effect"] = "deny"
    doc["Policy"]["Content"] = json.dumps(content)
    scp.write_text(json.dumps(doc))
    bucket = demo_snapshot / DEV / "s3" / "bucket-policies" / "ciem-demo-dev-artifacts.json"
    policy = json.loads(bucket.read_text())
    policy["Statement"][0].pop("Principal", None)
    policy["Statement"][0].pop("NotPrincipal", None)
    bucket.write_text(json.dumps(policy))
    tables, quarantine = _land(demo_snapshot)
    changes = _changes(clean, tables)
    assert set(changes) == {"raw_iam_roles", "raw_org_policies", "raw_s3_bucket_policies"}
    assert {r[3] for r in changes["raw_iam_roles"][1]} == {role["Arn"]}
    assert [r[8] for r in changes["raw_iam_roles"][1]] == [None]  # trust document refused
    assert [r[-1] for r in changes["raw_org_policies"][1]] == [None]
    assert changes["raw_s3_bucket_policies"][1] == set()
    assert {
        (e.file, e.record, e.field, e.account_id, e.subject_arn) for e in quarantine.entries
    } == {
        (
            f"{DEV}/{GAAD}",
            "RoleDetailList[6]",
            "AssumeRolePolicyDocument.Statement[0].Principal.service",
            DEV,
            role["Arn"],
        ),
        (
            "organization/policies/p-denyguardrails.json",
            "Policy",
            "Content.Statement[0].Effect",
            None,
            doc["Policy"]["PolicySummary"]["Arn"],
        ),
        (
            f"{DEV}/s3/bucket-policies/ciem-demo-dev-artifacts.json",
            None,
            "Statement[0].Principal",
            DEV,
            "arn:aws:s3:::ciem-demo-dev-artifacts",
        ),
    }


@pytest.mark.parametrize(
    ("document", "kind", "problems"),
    [
        ({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}, IDENTITY, []),
        ({"Version": "2008-10-17", "Statement": []}, RESOURCE, []),
        ({"Version": "2012-10-18", "Statement": []}, IDENTITY, ["Version"]),
        ({"Statement": [], "statement": []}, IDENTITY, ["statement"]),
        (
            {"Statement": [{"Effect": "Allow", "Action": "s3:*"}]},
            IDENTITY,
            ["Statement[0].Resource"],
        ),
        (
            {
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:*", "NotAction": "x:y", "Resource": "*"}
                ]
            },
            IDENTITY,
            ["Statement[0].NotAction"],
        ),
        ({"Statement": [{"Effect": "Allow", "Resource": "*"}]}, IDENTITY, ["Statement[0].Action"]),
        (
            {"Statement": [{"Effect": "Allow", "Action": [], "Resource": "*"}]},
            IDENTITY,
            ["Statement[0].Action"],
        ),
        (
            {"Statement": [{"Effect": "Allow", "Action": "GetObject", "Resource": "bucket"}]},
            IDENTITY,
            ["Statement[0].Action", "Statement[0].Resource"],
        ),
        (
            {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": "*"}]},
            IDENTITY,
            ["Statement[0].Principal"],
        ),
        (
            {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": "*"}]},
            SCP,
            ["Statement[0].Principal"],
        ),
        (
            {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]},
            TRUST,
            ["Statement[0].Principal"],
        ),
        (
            {
                "Statement": [
                    {
                        "Sid": 7,
                        "Effect": "Allow",
                        "Principal": {"AWS": ["arn:aws-mars:iam::1:root"], "Group": "x"},
                        "Action": "sts:AssumeRole",
                        "Condition": {
                            "Bool": {"aws:MultiFactorAuthPresent": True},
                            "NumericLessThan": {"aws:MultiFactorAuthAge": [3600, None]},
                            "StringLike": {"s3:prefix": {"nested": "x"}},
                        },
                    }
                ]
            },
            TRUST,
            [
                "Statement[0].Sid",
                "Statement[0].Principal.Group",
                "Statement[0].Principal.AWS[0]",
                "Statement[0].Condition.NumericLessThan.aws:MultiFactorAuthAge[1]",
                "Statement[0].Condition.StringLike.s3:prefix",
            ],
        ),
        (
            {
                "Statement": {
                    "Effect": "Deny",
                    "NotPrincipal": {"AWS": "arn:aws:iam::111111111111:root"},
                    "NotAction": ["s3:Get*"],
                    "NotResource": ["arn:*:s3:::b/*"],
                    "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["a", 1, False]}},
                }
            },
            RESOURCE,
            [],
        ),
    ],
)
def test_the_grammar_rules(document: dict[str, Any], kind: Any, problems: list[str]) -> None:
    assert [path for path, _ in policy_problems(document, kind)] == problems


# ---------------------------------------------------------------------------------------------
# 2. a repeated record lands once


def test_a_repeated_user_lands_once_and_a_different_repeat_is_quarantined(
    demo_snapshot: Path, clean: Tables
) -> None:
    users = _gaad(DEV)["UserDetailList"]
    inline = _user_index(INLINE_USER)

    def repeat(doc: dict[str, Any]) -> None:
        listed = doc["UserDetailList"]
        listed.append(json.loads(json.dumps(listed[3])))  # identical: pages merged twice
        changed = json.loads(json.dumps(listed[inline]))
        changed["UserPolicyList"] = []  # same id, different content
        listed.append(changed)

    _edit_gaad(demo_snapshot, DEV, repeat)
    tables, quarantine = _land(demo_snapshot)
    assert _changes(clean, tables) == {}
    # the identical copy lands once, unnamed; the different one is refused by its position
    assert _entries(quarantine) == {(f"{DEV}/{GAAD}", f"UserDetailList[{len(users) + 1}]", None)}
    assert quarantine.entries[0].subject_arn == INLINE_USER
    assert quarantine.entries[0].reason.startswith(
        f"repeats Arn {INLINE_USER!r} of UserDetailList[{inline}] with different content"
    )


def test_repeated_rows_do_not_multiply(demo_snapshot: Path) -> None:
    def repeat(doc: dict[str, Any]) -> None:
        doc["UserDetailList"].append(json.loads(json.dumps(doc["UserDetailList"][3])))
        doc["RoleDetailList"].append(json.loads(json.dumps(doc["RoleDetailList"][6])))
        doc["Policies"].append(json.loads(json.dumps(doc["Policies"][2])))

    _edit_gaad(demo_snapshot, DEV, repeat)
    quarantine = Quarantine(source="snapshot")
    tables = read_snapshot(demo_snapshot, quarantine)
    for name, key in [
        ("raw_iam_users", "arn"),
        ("raw_iam_roles", "arn"),
        ("raw_iam_policies", "policy_arn"),
        ("raw_iam_inline_policies", None),
        ("raw_iam_policy_attachments", None),
    ]:
        values = tables[name].to_pylist()
        keys = [(r["account_id"], r[key]) if key else tuple(r.values()) for r in values]
        assert len(keys) == len(set(keys)), name
    assert quarantine.entries == []


# ---------------------------------------------------------------------------------------------
# 3. one bad value drops only that value


def test_a_latin1_byte_in_a_tag_drops_that_tag_not_the_file(
    demo_snapshot: Path, clean: Tables
) -> None:
    path = _edit_gaad(
        demo_snapshot,
        DEV,
        lambda doc: doc["UserDetailList"][1].update(
            Tags=[{"Key": "owner", "Value": "PLACEHOLDER"}]
        ),
    )
    path.write_bytes(path.read_bytes().replace(b"PLACEHOLDER", b"Ren\xe9e"))
    tables, quarantine = _land(demo_snapshot)
    # All 19 principals of the account still land; only the user's tags are left out.
    changes = _changes(clean, tables)
    assert set(changes) == {"raw_iam_users"}
    lost, gained = changes["raw_iam_users"]
    assert {r[:-1] for r in lost} == {r[:-1] for r in gained}
    assert [(r[3], r[-1]) for r in gained] == [(_gaad(DEV)["UserDetailList"][1]["Arn"], None)]
    assert _entries(quarantine) == {(f"{DEV}/{GAAD}", "UserDetailList[1]", "Tags[0].Value")}
    assert "not UTF-8 text (byte 0xE9" in quarantine.entries[0].reason


@pytest.mark.parametrize(
    ("tags", "field", "reason"),
    [
        ("oops", "Tags", "expected a list of tags, got str; the value is left out"),
        (
            [{"Key": "owner", "Value": "x"}, {"Key": "team"}],
            "Tags[1]",
            "expected a tag {Key, Value} of text, got an object with keys Key; "
            "the tags are left out",
        ),
        (
            {"owner": "x"},
            "Tags",
            "expected a list of tags, got dict; the value is left out",
        ),
    ],
    ids=["string", "tag-without-value", "object"],
)
def test_tags_of_the_wrong_shape_drop_those_tags_not_the_user(
    demo_snapshot: Path, clean: Tables, tags: Any, field: str, reason: str
) -> None:
    _edit_gaad(demo_snapshot, DEV, lambda doc: doc["UserDetailList"][1].update(Tags=tags))
    tables, quarantine = _land(demo_snapshot)
    # The user lands, only without its tags; nothing else changes.
    changes = _changes(clean, tables)
    assert set(changes) == {"raw_iam_users"}
    lost, gained = changes["raw_iam_users"]
    assert {r[:-1] for r in lost} == {r[:-1] for r in gained}
    assert [(r[3], r[-1]) for r in gained] == [(_gaad(DEV)["UserDetailList"][1]["Arn"], None)]
    assert _entries(quarantine) == {(f"{DEV}/{GAAD}", "UserDetailList[1]", field)}
    assert quarantine.entries[0].reason == reason
    assert quarantine.entries[0].subject_arn == _gaad(DEV)["UserDetailList"][1]["Arn"]


def test_a_nan_max_session_duration_nulls_that_field_not_the_role(
    demo_snapshot: Path, clean: Tables
) -> None:
    path = _edit_gaad(
        demo_snapshot, DEV, lambda doc: doc["RoleDetailList"][5].update(MaxSessionDuration=-1)
    )
    path.write_text(
        path.read_text().replace('"MaxSessionDuration": -1', '"MaxSessionDuration": NaN')
    )
    tables, quarantine = _land(demo_snapshot)
    assert _changes(clean, tables) == {}  # the demo's roles carry no MaxSessionDuration
    assert _entries(quarantine) == {(f"{DEV}/{GAAD}", "RoleDetailList[5]", "MaxSessionDuration")}
    assert quarantine.entries[0].reason == (
        "column max_session_duration: expected int64, got float (nan); the value is left out"
    )


# ---------------------------------------------------------------------------------------------
# 4. nesting deeper than the decoder goes


def _deep(depth: int) -> str:
    return '{"a": ' * depth + '"x"' + "}" * depth


def test_a_condition_nested_100000_deep_refuses_that_policy_only(
    demo_snapshot: Path, clean: Tables
) -> None:
    path = _edit_gaad(
        demo_snapshot,
        DEV,
        lambda doc: _managed_statement(doc)["Statement"][0].update(
            Condition={"StringEquals": {"aws:PrincipalTag/team": "DEEP"}}
        ),
    )
    path.write_text(path.read_text().replace('"DEEP"', _deep(100_000)))
    tables, quarantine = _land(demo_snapshot)
    changes = _changes(clean, tables)
    assert set(changes) == {"raw_iam_policies"}
    assert [r[-1] for r in changes["raw_iam_policies"][1]] == [None]
    assert _entries(quarantine) == {
        (
            f"{DEV}/{GAAD}",
            "Policies[2]",
            "PolicyVersionList[0].Document.Statement[0].Condition.StringEquals"
            ".aws:PrincipalTag/team",
        )
    }


def test_deep_nesting_in_a_tag_and_in_policy_text_is_quarantined_by_record(
    demo_snapshot: Path, clean: Tables
) -> None:
    path = _edit_gaad(demo_snapshot, DEV, lambda doc: doc["UserDetailList"][0].update(Tags="DEEP"))
    path.write_text(path.read_text().replace('"DEEP"', "[" + _deep(5_000) + "]"))
    scp = demo_snapshot / "organization" / "policies" / "p-denyguardrails.json"
    doc = json.loads(scp.read_text())
    doc["Policy"]["Content"] = '{"Statement": ' + "[" * 50_000 + "]" * 50_000 + "}"
    scp.write_text(json.dumps(doc))
    tables, quarantine = _land(demo_snapshot)
    changes = _changes(clean, tables)
    assert set(changes) == {"raw_iam_users", "raw_org_policies"}
    assert [(r[3], r[-1]) for r in changes["raw_iam_users"][1]] == [
        (_gaad(DEV)["UserDetailList"][0]["Arn"], None)
    ]
    assert [r[-1] for r in changes["raw_org_policies"][1]] == [None]
    assert _entries(quarantine) == {
        (f"{DEV}/{GAAD}", "UserDetailList[0]", "Tags[0].a.a.a.a.a.a.a…"),
        ("organization/policies/p-denyguardrails.json", "Policy", "Content.Statement[0]"),
    }


# ---------------------------------------------------------------------------------------------
# 5. a path of the layout that is there but cannot be read


@pytest.mark.parametrize("kind", ["folder", "symlink-loop", "dangling-symlink"])
def test_an_unreadable_authorization_details_file_is_quarantined_not_skipped(
    kind: str, demo_snapshot: Path, clean: Tables
) -> None:
    path = demo_snapshot / DEV / GAAD
    path.unlink()
    if kind == "folder":
        path.mkdir()
    elif kind == "symlink-loop":
        path.symlink_to(path.name)
    else:
        path.symlink_to("nowhere.json")
    tables, quarantine = _land(demo_snapshot)
    changes = _changes(clean, tables)
    # Only the account's own IAM rows are gone (its credential report and compute still land).
    for lost, gained in changes.values():
        assert gained == set()
        assert {r[0] for r in lost} == {DEV}
    assert "raw_iam_users" in changes
    assert _entries(quarantine) == {(f"{DEV}/{GAAD}", None, None)}
    assert quarantine.entries[0].reason.startswith("unreadable file: ")
    assert quarantine.entries[0].account_id == DEV


def test_unreadable_folders_and_policy_files_are_quarantined(
    demo_snapshot: Path, clean: Tables
) -> None:
    bucket = demo_snapshot / DEV / "s3" / "bucket-policies" / "ciem-demo-dev-artifacts.json"
    bucket.unlink()
    bucket.mkdir()
    target = demo_snapshot / "organization" / "targets" / "p-denyguardrails.json"
    target.unlink()
    target.symlink_to(target.name)
    tables, quarantine = _land(demo_snapshot)
    assert set(_changes(clean, tables)) == {"raw_s3_bucket_policies", "raw_org_policy_targets"}
    assert _entries(quarantine) == {
        (f"{DEV}/s3/bucket-policies/ciem-demo-dev-artifacts.json", None, None),
        ("organization/targets/p-denyguardrails.json", None, None),
    }


# ---------------------------------------------------------------------------------------------
# 6. implausible values


def test_an_arn_in_an_unknown_partition_quarantines_its_record(
    demo_snapshot: Path, clean: Tables
) -> None:
    user = _gaad(DEV)["UserDetailList"][4]

    def mars(doc: dict[str, Any]) -> None:
        doc["UserDetailList"][4]["Arn"] = user["Arn"].replace("arn:aws:", "arn:aws-mars:")

    _edit_gaad(demo_snapshot, DEV, mars)
    tables, quarantine = _land(demo_snapshot)
    changes = _changes(clean, tables)
    assert {r[3] for r in changes["raw_iam_users"][0]} == {user["Arn"]}
    for lost, gained in changes.values():  # the user and what hangs off it only
        assert gained == set()
        assert {r[0] for r in lost} == {DEV}
    assert _entries(quarantine) == {(f"{DEV}/{GAAD}", "UserDetailList[4]", "Arn")}
    assert "unknown partition 'aws-mars'" in quarantine.entries[0].reason


# ---------------------------------------------------------------------------------------------
# 7. valid AWS variants land as before: no real policy is refused


def test_no_real_fixture_policy_is_refused(tmp_path: Path) -> None:
    _, quarantine = _land(REAL / "snapshots" / "iam-vulnerable")
    # The one real SCP that is not JSON (a `//` comment), quarantined before this change too.
    assert _entries(quarantine) == {
        ("organization/policies/p-svccredtype01.json", "Policy", "Content")
    }
    for dump in [
        *sorted((REAL / "cloudsplaining").glob("*.json")),
        *[
            p
            for p in sorted((REAL / "iamspy-tests").glob("*.json"))
            if "DetailList" in p.read_text()
        ],
    ]:
        snap = tmp_path / dump.stem
        (snap / "123456789012" / "iam").mkdir(parents=True)
        (snap / "123456789012" / GAAD).write_text(dump.read_text())
        _, quarantine = _land(snap)
        assert quarantine.entries == [], dump.name
    for example in sorted((REAL / "aws-scp-examples").rglob("*.json")):
        try:
            document = json.loads(example.read_text())
        except json.JSONDecodeError:
            continue  # the commented example above
        assert policy_problems(document, SCP) == [], example.name
    for name in ["batch-resource.json", "cross-account-rp.json", "resource-s3-allow-all.json"]:
        for entry in json.loads((REAL / "iamspy-tests" / name).read_text()):
            assert policy_problems(entry["Policy"], RESOURCE) == [], name


# ---------------------------------------------------------------------------------------------
# end to end: the run survives, names what it refused, and keeps every other account


def test_ciem_run_on_damaged_input_lands_everything_else(
    demo_snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An account whose authorization details are a symlink loop (used to vanish silently), a
    # Latin-1 byte in another account's tag (used to drop its whole file) and a condition nested
    # 100,000 deep in a third (used to fail the run with RecursionError).
    dev = demo_snapshot / DEV / GAAD
    dev.unlink()
    dev.symlink_to(dev.name)
    prod = _edit_gaad(
        demo_snapshot,
        PROD,
        lambda doc: doc["UserDetailList"][0].update(
            Tags=[{"Key": "owner", "Value": "PLACEHOLDER"}]
        ),
    )
    prod.write_bytes(prod.read_bytes().replace(b"PLACEHOLDER", b"Ren\xe9e"))
    mgmt = _edit_gaad(
        demo_snapshot,
        MGMT,
        lambda doc: doc["RoleDetailList"][0]["AssumeRolePolicyDocument"]["Statement"][0].update(
            Condition={"StringEquals": {"SAML:aud": "DEEP"}}
        ),
    )
    mgmt.write_text(mgmt.read_text().replace('"DEEP"', _deep(100_000)))
    lake = tmp_path / "lake"
    assert run_ciem(lake, snapshot=demo_snapshot) == 0
    assert rows(lake, "select file, record, field from quarantine where source = 'snapshot'") == {
        (f"{DEV}/{GAAD}", None, None),
        (f"{PROD}/{GAAD}", "UserDetailList[0]", "Tags[0].Value"),
        (
            f"{MGMT}/{GAAD}",
            "RoleDetailList[0]",
            "AssumeRolePolicyDocument.Statement[0].Condition.StringEquals.SAML:aud",
        ),
    }
    principals = rows(lake, "select account_id, count(*) from principals group by 1")
    expected = {
        (
            account,
            sum(
                len(_gaad(account)[k])
                for k in ("UserDetailList", "GroupDetailList", "RoleDetailList")
            ),
        )
        for account in (PROD, MGMT)
    }
    assert {p for p in principals if p[0] != DEV} >= expected
    assert "Quarantined 3 input item(s)" in capsys.readouterr().out
