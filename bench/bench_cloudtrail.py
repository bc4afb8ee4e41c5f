"""CloudTrail ingestion benchmark (issue 4): generated S3-delivery logs, every figure beside
the floor measured in the same run.

    .venv/bin/python bench/bench_cloudtrail.py [--events 2000000] [--copies 1] [--days 15]

1. Generates N realistic events (~1.3 KB each, real shapes from the invictus fixture with varied
   principals, names, times, errors) over D days in the delivery layout, ~1,000 per file
   (cached under bench/data/, reused when present). `--copies K` then links the same files
   under K accounts (K x N events) to show memory stays bounded as input grows.
2. The floor: `find -name '*.json.gz' | xargs -P 2 zcat > /dev/null` (decompression alone,
   both cores).
3. ciem's landing (`land_day` per day, 2 worker processes): events/s and peak RSS of the whole
   process tree (sampled from /proc).
4. The usage aggregate (`build_daily` per day): events/s.
5. trailscraper 0.10.0 (PyPI, in its own venv under bench/.venv-trailscraper) selecting the
   used actions from one day of the same files: events/s.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "bench" / "data"
INVICTUS = ROOT / "tests" / "fixtures" / "real" / "invictus-aws-dataset" / "CloudTrail"
ORG = "o-bench00001"
START = date(2026, 10, 1)
PER_FILE = 1000


def _templates() -> list[dict]:
    records = []
    for path in sorted(INVICTUS.glob("*.json.gz")):
        with gzip.open(path) as fh:
            records.extend(json.load(fh)["Records"])
    return [
        r for r in records if r.get("userIdentity", {}).get("type") in ("IAMUser", "AssumedRole")
    ]


def _write_file(args: tuple[int, int, int, int]) -> int:
    file_index, events, days, seed = args
    rng = random.Random(seed * 1_000_003 + file_index)  # noqa: S311 (test data, not secrets)
    templates = _TEMPLATES or _templates()
    account = f"{100000000000 + file_index % 3:012d}"
    region = ("us-east-1", "eu-west-1")[file_index % 2]
    day = START + timedelta(days=file_index % days)
    base = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        minutes=5 * (file_index // days % 288)
    )
    records = []
    for i in range(events):
        record = dict(rng.choice(templates))
        identity = dict(record["userIdentity"])
        n = rng.randrange(400)
        if identity["type"] == "IAMUser":
            identity["arn"] = f"arn:aws:iam::{account}:user/user-{n}"
        else:
            identity["arn"] = f"arn:aws:sts::{account}:assumed-role/role-{n}/session-{i}"
            context = dict(identity.get("sessionContext") or {})
            context["sessionIssuer"] = {
                "type": "Role",
                "arn": f"arn:aws:iam::{account}:role/role-{n}",
                "accountId": account,
                "userName": f"role-{n}",
            }
            identity["sessionContext"] = context
        identity["accountId"] = account
        record["userIdentity"] = identity
        record["recipientAccountId"] = account
        record["awsRegion"] = region
        record["eventID"] = f"{file_index:08x}-{i:04x}-4000-8000-{rng.getrandbits(48):012x}"
        record["eventTime"] = (base + timedelta(seconds=rng.randrange(300))).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        if rng.random() < 0.03:
            record["errorCode"], record["errorMessage"] = "AccessDenied", "User is not authorized"
        records.append(record)
    stamp = base.strftime("%Y%m%dT%H%MZ")
    path = (
        DATA
        / "events"
        / "AWSLogs"
        / ORG
        / account
        / "CloudTrail"
        / region
        / f"{day:%Y/%m/%d}"
        / f"{account}_CloudTrail_{region}_{stamp}_{file_index:016x}.json.gz"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        gzip.compress(json.dumps({"Records": records}, separators=(",", ":")).encode(), 6)
    )
    return events


_TEMPLATES: list[dict] = []


def generate(total: int, days: int) -> Path:
    marker = DATA / f"generated-{total}-{days}.txt"
    if marker.exists():
        return DATA / "events"
    shutil.rmtree(DATA, ignore_errors=True)
    files = (total + PER_FILE - 1) // PER_FILE
    jobs = [(i, min(PER_FILE, total - i * PER_FILE), days, 7) for i in range(files)]
    with ProcessPoolExecutor(2) as pool:
        written = sum(pool.map(_write_file, jobs, chunksize=16))
    marker.write_text(f"{written} events in {files} files\n")
    return DATA / "events"


def with_copies(events_dir: Path, copies: int, work: Path) -> Path:
    """The generated tree, plus hard links of it under other org ids (same bytes, K x events)."""
    if copies == 1:
        return events_dir
    target = work / "copies"
    for k in range(copies):
        for src in (events_dir / "AWSLogs" / ORG).rglob("*.json.gz"):
            rel = src.relative_to(events_dir / "AWSLogs" / ORG)
            dst = target / "AWSLogs" / f"o-copy{k:07d}" / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.link(src, dst)
    return target


class TreeRss:
    """Peak resident memory of this process and all its descendants, sampled from /proc."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree_rss(self) -> int:
        root = os.getpid()
        parents: dict[int, int] = {}
        rss: dict[int, int] = {}
        for proc in Path("/proc").iterdir():
            entry = proc.name
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry)] = int(stat[1])
                rss[int(entry)] = int(stat[21]) * os.sysconf("SC_PAGE_SIZE")
            except (OSError, IndexError, ValueError):
                continue
        total, stack = 0, [root]
        while stack:
            pid = stack.pop()
            total += rss.get(pid, 0)
            stack.extend(p for p, parent in parents.items() if parent == pid)
        return total

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, self._tree_rss())

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def time_floor(events_dir: Path) -> float:
    started = time.perf_counter()
    subprocess.run(  # noqa: S602 (a fixed pipeline over our own temp folder)
        f"find {events_dir} -name '*.json.gz' -print0 | xargs -0 -P 2 -n 64 zcat > /dev/null",
        shell=True,
        check=True,
    )
    return time.perf_counter() - started


def time_ingest(events_dir: Path, days: int, lake_dir: Path) -> tuple[float, int, int, float, int]:
    from pipelines.lib.lake import Lake, write_parquet
    from pipelines.lib.land.cloudtrail import CloudTrailSource
    from pipelines.lib.land.cloudtrail_landing import WorkerPool, land_day
    from pipelines.lib.reference.csvs import load_reference
    from pipelines.lib.reference.event_map import build_event_action_map
    from pipelines.lib.warehouse.daily import build_daily

    lake = Lake.at(lake_dir)
    write_parquet(build_event_action_map(), lake.table_path("ref_event_action_map"))
    write_parquet(load_reference("ref_error_codes"), lake.table_path("ref_error_codes"))
    source = CloudTrailSource(events_dir)
    records = 0
    with TreeRss() as rss:
        started = time.perf_counter()
        with WorkerPool() as pool:  # one pool for the run, as the Dagster asset does
            for d in range(days):
                records += land_day(source, lake, START + timedelta(days=d), pool=pool).records
        ingest = time.perf_counter() - started
        started = time.perf_counter()
        usage_rows = 0
        for d in range(days):
            usage_rows += build_daily(lake, START + timedelta(days=d))["usage_daily"]
        aggregate = time.perf_counter() - started
    return ingest, records, rss.peak, aggregate, usage_rows


def time_trailscraper(events_dir: Path) -> tuple[float, int] | None:
    venv = ROOT / "bench" / ".venv-trailscraper"
    exe = venv / "bin" / "trailscraper"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [
                str(ROOT / ".venv" / "bin" / "uv"),
                "pip",
                "install",
                "--quiet",
                "--python",
                str(venv / "bin" / "python"),
                "trailscraper==0.10.0",
            ],
            check=False,
        )
    if not exe.exists():
        print("  trailscraper: could not be installed; skipped")
        return None
    one_day = [p for p in events_dir.rglob("*.json.gz") if f"/{START:%Y/%m/%d}/" in str(p)]
    with tempfile.TemporaryDirectory() as tmp:
        for p in one_day:
            os.link(p, Path(tmp) / p.name)
        events = 0
        for p in one_day:
            with gzip.open(p) as fh:
                events += len(json.load(fh)["Records"])
        # select (parse and filter the records) | generate (the used actions, as a policy)
        started = time.perf_counter()
        selected = subprocess.run(
            [str(exe), "select", "--log-dir", tmp, "--from", "2000-01-01", "--to", "2100-01-01"],
            capture_output=True,
            check=False,
        )
        proc = subprocess.run(
            [str(exe), "generate"], input=selected.stdout, capture_output=True, check=False
        )
        elapsed = time.perf_counter() - started
        if selected.returncode != 0:
            proc = selected
        if proc.returncode != 0:
            print(f"  trailscraper failed: {proc.stderr.decode().strip()[-300:]}")
            return None
    return elapsed, events


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--days", type=int, default=15)
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="repeats of the floor (median)")
    parser.add_argument("--no-trailscraper", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    events_dir = generate(args.events, args.days)
    print(
        f"input: {args.events:,} events x {args.copies} over {args.days} days "
        f"({time.perf_counter() - started:.0f} s to generate or reuse)"
    )
    with tempfile.TemporaryDirectory(dir=DATA) as work:
        tree = with_copies(events_dir, args.copies, Path(work))
        total = args.events * args.copies
        gz = sum(p.stat().st_size for p in tree.rglob("*.json.gz"))
        floor = statistics.median(time_floor(tree) for _ in range(args.repeat))
        ingest, records, peak, aggregate, usage_rows = time_ingest(
            tree, args.days, Path(work) / "lake"
        )
        assert records == total, (records, total)
        print(f"  {gz / 2**20:,.0f} MiB gzip")
        print(f"  floor: xargs -P 2 zcat          {floor:8.1f} s  {total / floor:10,.0f} events/s")
        print(
            f"  ciem landing (2 workers)        {ingest:8.1f} s  {total / ingest:10,.0f} events/s"
            f"  = {ingest / floor:.2f}x the floor"
        )
        print(
            f"  ciem usage aggregate            {aggregate:8.1f} s  "
            f"{total / aggregate:10,.0f} events/s"
            f"  ({usage_rows:,} usage rows)"
        )
        print(f"  peak RSS, whole process tree    {peak / 2**20:8.0f} MiB")
    if not args.no_trailscraper:
        result = time_trailscraper(events_dir)
        if result:
            elapsed, events = result
            rate = events / elapsed
            print(
                f"  trailscraper select|generate (1 day) {elapsed:6.1f} s  {rate:10,.0f} events/s"
                f"  -> ciem landing is {total / ingest / rate:.1f}x faster"
            )


if __name__ == "__main__":
    main()
