"""CloudTrail landing and its daily aggregates, fanned out over workers.

Each asset is backed by a small graph: `workers` ops (`land_days_0` …, `aggregate_days_0` …)
each take their share of the run's CloudTrail days (contiguous, balanced), then one op records
the materialization. On the in-process executor they run one after the other, as one step did
before; on the multiprocess executor (`ciem run --workers N`) or Kubernetes (`CIEM_EXECUTOR=k8s`,
one pod per op) they run at once. The ops pass nothing but order between them (`Nothing`), so no
IO manager is involved: every result is in the lake.

Why shares of days rather than one op per day: an op on another process or pod costs a start. On
the multiprocess executor a step process forks from a server that imported Dagster and the
definitions once (`defs/executor.py`): about 1.5 s to start the server, then 0.3 s a step. A pod
imports them itself (2-4 s here). A CloudTrail day of a small organization lands in a fraction
of that."""

import json
import time
from datetime import date

import dagster as dg
import pyarrow.parquet as pq

from pipelines.defs.landing import UPSTREAM_CHANGED, report, write_json
from pipelines.defs.partitions import Days
from pipelines.defs.resources import CiemSettings
from pipelines.lib.land.cloudtrail import CloudTrailSource
from pipelines.lib.land.cloudtrail_landing import DEFAULT_WORKERS, WorkerPool, land_day
from pipelines.lib.warehouse.daily import DAILY_MODELS, daily_builder, daily_model


def share(keys: list[str], workers: int, index: int) -> list[str]:
    """The `index`-th of `workers` contiguous, balanced shares of `keys` (empty when there are
    fewer keys than workers)."""
    size, extra = divmod(len(keys), workers)
    start = index * size + min(index, extra)
    return keys[start : start + size + (1 if index < extra else 0)]


def _land_op(index: int, workers: int) -> dg.OpDefinition:
    @dg.op(name=f"land_days_{index}", out=dg.Out(dg.Nothing))
    def land_days(context: dg.OpExecutionContext, ciem: CiemSettings) -> None:
        """Land this op's share of the run's CloudTrail days (only files not landed before,
        unless a full refresh)."""
        source = CloudTrailSource(ciem.cloudtrail_dir)
        if not source.exists():
            raise FileNotFoundError(f"CloudTrail location not found: {ciem.cloudtrail_dir}")
        lake = ciem.lake
        # The parsing processes of a day are shared out too: N ops never start N times the cores.
        with WorkerPool(max(1, DEFAULT_WORKERS // workers)) as pool:
            for key in share(context.partition_keys, workers, index):
                started = time.monotonic()
                day = date.fromisoformat(key)
                result = land_day(source, lake, day, ciem.cloudtrail_full_refresh, pool)
                write_json(
                    {"day": key, "objects": result.objects_total, "mode": result.mode},
                    lake.cloudtrail_landed_path(day),
                )
                report(
                    f"raw_cloudtrail_events[{key}]",
                    result.records,
                    started,
                    f"({result.mode}: {result.objects_read} of {result.objects_total} files read, "
                    f"{result.quarantined} quarantined)",
                )

    return land_days


def _parquet_rows(paths: list) -> int:
    return sum(pq.read_metadata(p).num_rows for p in paths)


@dg.op(ins={"landed": dg.In(dg.Nothing)}, out=dg.Out(dg.Nothing))
def raw_cloudtrail_events_landed(context: dg.OpExecutionContext, ciem: CiemSettings) -> None:
    """Records the materialization of the days landed: their rows and how each was landed."""
    lake = ciem.lake
    modes: dict[str, int] = {}
    rows = 0
    for key in context.partition_keys:
        day = date.fromisoformat(key)
        rows += _parquet_rows(sorted(lake.cloudtrail_day_dir(day).glob("*.parquet")))
        landed = lake.cloudtrail_landed_path(day)
        if landed.exists():
            mode = json.loads(landed.read_text()).get("mode", "?")
            modes[mode] = modes.get(mode, 0) + 1
    context.add_output_metadata(
        {
            "dagster/row_count": rows,
            "days": len(context.partition_keys),
            "days_by_mode": dg.MetadataValue.json(modes),
        }
    )


def _aggregate_op(index: int, workers: int) -> dg.OpDefinition:
    @dg.op(name=f"aggregate_days_{index}", ins={"after": dg.In(dg.Nothing)}, out=dg.Out(dg.Nothing))
    def aggregate_days(context: dg.OpExecutionContext, ciem: CiemSettings) -> None:
        """Build the daily aggregates of this op's share of the run's CloudTrail days."""
        with daily_builder(ciem.lake) as build_daily:
            for key in share(context.partition_keys, workers, index):
                started = time.monotonic()
                counts = build_daily(date.fromisoformat(key))
                report(f"usage_daily[{key}]", counts["usage_daily"], started)

    return aggregate_days


@dg.op(
    ins={"built": dg.In(dg.Nothing)},
    out={name: dg.Out(dg.Nothing) for name in DAILY_MODELS},
)
def cloudtrail_daily_aggregates_built(context: dg.OpExecutionContext, ciem: CiemSettings):
    """Records the materialization of the days aggregated: their rows per table."""
    lake = ciem.lake
    for name in DAILY_MODELS:
        paths = [lake.daily_path(name, date.fromisoformat(k)) for k in context.partition_keys]
        context.add_output_metadata(
            {"dagster/row_count": _parquet_rows([p for p in paths if p.exists()])},
            output_name=name,
        )
    return tuple(None for _ in DAILY_MODELS)


def build_cloudtrail(days: Days, workers: int = 1) -> list[dg.AssetsDefinition]:
    """`raw_cloudtrail_events` and the daily aggregates, per delivery day, each in `workers`
    shares of the run's days."""
    workers = max(1, workers)
    land_ops = [_land_op(i, workers) for i in range(workers)]
    aggregate_ops = [_aggregate_op(i, workers) for i in range(workers)]

    @dg.graph_asset(
        partitions_def=days.cloudtrail_days,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name="landing",
        kinds={"parquet"},
    )
    def raw_cloudtrail_events():
        """CloudTrail records of one UTC day (files delivered that day), typed, Parquet per day.

        Reads a local folder or an S3 prefix; only objects not yet in the day's manifest are
        read and appended (a full refresh rebuilds the day). requestParameters /
        responseElements stay JSON text. Corrupt files and malformed records go to the
        `quarantine` table. The run's days are landed in `land_days_N` shares, at once on the
        multiprocess or Kubernetes executor.
        """
        return raw_cloudtrail_events_landed(landed=[op() for op in land_ops])

    @dg.graph_multi_asset(
        outs={
            name: dg.AssetOut(
                dagster_type=dg.Nothing,
                group_name="landing",
                kinds={"duckdb", "parquet"},
                description=daily_model(name).description,
                automation_condition=UPSTREAM_CHANGED,
            )
            for name in DAILY_MODELS
        },
        ins={
            name: dg.AssetIn(key=name, dagster_type=dg.Nothing)
            for name in ("raw_cloudtrail_events", "ref_event_action_map", "ref_error_codes")
        },
        partitions_def=days.cloudtrail_days,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name="landing",
        can_subset=False,
    )
    def cloudtrail_daily_aggregates(raw_cloudtrail_events, ref_event_action_map, ref_error_codes):
        """Per-day aggregates of CloudTrail (`sql/daily/*.sql`), so the usage window reads a few
        small partitions instead of raw events."""
        inputs = [raw_cloudtrail_events, ref_event_action_map, ref_error_codes]
        built = [op(after=inputs) for op in aggregate_ops]
        outputs = cloudtrail_daily_aggregates_built(built=built)
        return dict(zip(DAILY_MODELS, outputs, strict=True))

    return [raw_cloudtrail_events, cloudtrail_daily_aggregates]
