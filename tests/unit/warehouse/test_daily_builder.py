"""The daily aggregates built for several days on one connection (`daily_builder`): a day with
nothing landed is written without running the models, and must be exactly what the models give
on it; a day with events after it still gets its own rows (no view of the previous day kept)."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import pipelines.lib.warehouse.daily as daily
from pipelines.lib.lake import Lake, write_parquet
from pipelines.lib.land.cloudtrail import CloudTrailSource
from pipelines.lib.land.cloudtrail_landing import land_day
from pipelines.lib.reference.csvs import load_reference
from pipelines.lib.reference.event_map import build_event_action_map

EMPTY, BUSY = date(2026, 11, 9), date(2026, 11, 10)
EVENT = {
    "eventVersion": "1.08",
    "eventID": "e-1",
    "eventTime": "2026-11-10T08:00:00Z",
    "eventSource": "s3.amazonaws.com",
    "eventName": "ListBuckets",
    "awsRegion": "us-east-1",
    "recipientAccountId": "123456789012",
    "userIdentity": {
        "type": "IAMUser",
        "arn": "arn:aws:iam::123456789012:user/alice",
        "accountId": "123456789012",
    },
}


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    base = tmp_path_factory.mktemp("daily")
    trail = base / "AWSLogs" / "123456789012" / "CloudTrail" / "us-east-1" / "2026" / "11" / "10"
    trail.mkdir(parents=True)
    name = "123456789012_CloudTrail_us-east-1_20261110T0800Z_a.json.gz"
    (trail / name).write_bytes(gzip.compress(json.dumps({"Records": [EVENT]}).encode()))
    lake = Lake.at(base / "lake")
    write_parquet(build_event_action_map(), lake.table_path("ref_event_action_map"))
    write_parquet(load_reference("ref_error_codes"), lake.table_path("ref_error_codes"))
    for day in (EMPTY, BUSY):
        land_day(CloudTrailSource(base / "AWSLogs"), lake, day)
    return lake


def _tables(lake: Lake, day: date) -> dict:
    return {name: pq.read_table(lake.daily_path(name, day)) for name in daily.DAILY_MODELS}


def test_an_empty_day_is_written_as_the_models_would_write_it(
    lake: Lake, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert daily._nothing_landed(lake, EMPTY) and not daily._nothing_landed(lake, BUSY)
    with daily.daily_builder(lake) as build:
        assert build(EMPTY) == dict.fromkeys(daily.DAILY_MODELS, 0)
    shortcut = _tables(lake, EMPTY)
    monkeypatch.setattr(daily, "_nothing_landed", lambda lake, day: False)
    with daily.daily_builder(lake) as build:
        build(EMPTY)
    by_models = _tables(lake, EMPTY)
    for name in daily.DAILY_MODELS:
        assert shortcut[name].schema.equals(by_models[name].schema, check_metadata=True), name
        assert shortcut[name].num_rows == by_models[name].num_rows == 0


def test_days_built_on_one_connection_equal_days_built_alone(lake: Lake) -> None:
    with daily.daily_builder(lake) as build:
        together = {day: build(day) for day in (EMPTY, BUSY, EMPTY, BUSY)}
        tables = _tables(lake, BUSY)
    alone = daily.build_daily(lake, BUSY)
    assert together[BUSY] == alone and alone["usage_daily"] == 1
    assert together[EMPTY] == dict.fromkeys(daily.DAILY_MODELS, 0)
    for name, table in _tables(lake, BUSY).items():
        assert table.equals(tables[name]), name
