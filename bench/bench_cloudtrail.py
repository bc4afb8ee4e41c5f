"""CloudTrail end to end (issue 11): the whole `ciem run` on generated S3-delivery logs beside
the decompression floor, measured in the same run, medians of `--repeat` runs.

    PYTHONPATH=$PWD .venv/bin/python bench/bench_cloudtrail.py [--events 2000000] [--days 15]
        [--repeat 3] [--no-trailscraper]

1. Generates N realistic events (~1.3 KB each, real shapes from the invictus fixture with varied
   principals, names, times, errors) over D days in the delivery layout, ~1,000 per file
   (cached under bench/data/, reused when present).
2. Each repeat, one after the other: the floor, `find -name '*.json.gz' | xargs -P 2 zcat >
   /dev/null` (decompression alone, both cores), then the whole `ciem run` in a child process
   (`python -m pipelines.cli run`: the demo's snapshot, the D days as the window, a new lake),
   its wall time, the CPU seconds and peak RSS of its whole process tree (RSS sampled from
   /proc every 0.1 s; the CPU seconds of both sides give a ratio a busy machine does not skew).
   Printed: the median of each, their ratio, and where the run's time went (the steps' own
   progress lines, summed by kind).
3. trailscraper 0.10.0 (PyPI, in its own venv under bench/.venv-trailscraper) selecting the
   used actions from one day of the same files: events/s, beside ciem's whole run.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import resource
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
    # Only this benchmark's own files: bench/data also caches the other benchmarks' inputs
    # (the adversarial organizations take minutes to generate).
    shutil.rmtree(DATA / "events", ignore_errors=True)
    for old in DATA.glob("generated-*.txt"):
        old.unlink()
    DATA.mkdir(parents=True, exist_ok=True)
    files = (total + PER_FILE - 1) // PER_FILE
    jobs = [(i, min(PER_FILE, total - i * PER_FILE), days, 7) for i in range(files)]
    with ProcessPoolExecutor(2) as pool:
        written = sum(pool.map(_write_file, jobs, chunksize=16))
    marker.write_text(f"{written} events in {files} files\n")
    return DATA / "events"


class TreeRss:
    """Peak resident memory of this process and all its descendants, sampled from /proc."""

    def __init__(self, root: int | None = None) -> None:
        self.root = root or os.getpid()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree_rss(self) -> int:
        root = self.root
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
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, self._tree_rss())

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def children_cpu() -> float:
    """CPU seconds (user + system) of the finished children of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_floor(events_dir: Path) -> tuple[float, float]:
    """Wall time and CPU seconds of decompressing every file, both cores."""
    cpu = children_cpu()
    started = time.perf_counter()
    subprocess.run(  # noqa: S602 (a fixed pipeline over our own temp folder)
        f"find {events_dir} -name '*.json.gz' -print0 | xargs -0 -P 2 -n 64 zcat > /dev/null",
        shell=True,
        check=True,
    )
    return time.perf_counter() - started, children_cpu() - cpu


SNAPSHOT = ROOT / "data" / "demo" / "snapshots" / "2026-11-20"


def time_run(events_dir: Path, days: int, lake_dir: Path) -> tuple[float, float, int, str]:
    """The whole `ciem run` in a child process: wall time, CPU seconds of its process tree,
    peak RSS of its process tree, and its output (the progress lines)."""
    as_of = START + timedelta(days=days - 1)
    command = [
        sys.executable,
        "-m",
        "pipelines.cli",
        "run",
        "--snapshot",
        str(SNAPSHOT),
        "--cloudtrail",
        str(events_dir),
        "--as-of",
        as_of.isoformat(),
        "--window-days",
        str(days),
        "--lake",
        str(lake_dir),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cpu = children_cpu()
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=ROOT
    )
    with TreeRss(proc.pid) as rss:
        output, _ = proc.communicate()
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"ciem run failed:\n{output.decode()[-2000:]}")
    return elapsed, children_cpu() - cpu, rss.peak, output.decode()


def breakdown(output: str) -> dict[str, float]:
    """Seconds per kind of step, from the progress lines (`✓ name rows 1.2s ...`)."""
    kinds: dict[str, float] = {}
    for line in output.splitlines():
        match = re.match(r"\s*✓ (\S+)\s+[\d,]+ rows\s+([\d.]+)s", line)
        if match:
            name = match.group(1).split("[")[0]
            kinds[name] = kinds.get(name, 0.0) + float(match.group(2))
    return kinds


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
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (median)")
    parser.add_argument("--no-trailscraper", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    events_dir = generate(args.events, args.days)
    gz = sum(p.stat().st_size for p in events_dir.rglob("*.json.gz"))
    print(
        f"input: {args.events:,} events over {args.days} days, {gz / 2**20:,.0f} MiB gzip "
        f"({time.perf_counter() - started:.0f} s to generate or reuse); snapshot {SNAPSHOT}"
    )
    floors, runs, peaks, outputs, floor_cpus, run_cpus = [], [], [], [], [], []
    for i in range(args.repeat):
        floor_wall, floor_cpu = time_floor(events_dir)
        floors.append(floor_wall)
        floor_cpus.append(floor_cpu)
        with tempfile.TemporaryDirectory(dir=DATA) as work:
            elapsed, cpu, peak, output = time_run(events_dir, args.days, Path(work) / "lake")
        runs.append(elapsed)
        run_cpus.append(cpu)
        peaks.append(peak)
        outputs.append(output)
        print(
            f"  run {i + 1}: floor {floors[-1]:6.1f} s, ciem run {elapsed:6.1f} s "
            f"({elapsed / floors[-1]:.2f}x), peak RSS {peak / 2**20:,.0f} MiB; CPU floor "
            f"{floor_cpu:.1f} s, ciem run {cpu:.1f} s ({cpu / floor_cpu:.2f}x)"
        )
    floor, run = statistics.median(floors), statistics.median(runs)
    total = args.events
    print(f"  floor: xargs -P 2 zcat (median)   {floor:8.1f} s  {total / floor:10,.0f} events/s")
    print(
        f"  ciem run, whole (median)          {run:8.1f} s  {total / run:10,.0f} events/s"
        f"  = {run / floor:.2f}x the floor"
    )
    print(f"  peak RSS, whole process tree (max) {max(peaks) / 2**20:7,.0f} MiB")
    floor_cpu, run_cpu = statistics.median(floor_cpus), statistics.median(run_cpus)
    print(
        f"  CPU seconds (user+sys, median): floor {floor_cpu:.1f} s, ciem run {run_cpu:.1f} s "
        f"= {run_cpu / floor_cpu:.2f}x (on a busy machine, the ratio wall time tends to on an "
        "idle one with both cores used)"
    )
    median_run = outputs[runs.index(sorted(runs)[len(runs) // 2])]
    kinds = sorted(breakdown(median_run).items(), key=lambda kv: -kv[1])
    print("  where the median run's time went (steps' own timings, summed):")
    for name, seconds in kinds[:8]:
        print(f"    {name:<34} {seconds:6.1f} s")
    print(f"    {'(every other step)':<34} {sum(s for _, s in kinds[8:]):6.1f} s")
    if not args.no_trailscraper:
        result = time_trailscraper(events_dir)
        if result:
            elapsed, events = result
            rate = events / elapsed
            print(
                f"  trailscraper select|generate (1 day) {elapsed:6.1f} s  {rate:10,.0f} events/s"
                f"  -> ciem's whole run is {total / run / rate:.1f}x faster per event"
            )


if __name__ == "__main__":
    main()
