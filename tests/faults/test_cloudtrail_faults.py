"""Hostile CloudTrail never fails the run and never counts twice (issue 18, items 6 and 7).

One damaged copy of the demo's CloudTrail adds, to one day of one account: a file of hostile
records (a byte that is not UTF-8 inside the gzip, requestParameters nested 100,000 deep, an
event dated before CloudTrail existed, one dated three days after its delivery, one without
userIdentity, and a copy of a real event), the same delivery file under a second name, and on
the next day a redelivery of one event. Every day is landed and aggregated as `ciem run` does
(`land_day`, then `build_daily`) and compared with the clean demo: each bad record is
quarantined by file and record, each duplicate counted once, the unattributed event shown as
such, and nothing else changes. Before the fix the first two records raised out of the run
(UnicodeDecodeError, RecursionError) and the duplicates raised calls on the demo 4,366 -> 4,414.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import shutil
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.lake import Lake, write_parquet
from pipelines.lib.land.cloudtrail import CloudTrailSource, file_day
from pipelines.lib.land.cloudtrail_landing import land_day, manifest_path
from pipelines.lib.reference.csvs import load_reference
from pipelines.lib.reference.event_map import build_event_action_map
from pipelines.lib.warehouse.daily import build_daily
from tests.faults.harness import DEMO_CLOUDTRAIL

ORG_ACCOUNT = "AWSLogs/o-a1b2c3d4e5/111111111111/CloudTrail/eu-west-1/2026/11"
DAY, NEXT_DAY = "10", "11"
HOSTILE = "111111111111_CloudTrail_eu-west-1_20261110T2355Z_hostile000000000.json.gz"
COPY = "111111111111_CloudTrail_eu-west-1_20261110T2359Z_samefileagain000.json.gz"
REDELIVERY = "111111111111_CloudTrail_eu-west-1_20261111T0005Z_redelivered00000.json.gz"
DAYS = sorted({file_day(p) for p in DEMO_CLOUDTRAIL.rglob("*.json.gz")})


def _records(path: Path) -> list[dict]:
    return json.loads(gzip.decompress(path.read_bytes()))["Records"]


def _hostile_file(real: list[dict]) -> bytes:
    """Records 0..5 of the hostile file, as bytes (record 1 holds a byte that is not UTF-8)."""
    base = real[0]
    not_utf8 = {**copy.deepcopy(base), "eventID": "hostile-not-utf8", "userAgent": "@@FF@@"}
    deep = {**copy.deepcopy(base), "eventID": "hostile-deep", "requestParameters": "@@DEEP@@"}
    ancient = {
        **copy.deepcopy(base),
        "eventID": "hostile-2010",
        "eventTime": "2010-01-01T00:00:00Z",
    }
    future = {
        **copy.deepcopy(base),
        "eventID": "hostile-future",
        "eventTime": "2026-11-13T09:00:00Z",
    }
    nobody = {k: v for k, v in copy.deepcopy(base).items() if k != "userIdentity"}
    nobody["eventID"] = "hostile-nobody"
    text = json.dumps({"Records": [base, not_utf8, deep, ancient, future, nobody]})
    text = text.replace('"@@DEEP@@"', "[" * 100_000 + "]" * 100_000)
    return gzip.compress(text.encode().replace(b"@@FF@@", b"curl/\xff\xfe"))


@pytest.fixture(scope="module")
def refs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return {
        "ref_event_action_map": build_event_action_map(),
        "ref_error_codes": load_reference("ref_error_codes"),
    }


def _land(trail: Path, lake_dir: Path, refs: dict) -> Lake:
    """Every demo day landed, then aggregated, as `ciem run` does (no exception escapes)."""
    lake = Lake.at(lake_dir)
    for name, table in refs.items():
        write_parquet(table, lake.table_path(name))
    source = CloudTrailSource(trail)
    for day in DAYS:
        land_day(source, lake, day)
    for day in DAYS:
        build_daily(lake, day)
    return lake


def _rows(lake: Lake, sql: str) -> Counter:
    parquet = lake.root / "parquet"
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        for name in ("usage_daily", "event_counts_daily", "raw_cloudtrail_events", "quarantine"):
            if any((parquet / name).rglob("*.parquet")):
                con.execute(
                    f"create view {name} as select * from "
                    f"read_parquet('{parquet / name}/**/*.parquet', union_by_name = true)"
                )
        return Counter(con.execute(sql).fetchall())


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory, refs: dict) -> Lake:
    return _land(DEMO_CLOUDTRAIL, tmp_path_factory.mktemp("clean") / "lake", refs)


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory, refs: dict) -> tuple[Lake, dict]:
    base = tmp_path_factory.mktemp("damaged")
    trail = shutil.copytree(DEMO_CLOUDTRAIL, base / "cloudtrail")
    day_dir, next_dir = trail / ORG_ACCOUNT / DAY, trail / ORG_ACCOUNT / NEXT_DAY
    original = sorted(day_dir.glob("*.json.gz"))[0]
    real = _records(original)
    (day_dir / HOSTILE).write_bytes(_hostile_file(real))
    shutil.copy(original, day_dir / COPY)
    redelivered = real[-1]
    (next_dir / REDELIVERY).write_bytes(
        gzip.compress(json.dumps({"Records": [redelivered]}).encode())
    )
    facts = {"original": original.name, "real_ids": [r["eventID"] for r in real]}
    return _land(trail, base / "lake", refs), facts


def test_each_hostile_record_is_quarantined_by_file_record_and_reason(damaged):
    lake, _ = damaged
    got = _rows(
        lake,
        "select file, record, reason from quarantine where file like '%hostile%' "
        "and reason not like 'duplicate%'",
    )
    hostile = f"{ORG_ACCOUNT}/{DAY}/{HOSTILE}"
    assert set(got) == {
        (hostile, "Records[1]", "not UTF-8 text: byte 0xff"),
        (hostile, "Records[2]", "JSON nested too deeply"),
        (
            hostile,
            "Records[3]",
            "eventTime '2010-01-01T00:00:00Z' before CloudTrail existed (2013-11-01)",
        ),
        (
            hostile,
            "Records[4]",
            "eventTime '2026-11-13T09:00:00Z' more than one day after the file's delivery "
            "day 2026-11-10",
        ),
    }


def test_duplicates_are_landed_once_and_named(damaged, clean):
    """The same file under two names and a real event copied into another file of the same
    day: each eventID lands once that day, the other copies are quarantined as duplicates."""
    lake, facts = damaged
    per_day = _rows(
        lake,
        "select event_id, count(*) from raw_cloudtrail_events where day = '2026-11-10' "
        "and event_id is not null group by all having count(*) > 1",
    )
    assert per_day == Counter()
    duplicates = _rows(
        lake,
        "select regexp_extract(reason, '''([^'']+)''', 1) from quarantine "
        "where reason like 'duplicate eventID%'",
    )
    # each real record of the file has two extra copies (the renamed file; the hostile file's
    # copy of record 0), so the day holds it once and two copies are named
    ids = facts["real_ids"]
    assert duplicates == Counter({(ids[0],): 2, **{(i,): 1 for i in ids[1:]}})


def test_duplicates_count_once_in_the_daily_aggregates(damaged, clean):
    """Usage is exactly the clean demo's, also for the event redelivered on the next day
    (it lands in that day's partition too, and the aggregates count it in the earlier)."""
    lake, _ = damaged
    usage = "select * from usage_daily"
    assert _rows(lake, usage) == _rows(clean, usage)
    calls = "select sum(successful_calls) from usage_daily"
    assert _rows(lake, calls) == _rows(clean, calls)
    events = (
        "select * exclude (events, successful_events, unattributed_events) from event_counts_daily"
    )
    assert _rows(lake, events) == _rows(clean, events)


def test_an_event_without_user_identity_is_counted_as_unattributed(damaged, clean):
    lake, _ = damaged
    sql = (
        "select day, account_id, event_source, event_name, events, unattributed_events "
        "from event_counts_daily where unattributed_events > 0"
    )
    assert _rows(clean, sql) == Counter()
    [(day, account, source, name, events, unattributed)] = _rows(lake, sql)
    assert (str(day), account, unattributed) == ("2026-11-10", "111111111111", 1)
    before = _rows(
        clean,
        "select events from event_counts_daily where day = '2026-11-10' and account_id = "
        f"'111111111111' and event_source = '{source}' and event_name = '{name}'",
    )
    assert events == sum(e for (e,) in before.elements()) + 1


def test_nothing_beside_the_damage_changes(damaged, clean):
    lake, _ = damaged
    columns = "* exclude (source_file, record_index)"
    landed = _rows(
        lake, f"select {columns} from raw_cloudtrail_events where event_id != 'hostile-nobody'"
    )
    # the redelivered event lands in the next day's partition too (documented)
    expected = _rows(clean, f"select {columns} from raw_cloudtrail_events")
    extra = landed - expected
    assert len(list(extra.elements())) == 1
    [(row, _)] = extra.items()
    assert row[0] == date(2026, 11, 11)
    assert not expected - landed


@pytest.mark.parametrize("kind", ["symlink-loop", "dangling-symlink", "fifo"])
def test_a_path_named_like_a_delivery_file_that_cannot_be_read_is_quarantined(
    tmp_path: Path, kind: str
) -> None:
    # Used to be skipped without a word (a FIFO, if opened, would block the run for good).
    day_dir = tmp_path / "cloudtrail" / ORG_ACCOUNT / DAY
    day_dir.mkdir(parents=True)
    real = sorted((DEMO_CLOUDTRAIL / ORG_ACCOUNT / DAY).glob("*.json.gz"))[0]
    shutil.copy(real, day_dir / real.name)
    bad = day_dir / "111111111111_CloudTrail_eu-west-1_20261110T2357Z_unreadable000000.json.gz"
    if kind == "symlink-loop":
        bad.symlink_to(bad.name)
    elif kind == "dangling-symlink":
        bad.symlink_to("nowhere.json.gz")
    else:
        os.mkfifo(bad)
    lake = Lake.at(tmp_path / "lake")
    landing = land_day(CloudTrailSource(tmp_path / "cloudtrail"), lake, date(2026, 11, 10))
    key = bad.relative_to(tmp_path / "cloudtrail").as_posix()
    real_key = (day_dir / real.name).relative_to(tmp_path / "cloudtrail").as_posix()
    assert _rows(lake, "select file, record, field, reason from quarantine") == Counter(
        {
            (
                key,
                None,
                None,
                "unreadable file: not a regular file (a dangling or looping symlink, a FIFO or "
                "a socket); not read",
            ): 1
        }
    )
    # The real file lands whole beside it; the manifest names both.
    assert landing.records == len(_records(real))
    assert _rows(lake, "select event_id from raw_cloudtrail_events") == Counter(
        (r["eventID"],) for r in _records(real)
    )
    with duckdb.connect() as con:
        manifest = con.execute(
            "select object_key, status, records from read_parquet(?)",
            [str(manifest_path(lake, date(2026, 11, 10)))],
        ).fetchall()
    assert set(manifest) == {(key, "quarantined", 0), (real_key, "ingested", len(_records(real)))}
