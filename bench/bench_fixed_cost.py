"""Benchmark of `ciem run`'s fixed cost (issue 11: an empty account in at most 6 s), against
another revision measured in the same run.

    .venv/bin/python bench/bench_fixed_cost.py [--repeat 3] [--baseline REV]

The input is an account with nothing in it: a snapshot with one account folder holding an empty
authorization-details file, and an empty CloudTrail folder. `ciem run` (the `ciem` executable of
this venv) runs on it `--repeat` times in a new lake each time, from this checkout, alternating
with a checkout of `--baseline` (default `main`: `git archive REV` unpacked in a temporary folder,
its bytecode compiled as `make setup` compiles this one's; `--baseline PATH` takes a checkout
as it is), each with its own PYTHONPATH. Reports, per side, the median wall time, the runs,
the median CPU seconds, the peak RSS of the process tree (bench_scale's `measured`) and the load
average before each run, then the ratio of the medians. The machine may be shared: compare the
ratio and the CPU seconds, measured in the same run, rather than the absolute figures. Writes
the table to bench/results/fixed_cost.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scale import AS_OF, RESULTS, ROOT, measured

CIEM = Path(sys.executable).parent / "ciem"


def empty_account(work: Path) -> tuple[Path, Path]:
    """A snapshot of one account with an empty authorization-details file, and an empty
    CloudTrail folder (README "Inputs")."""
    snapshot = work / "snapshot"
    iam = snapshot / "111111111111" / "iam"
    iam.mkdir(parents=True)
    (iam / "get-account-authorization-details.json").write_text(
        '{"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}\n'
    )
    cloudtrail = work / "cloudtrail"
    cloudtrail.mkdir()
    return snapshot, cloudtrail


def checkout(baseline: str, work: Path) -> Path:
    """A folder with the code of `baseline`: a path as it is, else `git archive` of the
    revision, with its bytecode compiled."""
    if Path(baseline).is_dir():
        return Path(baseline).resolve()
    target = work / "baseline"
    target.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", baseline], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    compile_bytecode(target)
    return target


def compile_bytecode(code: Path) -> None:
    """As `make setup`: with PYTHONDONTWRITEBYTECODE set, Python would compile every module on
    every start."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(code / "pipelines")],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def ciem_run(code: Path, snapshot: Path, cloudtrail: Path, lake: Path) -> tuple[float, int, float]:
    """(wall s, peak RSS bytes, CPU s) of `ciem run` from the checkout `code` in a new lake."""
    shutil.rmtree(lake, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(code)}
    cmd = [str(CIEM), "run", "--snapshot", str(snapshot), "--cloudtrail", str(cloudtrail)]
    cmd += ["--as-of", AS_OF, "--lake", str(lake)]
    try:
        wall, peak, _, cpu = measured(cmd, env)
    finally:
        shutil.rmtree(lake, ignore_errors=True)
    return wall, peak, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--baseline", default="main", help="a git revision (default main) or a checkout folder"
    )
    args = parser.parse_args()
    runs: dict[str, list[tuple[float, int, float, float]]] = {"this checkout": [], "baseline": []}
    with tempfile.TemporaryDirectory(prefix="ciem-fixed-cost-") as tmp:
        work = Path(tmp)
        snapshot, cloudtrail = empty_account(work)
        compile_bytecode(ROOT)
        codes = {"this checkout": ROOT, "baseline": checkout(args.baseline, work)}
        # one run of each first, not counted: the page cache and the reference cache warm up
        for code in codes.values():
            ciem_run(code, snapshot, cloudtrail, work / "lake")
        for i in range(args.repeat):
            for side, code in codes.items():
                load = os.getloadavg()[0]
                wall, peak, cpu = ciem_run(code, snapshot, cloudtrail, work / "lake")
                runs[side].append((wall, peak, cpu, load))
                print(
                    f"  run {i + 1}, {side}: {wall:.2f} s, {cpu:.2f} CPU s, "
                    f"{peak / 2**20:,.0f} MiB (load {load:.1f})",
                    flush=True,
                )
    lines = [
        f"# `ciem run` on an empty account (one account, empty authorization details, no "
        f"CloudTrail, a new lake each run), median of {args.repeat}, interleaved",
        "",
        "| code | wall s (median) | runs s | CPU s (median) | peak RSS MiB (max) | load avg |",
        "|---|---:|---|---:|---:|---|",
    ]
    medians = {}
    for side, results in runs.items():
        walls = [r[0] for r in results]
        medians[side] = (statistics.median(walls), statistics.median(r[2] for r in results))
        name = "this checkout" if side == "this checkout" else f"baseline ({args.baseline})"
        lines.append(
            f"| {name} | {medians[side][0]:.2f} | {', '.join(f'{w:.2f}' for w in walls)} "
            f"| {medians[side][1]:.2f} | {max(r[1] for r in results) / 2**20:,.0f} "
            f"| {', '.join(f'{r[3]:.1f}' for r in results)} |"
        )
    ours, base = medians["this checkout"], medians["baseline"]
    lines.append(
        f"\nthis checkout vs the baseline: wall time x{ours[0] / base[0]:.2f}, "
        f"CPU time x{ours[1] / base[1]:.2f}"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "fixed_cost.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
