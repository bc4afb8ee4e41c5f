"""`--workers 1` against `--workers N` (issue 11, item 4): the whole command, wall time (median of
`--repeat`) and peak RSS of the process tree (every step process included), each on a new lake.

    .venv/bin/python bench/bench_workers.py [--workers 2] [--repeat 3] [--events 300000]

1. `ciem demo` (two as-of days of the demo organization, 20 small CloudTrail days).
2. `ciem run` on generated CloudTrail (bench/bench_cloudtrail.py's generator, cached under
   bench/data/; `--events 0` skips it) over 15 days, with the demo's snapshot.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bench_cloudtrail():  # its generator (worker processes import it by name) and TreeRss
    sys.path.insert(0, str(ROOT / "bench"))
    import bench_cloudtrail

    return bench_cloudtrail


def _time(args: list[str], tree_rss: type) -> tuple[float, int]:
    with tempfile.TemporaryDirectory(prefix="ciem-bench-workers-") as tmp:
        command = [sys.executable, "-m", "pipelines.cli", *args, "--lake", f"{tmp}/lake"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with tree_rss() as rss:
            started = time.perf_counter()
            subprocess.run(command, check=True, env=env, cwd=ROOT, capture_output=True)
            elapsed = time.perf_counter() - started
        return elapsed, rss.peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--days", type=int, default=15)
    args = parser.parse_args()
    bench = _bench_cloudtrail()
    cases = [("ciem demo", ["demo"])]
    if args.events:
        events = bench.generate(args.events, args.days)
        as_of = bench.START.fromordinal(bench.START.toordinal() + args.days - 1).isoformat()
        cases.append(
            (
                f"ciem run, {args.events:,} events over {args.days} days",
                [
                    "run",
                    "--snapshot",
                    str(ROOT / "data/demo/snapshots/2026-11-19"),
                    "--cloudtrail",
                    str(events),
                    "--as-of",
                    as_of,
                    "--window-days",
                    str(args.days),
                ],
            )
        )
    print(f"{os.cpu_count()} cores; median of {args.repeat}; peak RSS of the process tree\n")
    print("| input | workers | wall s (median) | runs | peak RSS MiB (max) |")
    print("|---|---|---|---|---|")
    for label, command in cases:
        for workers in (1, args.workers):
            runs = [
                _time([*command, "--workers", str(workers)], bench.TreeRss)
                for _ in range(args.repeat)
            ]
            times = [t for t, _ in runs]
            print(
                f"| {label} | {workers} | {statistics.median(times):.1f} | "
                f"{', '.join(f'{t:.1f}' for t in times)} | "
                f"{max(r for _, r in runs) / 2**20:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
