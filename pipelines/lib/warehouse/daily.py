"""Daily CloudTrail aggregates (model layer, per partition): `sql/daily/*.sql` run on one day.

Each model reads `day_events` (the day's landed parts, less the events whose eventID the
previous day's partition holds: a redelivery, counted there only), `day_manifest` (the day's
landing manifest: one row per delivery file), `ref_event_action_map` and `ref_error_codes`,
and is written to `<lake>/parquet/<model>/day=YYYY-MM-DD/data.parquet`.
The window models read these small tables instead of raw events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.lib.lake import Lake, write_parquet
from pipelines.lib.land.cloudtrail_events import CLOUDTRAIL_EVENTS_SCHEMA
from pipelines.lib.land.cloudtrail_landing import MANIFEST_SCHEMA, manifest_path
from pipelines.lib.reference.csvs import reference_schema
from pipelines.lib.reference.event_map import EVENT_ACTION_MAP_SCHEMA
from pipelines.lib.warehouse.connection import quote_literal
from pipelines.lib.warehouse.sql_models import SQL_DIR, SqlModel, discover_models

DAILY_SCHEMAS: dict[str, pa.Schema] = {
    "usage_daily": pa.schema(
        [
            pa.field("day", pa.date32()),
            pa.field("account_id", pa.string()),
            pa.field("principal_arn", pa.string()),
            pa.field("action", pa.string()),
            pa.field("successful_calls", pa.int64()),
            pa.field("denied_attempts", pa.int64()),
            pa.field("throttled_calls", pa.int64()),
            pa.field("other_errors", pa.int64()),
            pa.field("first_seen_at", pa.timestamp("us", tz="UTC")),
            pa.field("last_seen_at", pa.timestamp("us", tz="UTC")),
            pa.field("last_used_at", pa.timestamp("us", tz="UTC")),
        ]
    ),
    "event_counts_daily": pa.schema(
        [
            pa.field("day", pa.date32()),
            pa.field("account_id", pa.string()),
            pa.field("event_source", pa.string()),
            pa.field("event_name", pa.string()),
            pa.field("event_category", pa.string()),
            pa.field("mapping", pa.string()),
            pa.field("events", pa.int64()),
            pa.field("successful_events", pa.int64()),
            pa.field("principal_events", pa.int64()),
            pa.field("unattributed_events", pa.int64()),  # credited to no principal
        ]
    ),
    "cloudtrail_deliveries_daily": pa.schema(
        [
            pa.field("day", pa.date32()),
            pa.field("account_id", pa.string()),
            pa.field("region", pa.string()),
            pa.field("delivery_hour", pa.int32()),  # UTC hour of the file name's time
            pa.field("files", pa.int64()),
            pa.field("quarantined_files", pa.int64()),
            pa.field("records", pa.int64()),
        ]
    ),
}
DAILY_MODELS = tuple(DAILY_SCHEMAS)
_MODELS = {m.name: m for m in discover_models(SQL_DIR, layers=("daily",))}


def daily_model(name: str) -> SqlModel:
    return _MODELS[name]


def _register(con: duckdb.DuckDBPyConnection, name: str, pattern: str, schema: pa.Schema) -> None:
    """A view over the Parquet files matching `pattern`, or an empty typed table if none."""
    if any(Path(pattern).parent.glob(Path(pattern).name)):
        con.execute(
            f"create view {name} as "  # noqa: S608 (a fixed view name; the path is quoted)
            f"select * from read_parquet({quote_literal(pattern)}, union_by_name = true)"
        )
    else:
        con.register(name, schema.empty_table())


def _register_day_events(con: duckdb.DuckDBPyConnection, lake: Lake, day: date) -> None:
    """`day_events`: the day's landed events (landing keeps each eventID once per day) less
    those whose eventID the previous day's partition holds. CloudTrail may redeliver an event in
    a later file; one delivered on two days counts in the earlier. Events without an eventID
    are all kept."""
    day_parts = f"{lake.cloudtrail_day_dir(day)}/*.parquet"
    _register(con, "landed_day_events", day_parts, CLOUDTRAIL_EVENTS_SCHEMA)
    previous_parts = f"{lake.cloudtrail_day_dir(day - timedelta(days=1))}/*.parquet"
    _register(con, "previous_day_events", previous_parts, CLOUDTRAIL_EVENTS_SCHEMA)
    con.execute(
        "create temp view day_events as select e.* from landed_day_events as e "
        "anti join (select event_id from previous_day_events where event_id is not null) as p "
        "on p.event_id = e.event_id"
    )


def build_daily(lake: Lake, day: date) -> dict[str, int]:
    """Run every daily model on one day; returns the row count per model."""
    with daily_builder(lake) as build:
        return build(day)


def _nothing_landed(lake: Lake, day: date) -> bool:
    """No event and no delivery file for the day (its parts and manifest empty, or none)."""
    files = [*lake.cloudtrail_day_dir(day).glob("*.parquet"), manifest_path(lake, day)]
    return all(not f.exists() or pq.read_metadata(f).num_rows == 0 for f in files)


@contextmanager
def daily_builder(lake: Lake) -> Iterator[Callable[[date], dict[str, int]]]:
    """One DuckDB connection for several days: the reference tables are read once into it, and
    each call builds one day (its event and manifest views replaced). A connection and the event
    map's 27,000 rows cost more than an ordinary day's aggregates (about 75 ms a day for 15 empty
    days before)."""
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        codes = str(lake.table_path("ref_error_codes"))
        _register(con, "ref_error_codes_files", codes, reference_schema("ref_error_codes"))
        event_map = str(lake.table_path("ref_event_action_map"))
        _register(con, "ref_event_action_map_files", event_map, EVENT_ACTION_MAP_SCHEMA)
        con.execute("create temp table ref_error_codes as from ref_error_codes_files")
        con.execute("create temp table ref_event_action_map as from ref_event_action_map_files")

        def build(day: date) -> dict[str, int]:
            if _nothing_landed(lake, day):  # no delivery file that day: every aggregate is empty
                for name in DAILY_MODELS:
                    write_parquet(DAILY_SCHEMAS[name].empty_table(), lake.daily_path(name, day))
                return dict.fromkeys(DAILY_MODELS, 0)
            for view in ("day_events", "landed_day_events", "previous_day_events", "day_manifest"):
                con.execute(f"drop view if exists {view}")  # one of the fixed names above
                con.unregister(view)
            _register_day_events(con, lake, day)
            _register(con, "day_manifest", str(manifest_path(lake, day)), MANIFEST_SCHEMA)
            counts = {}
            for name in DAILY_MODELS:
                table = con.sql(_MODELS[name].sql).to_arrow_table().cast(DAILY_SCHEMAS[name])
                write_parquet(table, lake.daily_path(name, day))
                counts[name] = table.num_rows
            return counts

        yield build
