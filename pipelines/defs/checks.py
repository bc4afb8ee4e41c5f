"""Asset checks: each `sql/audits/<model>__<name>.sql` returns offending rows (none = pass)."""

from pathlib import Path

import dagster as dg

from pipelines.defs.models import LAKE_TABLES
from pipelines.defs.resources import CiemSettings
from pipelines.lib.warehouse.connection import connect, register_lake_views, set_run_params
from pipelines.lib.warehouse.sql_models import SQL_DIR


def build_audit_check(path: Path) -> dg.AssetChecksDefinition:
    model, _, name = path.stem.partition("__")
    sql = path.read_text()
    header = [line.removeprefix("--").strip() for line in sql.splitlines() if line.startswith("--")]
    severity = (
        dg.AssetCheckSeverity.WARN if "severity: warn" in header else dg.AssetCheckSeverity.ERROR
    )
    description = "\n".join(h for h in header if not h.startswith("severity:"))

    @dg.asset_check(asset=model, name=name, description=description, blocking=False)
    def _audit(context: dg.AssetCheckExecutionContext, ciem: CiemSettings) -> dg.AssetCheckResult:
        lake = ciem.lake
        with connect(lake) as con:
            register_lake_views(con, lake, LAKE_TABLES)
            set_run_params(con, ciem.run_params())
            relation = con.sql(sql)
            columns = relation.columns
            offending = relation.fetchall()
        return dg.AssetCheckResult(
            passed=not offending,
            severity=severity,
            metadata={
                "offending_rows": len(offending),
                "sample": dg.MetadataValue.json(
                    [dict(zip(columns, map(str, r), strict=True)) for r in offending[:5]]
                ),
            },
        )

    return _audit


audit_checks = [build_audit_check(p) for p in sorted((SQL_DIR / "audits").glob("*__*.sql"))]
