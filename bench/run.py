"""Benchmarks: medians of several runs, each beside a baseline measured in the same run.

    make bench        (or .venv/bin/python bench/run.py [--repeat N])

1. CloudTrail landing: `read_events` on a few hundred thousand real records vs the floor
   (gunzip + json.loads of the same files, no normalization).
2. Wildcard expansion: the `int_statement_actions_expanded` model (exact patterns hash-joined,
   wildcards joined on their service prefix) vs a naive `glob` join of every pattern with the
   whole catalog, on the real iam-vulnerable policies.
3. The whole pipeline (`ciem run` on the real fixtures) in a child process: wall time and peak RSS.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.lib.land import cloudtrail  # noqa: E402
from pipelines.lib.land.quarantine import Quarantine  # noqa: E402

REAL = ROOT / "tests" / "fixtures" / "real"
INVICTUS = REAL / "invictus-aws-dataset" / "CloudTrail"


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_cloudtrail(repeat: int, copies: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i in range(copies):
            for src in sorted(INVICTUS.glob("*.json.gz")):
                dst = Path(tmp) / f"{i:03d}" / src.name
                dst.parent.mkdir(exist_ok=True)
                shutil.copy(src, dst)
                files.append(dst)
        day = date(2023, 7, 10)
        records = 0

        def floor() -> None:
            nonlocal records
            records = 0
            for f in files:
                with gzip.open(f) as fh:
                    records += len(json.load(fh)["Records"])

        def land() -> None:
            cloudtrail.read_events(files, day, Quarantine("cloudtrail"), root=Path(tmp))

        t_floor = median_time(floor, repeat)
        t_land = median_time(land, repeat)
        print(f"cloudtrail landing: {records:,} records in {len(files)} files")
        print(f"  baseline gunzip+json.loads : {t_floor:7.3f} s  {records / t_floor:10,.0f} rec/s")
        print(f"  read_events (typed table)  : {t_land:7.3f} s  {records / t_land:10,.0f} rec/s")
        print(f"  ratio read_events/baseline : {t_land / t_floor:7.2f}x")


def bench_expansion(repeat: int) -> None:
    from pipelines.lib.land.quarantine import Quarantine as Q
    from pipelines.lib.land.snapshot import read_snapshot
    from pipelines.lib.reference.catalog import load_catalog
    from tests.sql.harness import MODELS, build

    tables = read_snapshot(REAL / "snapshots" / "iam-vulnerable", Q("snapshot"))
    inputs = {name: t.to_pylist() for name, t in tables.items()}
    inputs["ref_iam_actions"] = load_catalog().to_pylist()
    con = build(inputs, ["stg_statement_action_patterns", "stg_policy_statements"])
    patterns = con.execute("select count(*) from stg_statement_action_patterns").fetchall()[0][0]
    model_sql = MODELS["int_statement_actions_expanded"].sql

    def model() -> int:
        return con.execute(f"select count(*) from ({model_sql})").fetchall()[0][0]

    naive_sql = """
        select count(*) from (
            select distinct p.policy_key, p.statement_index, c.action
            from stg_statement_action_patterns as p
            join ref_iam_actions as c on c.action glob p.pattern
            where not p.is_not_action)"""
    fast_sql = f"""
        select count(*) from (
            select distinct policy_key, statement_index, action from ({model_sql})
            where (policy_key, statement_index) in (
                select policy_key, statement_index from stg_policy_statements
                where not_actions is null))"""

    def naive() -> int:
        return con.execute(naive_sql).fetchall()[0][0]

    assert con.execute(fast_sql).fetchall() == con.execute(naive_sql).fetchall(), "results differ"
    t_naive = median_time(naive, repeat)
    t_model = median_time(model, repeat)
    print(f"wildcard expansion: {patterns:,} patterns x {len(inputs['ref_iam_actions']):,} actions")
    print(f"  baseline naive glob join   : {t_naive:7.3f} s")
    print(f"  model (prefix-split join)  : {t_model:7.3f} s  (Action rows identical to baseline)")
    print(f"  ratio model/baseline       : {t_model / t_naive:7.3f}x")


def bench_pipeline(repeat: int) -> None:
    times, peaks = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as lake:
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            started = time.perf_counter()
            subprocess.run(
                [
                    str(ROOT / ".venv" / "bin" / "ciem"),
                    "run",
                    "--snapshot",
                    str(REAL / "snapshots" / "iam-vulnerable"),
                    "--cloudtrail",
                    str(INVICTUS),
                    "--as-of",
                    "2023-07-10",
                    "--lake",
                    lake,
                ],
                check=True,
                capture_output=True,
            )
            times.append(time.perf_counter() - started)
            peaks.append(max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
    print("pipeline (ciem run, real fixtures, 15-day window):")
    print(f"  wall time, median of {repeat}  : {statistics.median(times):7.2f} s")
    print(f"  peak RSS (max over runs)   : {max(peaks) / 1024:7.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--copies", type=int, default=100, help="copies of the invictus files")
    args = parser.parse_args()
    bench_cloudtrail(args.repeat, args.copies)
    bench_expansion(args.repeat)
    bench_pipeline(args.repeat)


if __name__ == "__main__":
    main()
