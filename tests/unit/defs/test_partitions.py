"""The days the code location offers follow the data; a run uses the newest snapshot on or
before its as-of day."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from pipelines.defs.partitions import CLOUDTRAIL_EPOCH, planned_days, run_days
from pipelines.lib.land.sources import SnapshotNotFound, SnapshotSource, local_cloudtrail_days

REPO = Path(__file__).resolve().parents[3]
DEMO = REPO / "data" / "demo"


def _trail(root: Path, *days: date) -> Path:
    for day in days:
        folder = root / "AWSLogs" / "111122223333" / "CloudTrail" / "eu-west-1"
        folder = folder / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
        folder.mkdir(parents=True)
        (folder / f"111122223333_CloudTrail_eu-west-1_{day:%Y%m%d}T0000Z_x.json.gz").touch()
    return root


def test_the_demo_offers_its_two_as_of_days_and_its_twenty_cloudtrail_days() -> None:
    source = SnapshotSource(root=DEMO / "snapshots")
    days = planned_days(str(DEMO / "cloudtrail"), source, 15, env={})
    assert days.cloudtrail_days.get_partition_keys() == [
        (date(2026, 11, 1) + timedelta(days=i)).isoformat() for i in range(20)
    ]
    # The first as-of day with a whole window and a snapshot taken on or before it.
    assert days.as_of_days.get_partition_keys() == ["2026-11-19", "2026-11-20"]


def test_a_window_maps_an_as_of_day_to_its_cloudtrail_days() -> None:
    days = planned_days(str(DEMO / "cloudtrail"), SnapshotSource(root=DEMO / "snapshots"), 15, {})
    mapped = days.window.get_upstream_mapped_partitions_result_for_partitions(
        days.as_of_days.subset_with_partition_keys(["2026-11-20"]),
        days.as_of_days,
        days.cloudtrail_days,
    ).partitions_subset.get_partition_keys()
    assert sorted(mapped) == [
        (date(2026, 11, 6) + timedelta(days=i)).isoformat() for i in range(15)
    ]


def test_settings_override_the_data_and_a_live_source_rolls(tmp_path: Path) -> None:
    folder = SnapshotSource(folder=tmp_path)
    capture = _trail(tmp_path / "capture", date(2020, 3, 1), date(2020, 3, 4))
    # Less data than a window: the last day is still offered.
    short = planned_days(str(capture), folder, 15, env={})
    assert short.as_of_days.get_partition_keys() == ["2020-03-04"]
    assert short.cloudtrail_days.get_partition_keys()[0] == "2020-03-01"
    fixed = planned_days(str(capture), folder, 2, env={"CIEM_LATEST_DAY": "2020-03-10"})
    assert fixed.as_of_days.get_partition_keys()[-1] == "2020-03-10"
    assert fixed.as_of_days.get_partition_keys()[0] == "2020-03-02"
    live = _trail(tmp_path / "live", date.today() - timedelta(days=1))
    assert planned_days(str(live), folder, 15, env={}).last is None
    assert planned_days("s3://bucket/trail", folder, 15, env={}).last is None
    empty = tmp_path / "empty"
    empty.mkdir()
    assert planned_days(str(empty), folder, 15, env={}).first_cloudtrail == CLOUDTRAIL_EPOCH
    assert planned_days(str(capture), folder, 15, env={"CIEM_LATEST_DAY": "rolling"}).last is None


def test_a_run_is_sized_to_its_as_of_day_and_window() -> None:
    days = run_days(date(2018, 11, 28), 15)
    assert days.as_of_days.get_partition_keys() == ["2018-11-28"]
    assert days.cloudtrail_days.get_partition_keys()[0] == "2018-11-14"
    assert days.cloudtrail_days.get_partition_keys()[-1] == "2018-11-28"


def test_a_run_uses_the_newest_snapshot_on_or_before_its_day(tmp_path: Path) -> None:
    for name in ("2026-11-10", "2026-11-15", "not-a-day", "2026-13-40"):
        (tmp_path / name).mkdir()
    source = SnapshotSource(root=tmp_path)
    assert source.for_day(date(2026, 11, 14)) == tmp_path / "2026-11-10"
    assert source.for_day(date(2026, 11, 15)) == tmp_path / "2026-11-15"
    assert source.for_day(date(2027, 1, 1)) == tmp_path / "2026-11-15"
    assert source.first_day() == date(2026, 11, 10)
    with pytest.raises(SnapshotNotFound) as raised:
        source.for_day(date(2026, 11, 9))
    assert str(raised.value) == (
        f"no snapshot taken on or before 2026-11-09 under {tmp_path} "
        "(dated folders YYYY-MM-DD: 2026-11-10, 2026-11-15)"
    )
    assert SnapshotSource(folder=tmp_path / "not-a-day").for_day(date(2001, 1, 1)) == (
        tmp_path / "not-a-day"
    )


def test_the_days_of_a_local_folder_come_from_its_folders_and_delivery_names(
    tmp_path: Path,
) -> None:
    _trail(tmp_path, date(2026, 2, 28), date(2026, 3, 2))
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "111122223333_CloudTrail_us-east-1_20260227T2355Z_a.json.gz").touch()
    (tmp_path / "exports" / "notes.txt").touch()
    assert local_cloudtrail_days(tmp_path) == (date(2026, 2, 27), date(2026, 3, 2))
    assert local_cloudtrail_days(tmp_path / "exports" / "none") is None
