"""Benchmark of the whole `ciem run` on adversarial organizations (issue 11, item 2), against
`cloudsplaining scan` over the same accounts in the same run.

    .venv/bin/python bench/bench_scale.py [--accounts 10,100] [--repeat 3]
        [--cloudsplaining PATH] [--cloudsplaining-accounts N] [--baseline CHECKOUT] [--logs DIR]

For each size: generates (once, cached in bench/data/) the adversarial organization of
`bench/adversarial_org.py` (N accounts x 1,000 principals), runs `ciem run` on it with an empty
CloudTrail folder `--repeat` times, each in a fresh lake, and reports the median wall time and the
peak RSS of the whole process tree (the sum of the RSS of the process and all its descendants,
sampled from /proc every 50 ms). Then runs `cloudsplaining scan` on each account's
authorization details of the smallest size (one process per account, one after the other) and
reports the sum of their wall times and the largest peak, and the ratios. `--baseline CHECKOUT`
also runs `ciem run` from another checkout (e.g. a worktree of `main`) on the same organizations,
alternating with this one, and reports the ratio. The slowest models of the last run of each
size (the models step logs each model's time) are listed under the table, and with more than one
size a table of each model's time and rows at every size, marking those whose time grows faster
than the organization (what would stop the 100-account run). Writes the tables to
bench/results/bench_scale.md. The machine may be shared: compare the ratios, measured in the same
run, rather than the absolute figures.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from adversarial_org import ORG_VERSION, generate  # noqa: E402

DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"
AS_OF = "2026-11-20"


def _tree_rss(root: int) -> int:
    """RSS in bytes of `root` and every descendant (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            statm = Path(entry.path, "statm").read_text().split()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(statm[1]) * page
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str, float]:
    """Runs cmd; (wall seconds, peak RSS of its process tree in bytes, its output, CPU seconds of
    the process and the descendants it waited for). On a shared machine the CPU seconds compare
    two programs better than wall time."""
    cpu = _children_cpu()
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.05)
        wall = time.perf_counter() - started
        cpu = _children_cpu() - cpu
        out.seek(0)
        text = out.read()
    if proc.returncode != 0:
        # the error lines and the models that ran (the progress output drowns them otherwise)
        errors = [line for line in text.splitlines() if line.startswith("ciem: error")]
        raise RuntimeError(
            f"{cmd[0]} failed ({proc.returncode}) after {wall:.1f} s, peak "
            f"{peak / 2**20:,.0f} MiB:\n"
            + "\n".join(errors or [text[-3000:]])
            + f"\nslowest models: {slowest_models(text, 20)}"
        )
    return wall, peak, text, cpu


def organization(accounts: int, principals: int) -> tuple[Path, list[Path]]:
    """The cached snapshot folder of an adversarial organization, and its per-account files."""
    snapshot = DATA / f"adversarial-{accounts}x{principals}" / AS_OF
    done = snapshot.parent / ".complete"  # holds the generator's version
    if not done.exists() or done.read_text() != str(ORG_VERSION):
        shutil.rmtree(snapshot.parent, ignore_errors=True)
        generate(snapshot, accounts, principals)
        done.write_text(str(ORG_VERSION))
    files = sorted(snapshot.glob("*/iam/get-account-authorization-details.json"))
    return snapshot, files


LOGS: Path | None = None  # --logs: each run's output is kept there


def ciem_run(snapshot: Path, work: Path, code: Path = ROOT) -> tuple[float, int, str, float]:
    """`ciem run` of the checkout `code` on the snapshot, in a fresh lake (its output kept in
    `LOGS` when set)."""
    cloudtrail = work / "no-cloudtrail"
    cloudtrail.mkdir(exist_ok=True)
    lake = work / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(code)}
    cmd = [sys.executable, "-m", "pipelines.cli", "run", "--snapshot", str(snapshot)]
    cmd += ["--cloudtrail", str(cloudtrail), "--as-of", AS_OF, "--lake", str(lake)]
    try:
        result = measured(cmd, env)
        if LOGS is not None:
            LOGS.mkdir(parents=True, exist_ok=True)
            runs = len(list(LOGS.glob(f"{snapshot.parent.name}-*.log")))
            (LOGS / f"{snapshot.parent.name}-{runs + 1}.log").write_text(result[2])
        return result
    finally:
        shutil.rmtree(lake, ignore_errors=True)


MODEL_LINE = re.compile(r"^✓ (\S+)\s+([\d,]+) rows\s+([\d.]+)s", re.MULTILINE)


def model_times(output: str) -> dict[str, tuple[float, int]]:
    """Each model's time (s) and rows in a run's output (the models step logs one line each)."""
    return {
        name: (float(t), int(rows.replace(",", "")))
        for name, rows, t in MODEL_LINE.findall(output.replace("\r", "\n"))
    }


def slowest_models(output: str, count: int = 8) -> str:
    """The `count` slowest models of a run's output, as `name s (rows)`."""
    found = sorted(((t, n, r) for n, (t, r) in model_times(output).items()), reverse=True)
    return ", ".join(f"{n} {t:.0f} s ({r:,} rows)" for t, n, r in found[:count])


def growth_table(outputs: dict[int, str], count: int = 25) -> list[str]:
    """The slowest models of the largest size, with their time and rows at every size and the
    ratios largest/smallest: a model whose time grows faster than the organization (ratio of
    time above the ratio of accounts) is marked, it is what would break the 100-account run."""
    sizes = sorted(outputs)
    small, large = sizes[0], sizes[-1]
    times = {size: model_times(text) for size, text in outputs.items()}
    slowest = sorted(times[large], key=lambda n: -times[large][n][0])[:count]
    header = " | ".join(f"{size} accounts s (rows)" for size in sizes)
    lines = [
        "",
        f"Model times by size (last run of each; × = {large} accounts / {small}, "
        f"organization ×{large / small:g}; ▲ time grows more than 1.25× as fast):",
        "",
        f"| model | {header} | × time | × rows |",
        "|---|" + "---:|" * (len(sizes) + 2),
    ]
    for name in slowest:
        cells = []
        for size in sizes:
            t, r = times[size].get(name, (float("nan"), 0))
            cells.append(f"{t:.1f} ({r:,})")
        t0, r0 = times[small].get(name, (0.0, 0))
        t1, r1 = times[large][name]
        x_time = t1 / t0 if t0 else float("inf")
        mark = " ▲" if x_time > 1.25 * large / small else ""
        x_rows = f"{r1 / r0:.2f}" if r0 else "–"
        lines.append(f"| `{name}` | {' | '.join(cells)} | {x_time:.2f}{mark} | {x_rows} |")
    return lines


def cloudsplaining(exe: str, files: list[Path], work: Path) -> tuple[float, int, float]:
    wall, peak, cpu = 0.0, 0, 0.0
    for i, path in enumerate(files):
        out = work / f"cloudsplaining-{i}"
        out.mkdir(exist_ok=True)
        w, p, _, c = measured(
            [exe, "scan", "--input-file", str(path), "--output", str(out), "--skip-open-report"]
        )
        wall, peak, cpu = wall + w, max(peak, p), cpu + c
        shutil.rmtree(out, ignore_errors=True)
    return wall, peak, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", default="10", help="sizes, in accounts (comma-separated)")
    parser.add_argument("--principals", type=int, default=1000, help="per account")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cloudsplaining", help="cloudsplaining executable (default: PATH)")
    parser.add_argument(
        "--cloudsplaining-accounts",
        type=int,
        help="scan only this many accounts of the smallest size (default: all of them)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout (e.g. a worktree of main) to run on the same organizations",
    )
    parser.add_argument("--logs", type=Path, help="keep each run's output in this folder")
    args = parser.parse_args()
    global LOGS
    LOGS = args.logs
    sizes = [int(s) for s in args.accounts.split(",")]
    lines = [
        f"# `ciem run` on adversarial organizations ({args.principals:,} principals per account,"
        f" no CloudTrail), median of {args.repeat}",
        "",
        "| accounts | principals | wall s (median) | runs s | CPU s (median) "
        "| peak RSS MiB (max) |",
        "|---:|---:|---:|---|---:|---:|",
    ]
    results: dict[int, tuple[float, int]] = {}
    baseline: dict[int, tuple[float, int]] = {}
    cpu_of: dict[int, float] = {}
    outputs: dict[int, str] = {}
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for accounts in sizes:
            snapshot, _ = organization(accounts, args.principals)
            walls, peaks, base_walls, base_peaks = [], [], [], []
            cpus: list[float] = []
            base_cpus: list[float] = []
            output = base_output = ""
            for _ in range(args.repeat):
                wall, peak, output, cpu = ciem_run(snapshot, work)
                walls.append(wall)
                peaks.append(peak)
                cpus.append(cpu)
                print(
                    f"  {accounts} accounts: {wall:.1f} s, {cpu:.0f} CPU s, "
                    f"{peak / 2**20:,.0f} MiB",
                    flush=True,
                )
                if args.baseline:
                    wall, peak, base_output, cpu = ciem_run(snapshot, work, args.baseline)
                    base_walls.append(wall)
                    base_peaks.append(peak)
                    base_cpus.append(cpu)
                    print(
                        f"  baseline: {wall:.1f} s, {cpu:.0f} CPU s, {peak / 2**20:,.0f} MiB",
                        flush=True,
                    )
            results[accounts] = (statistics.median(walls), max(peaks))
            cpu_of[accounts] = statistics.median(cpus)
            lines.append(
                f"| {accounts} | {accounts * args.principals:,} | {statistics.median(walls):.1f} "
                f"| {', '.join(f'{w:.1f}' for w in walls)} | {statistics.median(cpus):.0f} "
                f"| {max(peaks) / 2**20:,.0f} |"
            )
            notes.append(f"slowest models, {accounts} accounts: {slowest_models(output)}")
            outputs[accounts] = output
            if args.baseline:
                baseline[accounts] = (statistics.median(base_walls), max(base_peaks))
                lines.append(
                    f"| {accounts} (baseline) | {accounts * args.principals:,} "
                    f"| {statistics.median(base_walls):.1f} "
                    f"| {', '.join(f'{w:.1f}' for w in base_walls)} "
                    f"| {statistics.median(base_cpus):.0f} | {max(base_peaks) / 2**20:,.0f} |"
                )
                notes.append(
                    f"slowest models, {accounts} accounts, baseline: {slowest_models(base_output)}"
                )
        lines += ["", *notes]
        if len(outputs) > 1:
            lines += growth_table(outputs)
        for accounts, (wall, peak) in baseline.items():
            ours, our_peak = results[accounts]
            lines.append(
                f"\n{accounts} accounts vs the baseline {args.baseline}: time x{ours / wall:.2f}, "
                f"peak RSS x{our_peak / peak:.2f}"
            )
        base = min(sizes)
        for accounts in sizes:
            if accounts != base:
                wall, peak = results[accounts]
                lines.append(
                    f"\n{accounts} vs {base} accounts: time ×{wall / results[base][0]:.2f}, "
                    f"peak RSS ×{peak / results[base][1]:.2f}"
                )
        exe = args.cloudsplaining or shutil.which("cloudsplaining")
        if exe:
            _, files = organization(base, args.principals)
            files = files[: args.cloudsplaining_accounts or len(files)]
            c_wall, c_peak, c_cpu = cloudsplaining(exe, files, work)
            wall, peak = results[base]
            scale = len(files) / base
            lines += [
                "",
                f"cloudsplaining scan, {len(files)} of the {base} accounts, one after the other: "
                f"{c_wall:.1f} s ({c_cpu:.0f} CPU s), peak {c_peak / 2**20:,.0f} MiB",
                f"ciem run ({base} accounts) is {c_wall / scale / wall:.1f}x faster than "
                f"cloudsplaining over the same accounts (CPU time: "
                f"{c_cpu / scale / cpu_of[base]:.1f}x)"
                + (f" (cloudsplaining time scaled by {base}/{len(files)})" if scale != 1 else ""),
            ]
        else:
            lines.append("\ncloudsplaining: not found (pass --cloudsplaining PATH); skipped")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench_scale.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
