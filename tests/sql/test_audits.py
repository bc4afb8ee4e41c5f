"""Audits (sql/audits/*.sql) return the offending rows: none on good data, the bad ones else."""

from __future__ import annotations

from pipelines.lib.warehouse.sql_models import SQL_DIR
from tests.sql.harness import build, rows

AUDITS = SQL_DIR / "audits"


def test_grain_audit_finds_duplicates_and_passes_on_clean_rows() -> None:
    con = build({}, [])
    con.execute("create table effective_permissions (principal_arn varchar, action varchar)")
    con.execute(
        "insert into effective_permissions values ('a', 's3:getobject'), ('b', 's3:getobject')"
    )
    audit = (AUDITS / "effective_permissions__one_row_per_principal_action.sql").read_text()
    assert rows(con, audit) == []
    con.execute("insert into effective_permissions values ('a', 's3:getobject')")
    assert rows(con, audit) == [("a", "s3:getobject", 2)]
    # every repeated key, each with its count, and nothing else
    con.execute(
        "insert into effective_permissions values ('b', 's3:getobject'), ('b', 's3:getobject'), "
        "('a', 's3:putobject'), ('s3:getobject', 'a')"
    )
    assert sorted(rows(con, audit)) == [("a", "s3:getobject", 2), ("b", "s3:getobject", 3)]


def test_status_audit_flags_unknown_status_and_used_without_calls() -> None:
    con = build({}, [])
    con.execute("""create table permission_insights as select * from (values
        ('p', 'a1', 'used', 2), ('p', 'a2', 'used', 0), ('p', 'a3', 'stale', 0),
        ('p', 'a4', 'unused', 0)) t(principal_arn, action, usage_status, calls_in_window)""")
    audit = (AUDITS / "permission_insights__usage_status_known.sql").read_text()
    assert set(rows(con, audit)) == {("p", "a2", "used", 0), ("p", "a3", "stale", 0)}
