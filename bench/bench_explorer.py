"""Explorer responsiveness on a generated large warehouse (issue 7: under one second to switch
group-by or open a panel with 10,000 detections).

    .venv/bin/python bench/bench_explorer.py [--detections 10000] [--repeat 5]

Builds the warehouse (tests/browser/warehouse.py `build_large`), then in headless Chromium,
for both the live page (`ciem explorer`) and the static snapshot (file://): the time from a
click on a group-by button to the list rendered, and from a click on a detection to its panel
shown (median and max of --repeat). Also the snapshot's size and build time. The same
measurements on a small warehouse (--baseline detections, 100 by default) in the same run give
the baseline: each figure is also printed as a ratio to it, so a noisy machine shows as noise in
both.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from pipelines.lib.serve.explorer.page import write_snapshot  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, start_explorer, stop  # noqa: E402
from tests.browser.warehouse import build_large  # noqa: E402


def _render_count(page: Page) -> int:
    return int(page.get_attribute('[data-testid="list"]', "data-render") or 0)


def measure(page: Page, url: str, repeat: int) -> dict[str, list[float]]:
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_selector('body[data-ready="1"]', timeout=120_000)
    times: dict[str, list[float]] = {"first load": [time.perf_counter() - started]}
    for _ in range(repeat):
        for mode in ("resource", "none", "risk"):
            before = _render_count(page)
            t = time.perf_counter()
            page.click(f'[data-testid="groupby-{mode}"]')
            page.wait_for_function(
                f"Number(document.querySelector('[data-testid=list]').dataset.render) > {before}"
            )
            times.setdefault(f"group by {mode}", []).append(time.perf_counter() - t)
    page.click('[data-testid="groupby-none"]')
    rows = page.query_selector_all('[data-testid="detection-row"]')
    for i in range(repeat):
        page.keyboard.press("Escape")
        row = rows[i * 7 % len(rows)]
        did = row.get_attribute("data-id")
        t = time.perf_counter()
        row.click()
        page.wait_for_selector(f'[data-testid="panel"][data-loaded-id="{did}"]')
        times.setdefault("open panel", []).append(time.perf_counter() - t)
    return times


def run_size(detections: int, repeat: int) -> dict[str, dict[str, list[float]]]:
    """Timings per page (live, static) for a generated warehouse of `detections`."""
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="ciem-bench-explorer-") as tmp:
        t = time.perf_counter()
        lake = build_large(Path(tmp), detections)
        print(f"warehouse: {detections:,} detections built in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        path, count = write_snapshot(lake)
        size, took = path.stat().st_size / 2**20, time.perf_counter() - t
        print(f"static snapshot: {count:,} detections, {size:.1f} MiB, {took:.1f} s")
        proc, url = start_explorer(lake.root)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for label, target in (("live", url), ("static", path.as_uri())):
                    page = browser.new_page(viewport={"width": 1400, "height": 900})
                    results[label] = measure(page, target, repeat)
                    page.close()
                browser.close()
        finally:
            stop(proc)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detections", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=100, help="detections of the baseline")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    baseline = run_size(args.baseline, args.repeat)
    large = run_size(args.detections, args.repeat)
    for label, timings in large.items():
        print(f"\n{label}: {args.detections:,} detections (ratio to {args.baseline:,})")
        for name, values in timings.items():
            median = statistics.median(values)
            ratio = median / statistics.median(baseline[label][name])
            print(
                f"  {name:<20} median {1000 * median:7.0f} ms   max {1000 * max(values):7.0f} ms"
                f"   {ratio:5.1f}x the baseline"
            )


if __name__ == "__main__":
    main()
