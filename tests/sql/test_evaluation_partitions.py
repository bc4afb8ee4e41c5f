"""Model tests for the bounded-memory evaluation (issue 11): action classes instead of one row per
statement and catalog action (NotAction with and without wildcards, `*` with Denies, the rest
class), policy sets shared by many principals, and the principal buckets: the same
effective_permissions whether the sets are evaluated in one bucket or one bucket each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.lib.warehouse.sql_models import (
    discover_audits,
    principal_buckets,
    run_audit,
    run_model,
)
from tests.sql.harness import (
    ACCT,
    MODELS,
    SMALL_CATALOG_ACTIONS,
    attachment,
    build,
    iam_user,
    inline_policy,
    managed_policy,
    rows,
    user_arn,
)

S3 = {"s3:getobject", "s3:putobject", "s3:listbucket", "s3:listallmybuckets"}
SHARED = f"arn:aws:iam::{ACCT}:policy/shared"


def _inputs() -> dict[str, list[dict[str, Any]]]:
    """Five users with a set of their own, and twenty sharing one managed policy."""
    own = {
        # NotAction with a wildcard: everything but s3
        "not-s3": [{"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}],
        # NotAction without a wildcard, and a Deny on a wildcard inside it
        "not-one": [
            {"Effect": "Allow", "NotAction": ["iam:PassRole"], "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:List*", "Resource": "*"},
        ],
        # `*` cut by a Deny NotAction (everything but ec2 is denied)
        "star-deny": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "NotAction": "ec2:*", "Resource": "*"},
        ],
        # `*` with a Deny on named resources (a partial Deny: kept, flagged)
        "star-partial": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "*:Get*", "Resource": "arn:aws:s3:::secret/*"},
        ],
        # NotAction `*`: allows nothing
        "not-star": [{"Effect": "Allow", "NotAction": "*", "Resource": "*"}],
    }
    users = [iam_user(name) for name in own] + [iam_user(f"shared{i:02d}") for i in range(20)]
    inline = [inline_policy(user_arn(name), statements) for name, statements in own.items()]
    shared = [
        {"Effect": "Allow", "Action": ["s3:Get*", "*:List*", "iam:CreateUser"], "Resource": "*"},
        {"Effect": "Allow", "NotAction": ["s3:*", "iam:*", "ec2:*"], "Resource": "*"},
    ]
    return {
        "raw_iam_users": users,
        "raw_iam_inline_policies": inline,
        "raw_iam_policies": [managed_policy(SHARED, shared)],
        "raw_iam_policy_attachments": [
            attachment(user_arn(f"shared{i:02d}"), SHARED) for i in range(20)
        ],
    }


def _effective(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    """Every row of effective_permissions (lists included), sorted."""
    return sorted(
        rows(
            con,
            """select split_part(principal_arn, '/', 2), action, is_conditional, resource_scope,
                      has_partial_deny, granted_by, granted_resources, denied_resources,
                      condition_keys
               from effective_permissions""",
        )
    )


def test_notaction_star_and_denies_by_action_class() -> None:
    con = build(_inputs(), ["effective_permissions"])
    got: dict[str, set[str]] = {}
    for name, action in rows(
        con, "select split_part(principal_arn, '/', 2), action from effective_permissions"
    ):
        got.setdefault(name, set()).add(action)
    shared = {"s3:getobject", "s3:listbucket", "s3:listallmybuckets", "iam:createuser"} | {
        "lambda:createfunction",
        "cloudwatch:putmetricdata",
    }
    assert got == {
        "not-s3": SMALL_CATALOG_ACTIONS - S3,
        "not-one": SMALL_CATALOG_ACTIONS - {"iam:passrole", "s3:listbucket", "s3:listallmybuckets"},
        "star-deny": {"ec2:runinstances"},
        "star-partial": set(SMALL_CATALOG_ACTIONS),
        **{f"shared{i:02d}": shared for i in range(20)},
    }
    # the partial Deny names the GetObject action only, and keeps it
    partial = con.execute(
        """select action, denied_resources from effective_permissions
           where principal_arn = ? and has_partial_deny""",
        [user_arn("star-partial")],
    ).fetchall()
    assert partial == [("s3:getobject", ["arn:aws:s3:::secret/*"])]


def test_a_shared_policy_set_is_evaluated_once_in_few_classes() -> None:
    con = build(_inputs(), ["int_policy_set_action_classes", "int_principal_policy_sets"])
    [(sets, shared_principals)] = rows(
        con,
        """select count(distinct policy_set_key), max(n) from (
               select policy_set_key, count(*) over (partition by policy_set_key) as n
               from int_principal_policy_sets)""",
    )
    assert (sets, shared_principals) == (6, 20)
    # The shared set: its patterns split the catalog into classes by the patterns that match.
    classes = con.execute(
        """select c.patterns, c.actions, c.is_rest_class
           from int_policy_set_action_classes as c
           inner join int_principal_policy_sets as s using (policy_set_key)
           where s.principal_arn = ?""",
        [user_arn("shared00")],
    ).fetchall()
    assert sorted(classes) == [
        ([], 2, True),  # lambda:createfunction, cloudwatch:putmetricdata: no pattern names them
        (["*:list*", "s3:*"], 2, False),  # s3:listbucket, s3:listallmybuckets
        (["ec2:*"], 1, False),
        (["iam:*"], 1, False),
        (["iam:*", "iam:createuser"], 1, False),
        (["s3:*"], 1, False),
        (["s3:*", "s3:get*"], 1, False),
    ]


def test_one_bucket_per_set_gives_the_same_effective_permissions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one_bucket = _effective(build(_inputs(), ["effective_permissions"]))
    monkeypatch.setenv("CIEM_SETS_PER_BUCKET", "1")
    con = build(_inputs(), ["effective_permissions", "int_principal_policy_sets"])
    [(buckets,)] = rows(
        con, "select count(distinct principal_bucket) from int_principal_policy_sets"
    )
    assert buckets > 1  # 6 sets hashed into 6 buckets (some may share one)
    assert _effective(con) == one_bucket
    # every principal's rows come from its own bucket's part, none twice
    assert rows(
        con,
        """select count(*) from (select principal_arn, action from effective_permissions
           group by all having count(*) > 1)""",
    ) == [(0,)]


def test_the_grain_audit_runs_per_bucket_and_finds_a_principal_in_another_bucket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The grain audit of effective_permissions runs bucket by bucket (ten adversarial accounts
    at once spilled gigabytes): a key repeated within a bucket's part, or a principal's rows in
    another bucket's part, is found; clean parts pass."""
    [audit] = [a for a in discover_audits() if a.name == "one_row_per_principal_action"]
    assert audit.partition == "principal_bucket"
    monkeypatch.setenv("CIEM_SETS_PER_BUCKET", "1")
    con = build(_inputs(), ["effective_permissions", "int_principal_policy_sets"])
    assert principal_buckets(con) > 1
    assert run_audit(con, audit) == (["principal_arn", "action", "n", "outside_its_bucket"], [])
    count = "select count(*), count(distinct principal_arn) from effective_permissions"
    before = rows(con, count)
    [(arn, bucket)] = rows(
        con,
        """select principal_arn, principal_bucket from int_principal_policy_sets
           where principal_arn like '%/not-s3'""",
    )
    other = (bucket + 1) % principal_buckets(con)
    # a row of not-s3 repeated in its own part, and one copied into another bucket's part
    for part in (other, bucket):
        con.execute(
            f"insert into effective_permissions__p{part:03d} "
            f"select * from effective_permissions__p{bucket:03d} "
            "where principal_arn = ? and action = 'ec2:runinstances'",
            [arn],
        )
    _, offending = run_audit(con, audit)
    assert sorted(offending, key=str) == sorted(
        [(arn, "ec2:runinstances", 2, False), (arn, None, 1, True)], key=str
    )
    # outside a bucket the shadows are gone: the model reads every part again
    [(total, principals)] = rows(con, count)
    assert (total, principals) == (before[0][0] + 2, before[0][1])


def test_a_model_built_for_other_buckets_fails_only_when_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    con = build(_inputs(), ["int_policy_set_class_statements"])
    # int_principal_policy_sets rebuilt for more buckets; the parts of the class statements not
    monkeypatch.setenv("CIEM_SETS_PER_BUCKET", "1")
    run_model(con, MODELS["int_principal_policy_sets"])
    with pytest.raises(duckdb.InvalidInputException, match=r"built for 1 principal buckets.*again"):
        run_model(con, MODELS["int_policy_set_class_denies"])
    # a model that reads no stale part is built: 8 statements of own sets, 2 of the shared one
    assert run_model(con, MODELS["int_policy_set_statements"]) == 10


def _suggested(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple], list[tuple]]:
    """int_suggested_policies' column types and rows."""
    types = rows(con, "select column_name, column_type from (describe int_suggested_policies)")
    return types, rows(con, "select * from int_suggested_policies order by principal_arn")


def test_suggested_policies_per_bucket_are_those_of_one_bucket(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # CloudTrail covered, nothing used: the granted actions CloudTrail cannot show (the
    # reference list: iam:PassRole, data events) are listed for review
    from pipelines.lib.reference.csvs import load_reference

    inputs = {
        **_inputs(),
        "ref_unobservable_actions": load_reference("ref_unobservable_actions").to_pylist(),
    }
    types, one_bucket = _suggested(build(inputs, ["int_suggested_policies"]))
    assert len(one_bucket) == 25  # every user once
    listed = [len(unobservable) for *_, unobservable, _, _ in one_bucket]
    assert sum(listed) > 20 and sum(1 for n in listed if n) > 5
    monkeypatch.setenv("CIEM_SETS_PER_BUCKET", "1")
    con = build(inputs, ["int_suggested_policies"])
    [(buckets,)] = rows(
        con, "select count(distinct principal_bucket) from int_principal_policy_sets"
    )
    assert buckets > 1
    assert _suggested(con) == (types, one_bucket)
    # written as Parquet parts where `ciem run` writes them: the same columns (the folder
    # `as_of=…` is no column), values and types (a sum is a hugeint, Parquet's would be a double)
    parts = tmp_path / "as_of=2026-11-20" / "parts"
    run_model(con, MODELS["int_suggested_policies"], parts)
    written = list((parts / "int_suggested_policies").glob("part-*.parquet"))
    assert len(written) == principal_buckets(con)
    assert _suggested(con) == (types, one_bucket)
