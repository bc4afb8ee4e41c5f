"""The two daily partitions of the code location and the window that joins them.

- `cloudtrail_days`: a CloudTrail delivery day (landing and the daily aggregates).
- `as_of_days`: an evaluation day (the snapshot used, every model, the history of that day).

A model partition reads the CloudTrail days of its window through a `TimeWindowPartitionMapping`
(`start_offset = -(window_days - 1)`), so Dagster knows that as-of 2026-11-20 needs 2026-11-06…20.

The partitions follow the data. For a local capture (its newest day is older than two days), the
CloudTrail days are those the folder holds, and the first as-of day is the first with a whole
window and a snapshot; so "Materialize all" in the UI offers exactly the days that can be
answered (the demo: CloudTrail 2026-11-01…20, as-of 2026-11-19…20). A live source (an S3 prefix,
or a folder that received a delivery in the last two days) rolls with the calendar, as the
nightly schedule needs. `CIEM_LATEST_DAY=rolling` forces rolling, a date fixes the last day, and
`CIEM_CLOUDTRAIL_START` the first (default: the source's first day, else November 2013).
`ciem run` builds the definitions for its own as-of day and window: the same assets, sized to it.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from pipelines.lib.land.sources import SnapshotSource, local_cloudtrail_days

# CloudTrail began in November 2013: the first day when nothing else says where the data starts.
CLOUDTRAIL_EPOCH = date(2013, 11, 1)
ROLLING = "rolling"
# A local folder whose newest day is this recent is a live source (deliveries still arrive).
LIVE_DAYS = 2


@dataclass(frozen=True)
class Days:
    """The day ranges the definitions are built for. `last` None = rolling with the calendar
    (CloudTrail up to today, as-of days up to yesterday)."""

    first_cloudtrail: date
    first_as_of: date
    last: date | None
    window_days: int
    # Raw CloudTrail is also read further back: credential use over `unused_days` (90).
    lookback_days: int = 0

    @property
    def cloudtrail_days(self) -> dg.DailyPartitionsDefinition:
        if self.last is None:
            return dg.DailyPartitionsDefinition(
                start_date=_iso(self.first_cloudtrail), end_offset=1
            )
        return dg.DailyPartitionsDefinition(
            start_date=_iso(self.first_cloudtrail),
            end_date=_iso(self.last + timedelta(days=1)),
            end_offset=self._through_last,
        )

    @property
    def as_of_days(self) -> dg.DailyPartitionsDefinition:
        if self.last is None:
            return dg.DailyPartitionsDefinition(start_date=_iso(self.first_as_of), end_offset=0)
        return dg.DailyPartitionsDefinition(
            start_date=_iso(self.first_as_of),
            end_date=_iso(self.last + timedelta(days=1)),
            end_offset=self._through_last,
        )

    @property
    def _through_last(self) -> int:
        """Dagster offers a day once it has ended; a fixed last day of today (or later: `ciem
        run --as-of` today) is offered all the same."""
        assert self.last is not None
        return max(0, (self.last - date.today()).days + 1)

    @property
    def window(self) -> dg.TimeWindowPartitionMapping:
        """as-of day D → the CloudTrail days D-(window_days-1) … D (those before the first
        CloudTrail partition do not exist and are not asked for)."""
        return _days_before(self.window_days)

    @property
    def lookback(self) -> dg.TimeWindowPartitionMapping:
        """as-of day D → the raw CloudTrail days that credential use reads: the window, or the
        `unused_days` before D if longer."""
        return _days_before(max(self.window_days, self.lookback_days))


def _days_before(days: int) -> dg.TimeWindowPartitionMapping:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)  # the flag is beta since 1.7
        return dg.TimeWindowPartitionMapping(
            start_offset=-(days - 1), end_offset=0, allow_nonexistent_upstream_partitions=True
        )


def _iso(day: date) -> str:
    return day.isoformat()


def run_days(as_of: date, window_days: int, lookback_days: int = 0) -> Days:
    """`ciem run --as-of D --window-days N`: the window's CloudTrail days and the one as-of day
    (credential use reads whatever earlier days the lake holds, as it always did)."""
    return Days(
        first_cloudtrail=as_of - timedelta(days=window_days - 1),
        first_as_of=as_of,
        last=as_of,
        window_days=window_days,
        lookback_days=lookback_days,
    )


def planned_days(
    cloudtrail: str,
    snapshots: SnapshotSource,
    window_days: int,
    env: dict[str, str] | None = None,
    lookback_days: int = 0,
) -> Days:
    """The days the UI and the schedules offer, from the data (see the module docstring).
    `CIEM_CLOUDTRAIL_START` and `CIEM_LATEST_DAY` override what the data says."""
    env = dict(os.environ) if env is None else env
    found = None if "://" in cloudtrail else local_cloudtrail_days(Path(cloudtrail))
    start_setting = env.get("CIEM_CLOUDTRAIL_START", "")
    first = (
        date.fromisoformat(start_setting[:10])
        if start_setting
        else (found[0] if found else CLOUDTRAIL_EPOCH)
    )
    latest_setting = env.get("CIEM_LATEST_DAY", "")
    if latest_setting == ROLLING:
        last = None
    elif latest_setting:
        last = date.fromisoformat(latest_setting)
    elif found and found[1] >= date.today() - timedelta(days=LIVE_DAYS):
        last = None  # the folder receives deliveries: a live source rolls with the calendar
    else:
        last = found[1] if found else None  # a capture: its days are fixed
    first_as_of = first + timedelta(days=window_days - 1)
    first_snapshot = snapshots.first_day()
    if first_snapshot is not None:
        first_as_of = max(first_as_of, first_snapshot)
    if last is not None:
        # Less data than one window: the last day is still offered (its window is what exists).
        first_as_of = min(first_as_of, last)
        first = min(first, last)
    return Days(first, first_as_of, last, window_days, lookback_days)
