"""The pipeline run shared by `ciem run` and `ciem demo`, and the detections summary after it.

The Dagster definitions of the UI, materialized in process: never a second code path."""

from __future__ import annotations

import gc
import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from functools import partial
from pathlib import Path

from pipelines.cli.options import CiemError
from pipelines.lib.lake import Lake
from pipelines.lib.warehouse.connection import RunParams, connect

log = logging.getLogger("ciem")

# Dagster's own console log is replaced by the `ciem` progress lines and one-line errors.
QUIET_DAGSTER = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def _user_message(message: str) -> str:
    """A step's error as the user should read it: the project's own exceptions carry a message
    meant for the user, so their dotted class path (`pipelines.lib.x.SomeError: `) is dropped;
    a Python error keeps its class name, which says what went wrong."""
    head, sep, rest = message.partition(": ")
    if sep and head.startswith("pipelines.") and " " not in head:
        return rest
    return message


def _materialize(assets: list, debug: bool = False, **kwargs: object) -> None:
    """One in-process Dagster run; a failed step becomes a CiemError naming the asset."""
    import dagster as dg

    result = dg.materialize(assets, run_config=QUIET_DAGSTER, raise_on_error=False, **kwargs)
    _check_result(result, debug)


def _check_result(result: object, debug: bool) -> None:
    """Failed checks as warnings; a failed run as a CiemError naming the asset (a step of a
    graph-backed asset, `raw_cloudtrail_events.land_days_1`, is named by its asset)."""
    for check in result.get_asset_check_evaluations():  # type: ignore[attr-defined]
        if not check.passed:
            name = f"{check.asset_key.to_user_string()}:{check.check_name}"
            error = check.metadata.get("error")
            if error is not None:
                log.warning(f"✗ check {name} could not run: {_user_message(str(error.value))}")
                continue
            rows = check.metadata.get("offending_rows")
            count = rows.value if rows is not None else "?"
            log.warning(f"✗ check {name} failed ({count} offending rows)")
    if result.success:  # type: ignore[attr-defined]
        return
    for event in result.get_step_failure_events():  # type: ignore[attr-defined]
        error = event.step_failure_data.error
        cause = (
            error.cause
            if error and error.cls_name == "DagsterExecutionStepExecutionError"
            else error
        )
        if debug and error is not None:
            log.error(error.to_string())
        message = _user_message((cause.message if cause else "failed").strip().splitlines()[0])
        if cause is not None and cause.cls_name == "ModelsFailed":
            raise CiemError(message)  # the SQL models' step names each failed model itself
        raise CiemError(f"asset {event.step_key.split('.')[0]} failed: {message}")
    for event in result.all_events:  # type: ignore[attr-defined]
        # a resource that could not start (a lake on S3 unreachable)
        error = getattr(event.event_specific_data, "error", None)
        if event.event_type_value == "RESOURCE_INIT_FAILURE" and error is not None:
            if debug:
                log.error(error.to_string())
            raise CiemError(_user_message(error.message.strip().splitlines()[0]))
    raise CiemError("the Dagster run failed (run with --debug for details)")


@contextmanager
def _long_lived_frozen() -> Iterator[None]:
    """Dagster's import and the definitions allocate some 250,000 objects that live for the
    whole run; Python's cyclic collector would walk them again at every full collection (a
    third of the import's CPU). Collection is off until the definitions are built
    (`_definitions_built`), which freezes what exists out of the collector's reach; afterwards
    they are handed back, so an in-process caller (the tests) frees them as usual."""
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.enable()


def _definitions_built() -> None:
    gc.freeze()
    gc.enable()


@_long_lived_frozen()
def run_pipeline(
    snapshot: Path | None,
    cloudtrail: str | Path,
    as_of: date,
    window_days: int,
    lake_dir: str | Path,
    gap_threshold: float = 0.4,
    debug: bool = False,
    full_refresh: bool = False,
    unused_days: int = 90,
    key_rotation_days: int = 90,
    suppressions: str | None = None,
    snapshot_root: Path | None = None,
    max_hops: int = 5,
    workers: int | None = 1,
) -> None:
    """Materialize every asset of the code location for one as-of day: the reference tables,
    then the window's CloudTrail days (one run over the partition range, in `workers` shares
    at once on the multiprocess executor when more than 1; None: `auto_workers`), then the
    as-of day's snapshot and every model, in process. The definitions are those of the UI,
    built for this as-of day, window and number of workers (`run_days`)."""
    import dagster as dg

    from pipelines.defs.location import build_definitions
    from pipelines.defs.partitions import CLOUDTRAIL_EPOCH, run_days
    from pipelines.defs.resources import CiemSettings
    from pipelines.lib.land.cloudtrail import CloudTrailSource
    from pipelines.lib.land.sources import SnapshotNotFound

    settings = CiemSettings(
        snapshot_dir=str(snapshot) if snapshot is not None else "",
        snapshot_root=str(snapshot_root) if snapshot_root is not None else "",
        cloudtrail_dir=str(cloudtrail),
        lake_dir=str(lake_dir),
        window_days=window_days,
        gap_threshold=gap_threshold,
        unused_days=unused_days,
        key_rotation_days=key_rotation_days,
        max_hops=max_hops,
        cloudtrail_full_refresh=full_refresh,
        suppressions_file=suppressions or os.environ.get("CIEM_SUPPRESSIONS", ""),
        notify_webhook=os.environ.get("CIEM_NOTIFY_WEBHOOK", ""),
        notify_webhook_format=os.environ.get("CIEM_NOTIFY_WEBHOOK_FORMAT", "slack"),
        notify_ocsf_dir=os.environ.get("CIEM_NOTIFY_OCSF_DIR", ""),
    )
    try:
        snapshot_dir = settings.snapshots.for_day(as_of)
    except SnapshotNotFound as exc:
        raise CiemError(str(exc)) from exc
    if not CloudTrailSource(cloudtrail).exists():
        raise CiemError(f"CloudTrail location not found: {cloudtrail}")
    _check_suppressions(settings.suppressions_file)
    _check_lake(settings.lake)
    window = params_window(as_of, window_days)
    if window[0] < CLOUDTRAIL_EPOCH:
        raise CiemError(
            f"the window starts on {window[0]}, before the first CloudTrail day "
            f"{CLOUDTRAIL_EPOCH} (CIEM_CLOUDTRAIL_START; CloudTrail began in November 2013)"
        )
    days = run_days(as_of, window_days)
    if workers is None:
        workers = auto_workers(cloudtrail, window, settings.lake)
    shares = min(workers, len(window))
    # `ciem` chooses its executors itself, whatever CIEM_EXECUTOR says for the code location.
    defs = build_definitions(
        settings, days, collect=False, workers=shares, executor=dg.in_process_executor
    )
    assets = run_assets(defs)
    _definitions_built()
    log.info(
        f"ciem run: as of {as_of} (window {window[0]} .. {window[-1]}), lake {lake_dir}"
        + (f", {workers} workers" if workers > 1 else "")
    )
    # One in-memory instance for the phases (a Dagster run each): creating one costs about a
    # third of a second, and nothing reads it after the run.
    with dg.DagsterInstance.ephemeral() as instance:
        resources = {"ciem": settings}
        materialize = partial(_materialize, assets, debug, resources=resources, instance=instance)
        log.info("landing the reference tables")
        materialize(selection=phase_selection(defs, days, "reference"))
        log.info(f"landing {len(window)} CloudTrail days from {cloudtrail}")
        window_tags = {
            "dagster/asset_partition_range_start": window[0].isoformat(),
            "dagster/asset_partition_range_end": window[-1].isoformat(),
        }
        if shares > 1:
            # The days' shares run at once, each step in its own process (Dagster's multiprocess
            # executor); the other phases have one step at a time and stay in this process.
            _materialize_multiprocess(
                "cloudtrail", settings, as_of, window_days, shares, debug, window_tags
            )
        else:
            materialize(selection=phase_selection(defs, days, "cloudtrail"), tags=window_tags)
        log.info(f"landing the snapshot {snapshot_dir} and building the models")
        # The rest (the explorer report, not partitioned) follows the models in the same run.
        as_of_and_rest = phase_selection(defs, days, "as_of") | phase_selection(defs, days, "rest")
        materialize(selection=as_of_and_rest, partition_key=as_of.isoformat())


PHASES = ("reference", "cloudtrail", "as_of", "rest")
# `--workers` by default: a share of the window's CloudTrail smaller than this lands faster in
# this process than the step processes start (the fork server imports Dagster and loads the
# definitions, about 1.5 s, then each step forks from it, 0.3 s).
SHARE_MIN_BYTES = 64 * 1024 * 1024


def auto_workers(cloudtrail: str | Path, window: list[date], lake: Lake) -> int:
    """Workers when `--workers` is not given: the machine's cores, at most one per
    `SHARE_MIN_BYTES` of the window's CloudTrail files; 1 on a lake on S3, whose steps take
    the lake's lock in turn (nothing would run at once)."""
    from pipelines.lib.land.cloudtrail import CloudTrailSource

    if lake.url:
        return 1
    source = CloudTrailSource(cloudtrail)
    sizes = {o.key: o.size for day in window for o in source.objects_for_day(day)}
    return max(1, min(os.cpu_count() or 1, sum(sizes.values()) // SHARE_MIN_BYTES))


def run_assets(defs: object) -> list:
    """The assets and checks `ciem run` materializes. The freshness checks judge a deployment
    over time (is yesterday there by 06:00?); the daemon's sensor evaluates them. A one-off run
    of a given as-of day has nothing to judge."""
    from pipelines.defs.schedules import is_freshness_check

    checks = defs.asset_checks or []  # type: ignore[attr-defined]
    return [*defs.assets, *(c for c in checks if not is_freshness_check(c))]  # type: ignore[attr-defined]


def phase_selection(defs: object, days: object, phase: str) -> object:
    """The assets of one phase of `ciem run`: the reference tables, the window's CloudTrail
    days, the as-of day (snapshot and models), then the rest (the explorer report)."""
    import dagster as dg

    graph = defs.resolve_asset_graph()  # type: ignore[attr-defined]
    by_days = {
        name: dg.AssetSelection.assets(
            *(k for k in graph.get_all_asset_keys() if graph.get(k).partitions_def == partitions)
        )
        for name, partitions in (
            ("cloudtrail", days.cloudtrail_days),  # type: ignore[attr-defined]
            ("as_of", days.as_of_days),  # type: ignore[attr-defined]
        )
    }
    reference = dg.AssetSelection.groups("reference")
    if phase == "reference":
        return reference
    if phase in by_days:
        return by_days[phase]
    return dg.AssetSelection.all() - reference - by_days["cloudtrail"] - by_days["as_of"]


def run_job(settings: dict, as_of: str, window_days: int, workers: int, phase: str, debug: bool):
    """The job of one phase of `ciem run`, rebuilt from plain values: Dagster's multiprocess
    executor calls this in every step process (a reconstructable job), so each step runs the
    same definitions with the same settings and writes the lake owner-only."""
    import dagster as dg

    from pipelines.cli.options import setup_logging
    from pipelines.defs.location import build_definitions
    from pipelines.defs.partitions import run_days
    from pipelines.defs.resources import CiemSettings
    from pipelines.lib.lake import set_private_umask, use_system_allocator

    set_private_umask()
    use_system_allocator()
    setup_logging(debug)  # the steps' progress lines, as in process
    if not debug:  # as `ciem` itself (cli/app.py); the executor's own events stay quiet
        warnings.filterwarnings("ignore", message=".*is currently in beta.*")
        logging.getLogger("dagster").setLevel(logging.ERROR)
    ciem = CiemSettings(**settings)
    days = run_days(date.fromisoformat(as_of), window_days)
    defs = build_definitions(
        ciem, days, collect=False, workers=workers, executor=dg.in_process_executor
    )
    job = dg.define_asset_job(
        f"ciem_run_{phase}",
        selection=phase_selection(defs, days, phase),
        executor_def=dg.multiprocess_executor,
    )
    return dg.Definitions(
        assets=run_assets(defs), jobs=[job], resources={"ciem": ciem}
    ).resolve_job_def(job.name)


def _materialize_multiprocess(
    phase: str,
    settings: object,
    as_of: date,
    window_days: int,
    workers: int,
    debug: bool,
    tags: dict[str, str],
) -> None:
    """One phase on Dagster's multiprocess executor, at most `workers` steps at once, on a
    temporary persistent instance (a DAGSTER_HOME of its own, removed afterwards)."""
    import tempfile

    import dagster as dg

    values = {name: getattr(settings, name) for name in type(settings).model_fields}
    job = dg.build_reconstructable_job(
        "pipelines.cli.pipeline",
        "run_job",
        reconstructable_kwargs={
            "settings": values,
            "as_of": as_of.isoformat(),
            "window_days": window_days,
            "workers": workers,
            "phase": phase,
            "debug": debug,
        },
    )
    from pipelines.defs.executor import MULTIPROCESS_START, stop_step_server

    config = {"max_concurrent": workers, **MULTIPROCESS_START}
    run_config = {**QUIET_DAGSTER, "execution": {"config": config}}
    with (
        tempfile.TemporaryDirectory(prefix="ciem-dagster-") as home,
        dg.DagsterInstance.local_temp(home, overrides=_TEMP_INSTANCE) as instance,
    ):
        try:
            result = dg.execute_job(
                job, instance=instance, run_config=run_config, tags=tags, raise_on_error=False
            )
        finally:
            stop_step_server()
        _check_result(result, debug)


# The temporary instance keeps no copy of the steps' output (they print to this terminal), and
# the executor's own events (a step process started) stay out of it, as in process.
_TEMP_INSTANCE = {
    "python_logs": {"python_log_level": "ERROR"},
    "compute_logs": {
        "module": "dagster._core.storage.noop_compute_log_manager",
        "class": "NoOpComputeLogManager",
    },
    "telemetry": {"enabled": False},
}


def params_window(as_of: date, window_days: int) -> list[date]:
    return RunParams(as_of=as_of, window_days=window_days, gap_threshold=0).window_dates()


def _check_lake(lake: Lake) -> None:
    """A lake on S3 is read before anything lands: a bucket that does not exist or cannot be
    read stops the run at once, in one line (and the cache is brought up to date)."""
    from pipelines.lib.lake import LakeSyncError

    try:
        lake.pull()
    except LakeSyncError as exc:
        raise CiemError(str(exc)) from exc


def _check_suppressions(setting: str) -> None:
    """Reads the suppressions file before anything lands: a mistake in it stops the run at
    once, with the file, entry and field (the `ref_suppressions` asset reads it again)."""
    from pipelines.lib.findings.suppressions import (
        SuppressionError,
        load_suppressions,
        resolve_path,
    )

    path = None
    try:
        path = resolve_path(setting)
        load_suppressions(path)
    except SuppressionError as exc:
        raise CiemError(str(exc)) from exc
    except ValueError as exc:  # e.g. YAML's own date parsing of `expires: 2026-02-30`
        raise CiemError(f"{path}: invalid value: {exc}") from exc


def _lake_flag(lake: Lake) -> str:
    """` --lake DIR` for the hints printed after a run, when the lake is not the default one."""
    return f" --lake {lake.location}" if lake != Lake.at("data/lake") else ""


def print_summary(lake: Lake, as_of: date) -> None:
    with connect(lake, read_only=True) as con:
        rows = con.execute(
            """
            select rule_id, severity,
                   count(*) filter (where status = 'open') as open,
                   count(*) filter (where status = 'suppressed') as suppressed,
                   count(*) filter (where status = 'resolved') as resolved
            from detections group by 1, 2
            order by list_position(['critical', 'high', 'medium', 'low', 'info'], severity), 1
            """
        ).fetchall()
        quarantined = con.execute("select count(*) from quarantine").fetchall()[0][0]
        principals = con.execute("select count(*) from principals").fetchall()[0][0]
        has_completeness = con.execute(
            "select count(*) from information_schema.tables"
            " where table_schema = 'main' and table_name = 'account_completeness'"
        ).fetchall()[0][0]
        incomplete = (
            con.execute(
                "select account_id, incomplete_reason, held_open_detections, previous_as_of"
                " from account_completeness where is_incomplete order by account_id"
            ).fetchall()
            if has_completeness
            else []
        )
    width = max([len("rule_id"), *(len(r[0]) for r in rows)])
    out = [f"\nDetections as of {as_of} ({principals} identities analysed):"]
    out.append(
        f"  {'rule_id':<{width}} {'severity':<9} {'open':>5} {'suppressed':>10} {'resolved':>9}"
    )
    for rule_id, severity, open_, suppressed, resolved in rows:
        out.append(f"  {rule_id:<{width}} {severity:<9} {open_:>5} {suppressed:>10} {resolved:>9}")
    totals = [sum(r[i] for r in rows) for i in (2, 3, 4)]
    out.append(f"  {'total':<{width}} {'':<9} {totals[0]:>5} {totals[1]:>10} {totals[2]:>9}")
    if incomplete:
        out.append(
            f"\nIncomplete accounts ({len(incomplete)}): input could not be read; their previous"
            " detections stay open and nothing of theirs is resolved:"
        )
        for account_id, reason, held, previous_as_of in incomplete:
            if previous_as_of is None:
                kept = "first run: its findings are shown, flagged account_incomplete"
            else:
                kept = f"{held} detection(s) held open from {previous_as_of}, new ones not opened"
            out.append(f"  {account_id}: {kept}; {reason}")
    if quarantined:
        out.append(
            f"\nQuarantined {quarantined} input item(s); see them with:\n"
            f'  ciem query "select source, file, record, field, reason from quarantine"'
            + _lake_flag(lake)
        )
    else:
        out.append("\nQuarantined: nothing (all input was well-formed).")
    out.append(
        f"\nTables: {lake.warehouse_path} (DuckDB"
        + (f", the local cache of {lake.url}" if lake.url else "")
        + f") and {lake.location}/marts/*.parquet\n"
        'Try:    ciem query "select rule_id, count(*) from detections group by 1"'
        + _lake_flag(lake)
    )
    print("\n".join(out))
