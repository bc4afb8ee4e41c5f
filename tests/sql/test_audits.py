"""Audits (sql/audits/*.sql) return the offending rows: none on good data, the bad ones else."""

from __future__ import annotations

from pipelines.lib.warehouse.sql_models import SQL_DIR
from tests.sql.harness import build, rows

AUDITS = SQL_DIR / "audits"


def test_grain_audit_finds_duplicates_and_passes_on_clean_rows() -> None:
    con = build({}, [])
    con.execute("create table effective_permissions (principal_arn varchar, action varchar)")
    con.execute(
        "create table int_principal_policy_sets as select unnest(['a', 'b']) as principal_arn"
    )
    con.execute(
        "insert into effective_permissions values ('a', 's3:getobject'), ('b', 's3:getobject')"
    )
    audit = (AUDITS / "effective_permissions__one_row_per_principal_action.sql").read_text()
    assert rows(con, audit) == []
    con.execute("insert into effective_permissions values ('a', 's3:getobject')")
    assert rows(con, audit) == [("a", "s3:getobject", 2, False)]
    # every repeated key, each with its count, and a principal that is not of the bucket checked
    con.execute(
        "insert into effective_permissions values ('b', 's3:getobject'), ('b', 's3:getobject'), "
        "('a', 's3:putobject'), ('s3:getobject', 'a'), ('c', 's3:getobject')"
    )
    assert sorted(rows(con, audit)) == [
        ("a", "s3:getobject", 2, False),
        ("b", "s3:getobject", 3, False),
        ("c", None, 1, True),
        ("s3:getobject", None, 1, True),
    ]


def test_policy_set_audit_finds_a_principal_in_two_sets() -> None:
    con = build({}, [])
    con.execute(
        "create table int_principal_policy_sets as "
        "select * from (values ('a', 1), ('b', 2)) t(principal_arn, principal_bucket)"
    )
    audit = (AUDITS / "int_principal_policy_sets__one_row_per_principal.sql").read_text()
    assert rows(con, audit) == []
    con.execute("insert into int_principal_policy_sets values ('b', 3)")
    assert rows(con, audit) == [("b", 2)]


def test_status_audit_flags_unknown_status_and_used_without_calls() -> None:
    con = build({}, [])
    con.execute("""create table permission_insights as select * from (values
        ('p', 'a1', 'used', 2), ('p', 'a2', 'used', 0), ('p', 'a3', 'stale', 0),
        ('p', 'a4', 'unused', 0)) t(principal_arn, action, usage_status, calls_in_window)""")
    audit = (AUDITS / "permission_insights__usage_status_known.sql").read_text()
    assert set(rows(con, audit)) == {("p", "a2", "used", 0), ("p", "a3", "stale", 0)}
