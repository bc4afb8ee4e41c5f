"""A lake that heals itself (issue 14, item 4), at the layer that decides (`land_day`).

Each case lands one demo CloudTrail day, damages what landed (a part truncated, overwritten with
garbage of the same size, one byte changed, deleted; a manifest written before checksums), lands
the day again, and compares the day's whole set of events with a clean landing: nothing lost,
nothing duplicated, and one line says what was repaired. When the source objects of a damaged
part are gone too, they are quarantined as lost and the rest of the day stays. Before the fix a
truncated part was never noticed by landing (the manifest said the day was complete) and every
later run failed with `No magic bytes found at end of file`.
"""

from __future__ import annotations

import gzip
import json
import logging
import shutil
import threading
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

import pipelines.lib.land.cloudtrail_landing as landing
from pipelines.lib.lake import Lake
from pipelines.lib.land.cloudtrail import CloudTrailSource
from pipelines.lib.land.cloudtrail_landing import file_sha256, land_day, manifest_path
from tests.faults.harness import DEMO_CLOUDTRAIL

DAY = date(2026, 11, 10)
ORG = "AWSLogs/o-a1b2c3d4e5"
LATE_ACCOUNT = "333333333333"  # its files of the day arrive after the day was first landed


def _events(lake: Lake) -> Counter:
    """Every event landed for the day, as whole rows."""
    with duckdb.connect() as con:
        rows = con.execute(
            "select * from read_parquet($g)", {"g": str(lake.cloudtrail_day_dir(DAY) / "*.parquet")}
        )
        columns = [c[0] for c in rows.description]
        return Counter(
            json.dumps(dict(zip(columns, r, strict=True)), default=str, sort_keys=True)
            for r in rows.fetchall()
        )


def _quarantine(lake: Lake) -> set[tuple]:
    folder = lake.root / "parquet" / "quarantine"
    return {
        (r["file"], r["reason"])
        for p in folder.glob(f"cloudtrail-{DAY}*.parquet")
        for r in pq.read_table(p).to_pylist()
    }


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Counter:
    lake = Lake.at(tmp_path_factory.mktemp("clean") / "lake")
    land_day(CloudTrailSource(DEMO_CLOUDTRAIL), lake, DAY)
    return _events(lake)


def _two_parts(trail: Path, lake: Lake) -> None:
    """The day landed in two parts: every account but one, then that account's late files."""
    late = trail / ORG / LATE_ACCOUNT
    held = trail.parent / "held"
    shutil.move(late, held)
    land_day(CloudTrailSource(trail), lake, DAY)
    shutil.move(held, late)
    assert land_day(CloudTrailSource(trail), lake, DAY).mode == "appended"


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * (path.stat().st_size // 256 + 1))


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


DAMAGE = {
    "truncated": (_truncate, "damaged: "),
    "garbage": (_garbage, "damaged: "),
    "one-byte-changed": (_flip_a_byte, "damaged: checksum differs from the manifest"),
    "deleted": (Path.unlink, "missing"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_part_lands_the_day_again_from_the_source(
    damage: str,
    demo_cloudtrail: Path,
    tmp_path: Path,
    clean: Counter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    lake = Lake.at(tmp_path / "lake")
    _two_parts(demo_cloudtrail, lake)
    assert _events(lake) == clean
    edit, problem = DAMAGE[damage]
    edit(lake.cloudtrail_day_dir(DAY) / "part-00001-w0.parquet")
    with caplog.at_level(logging.INFO, logger="ciem"):
        result = land_day(CloudTrailSource(demo_cloudtrail), lake, DAY)
    assert result.mode == "rebuilt"
    assert result.repair is not None
    assert result.repair.startswith(f"{DAY}: part-00001-w0.parquet {problem}")
    assert result.repair.endswith("; landing the day again from the source")
    assert [r.getMessage().strip() for r in caplog.records if "part-0" in r.getMessage()] == [
        result.repair
    ]
    assert _events(lake) == clean
    assert _quarantine(lake) == set()
    # the new manifest vouches for the rebuilt part
    manifest = pq.read_table(manifest_path(lake, DAY)).to_pylist()
    [part] = lake.cloudtrail_day_dir(DAY).glob("*.parquet")
    assert {(r["part_file"], r["part_size"], r["part_sha256"]) for r in manifest} == {
        (part.name, part.stat().st_size, file_sha256(part))
    }
    assert land_day(CloudTrailSource(demo_cloudtrail), lake, DAY).mode == "unchanged"


def test_a_part_recorded_before_checksums_is_checked_by_its_footer(
    demo_cloudtrail: Path, tmp_path: Path, clean: Counter
) -> None:
    lake = Lake.at(tmp_path / "lake")
    land_day(CloudTrailSource(demo_cloudtrail), lake, DAY)
    path = manifest_path(lake, DAY)
    old = pq.read_table(path).drop_columns(["part_file", "part_size", "part_sha256"])
    pq.write_table(old, path)
    assert land_day(CloudTrailSource(demo_cloudtrail), lake, DAY).mode == "unchanged"
    _truncate(lake.cloudtrail_day_dir(DAY) / "part-00000-w0.parquet")
    result = land_day(CloudTrailSource(demo_cloudtrail), lake, DAY)
    assert result.mode == "rebuilt"
    assert result.repair is not None
    assert result.repair.startswith(f"{DAY}: part-00000-w0.parquet damaged: unreadable (")
    assert _events(lake) == clean


def test_a_damaged_part_whose_source_is_gone_is_quarantined_and_the_rest_kept(
    demo_cloudtrail: Path, tmp_path: Path, clean: Counter
) -> None:
    """Part 0 holds every account but 333333333333; its files of the day expire from the
    bucket, then part 0 is damaged. Its events cannot be landed again: each of its objects is
    quarantined as lost, and 333333333333's events (part 1) stay, once each."""
    lake = Lake.at(tmp_path / "lake")
    _two_parts(demo_cloudtrail, lake)
    manifest = pq.read_table(manifest_path(lake, DAY)).to_pylist()
    part0 = {r["object_key"]: r["records"] for r in manifest if r["part"] == "part-00000"}
    for key in part0:
        (demo_cloudtrail / key).unlink()
    size = (lake.cloudtrail_day_dir(DAY) / "part-00000-w0.parquet").stat().st_size
    _truncate(lake.cloudtrail_day_dir(DAY) / "part-00000-w0.parquet")
    result = land_day(CloudTrailSource(demo_cloudtrail), lake, DAY)
    assert result.mode == "unchanged"
    assert result.repair is not None
    assert result.repair.endswith(
        f"{len(part0)} of its objects are no longer in the source: "
        f"{sum(part0.values()):,} record(s) quarantined as lost, the rest of the day kept and "
        "landed again where the source still has it"
    )
    late = Counter(
        {e: n for e, n in clean.items() if f"/{LATE_ACCOUNT}/" in json.loads(e)["source_file"]}
    )
    assert sum(late.values()) > 0
    assert _events(lake) == late
    why = f"part-00000-w0.parquet damaged: {size // 2:,} bytes, the manifest recorded {size:,}"
    assert _quarantine(lake) == {
        (
            key,
            f"lost: {n} record(s) landed in a part that had to be dropped ({why}), and the "
            "object is no longer in the source to land again",
        )
        for key, n in part0.items()
    }
    assert result.repair.startswith(f"{DAY}: {why}; ")
    # the next run neither repeats the repair nor loses more
    again = land_day(CloudTrailSource(demo_cloudtrail), lake, DAY)
    assert (again.mode, again.repair) == ("unchanged", None)
    assert _events(lake) == late


def test_an_object_gone_from_the_source_keeps_what_it_landed(
    demo_cloudtrail: Path, tmp_path: Path, clean: Counter
) -> None:
    """A bucket lifecycle rule expires a landed file: the lake is the durable copy. (Before, the
    day was rebuilt from what was left and the file's events disappeared without a word.)"""
    lake = Lake.at(tmp_path / "lake")
    land_day(CloudTrailSource(demo_cloudtrail), lake, DAY)
    [first, *_] = sorted(demo_cloudtrail.rglob("*_20261110T*.json.gz"))
    first.unlink()
    result = land_day(CloudTrailSource(demo_cloudtrail), lake, DAY)
    assert (result.mode, result.repair) == ("unchanged", None)
    assert _events(lake) == clean


def test_a_changed_object_redoes_only_its_part_when_another_is_gone(
    demo_cloudtrail: Path, tmp_path: Path, clean: Counter
) -> None:
    """One file of part 0 expired from the bucket; a file of part 1 is then delivered again
    with other content. Part 1 is landed again from the source; part 0 (and the expired file's
    events in it) stays."""
    lake = Lake.at(tmp_path / "lake")
    _two_parts(demo_cloudtrail, lake)
    manifest = pq.read_table(manifest_path(lake, DAY)).to_pylist()
    [expired, *_] = sorted(r["object_key"] for r in manifest if r["part"] == "part-00000")
    [changed, *_] = sorted(r["object_key"] for r in manifest if r["part"] == "part-00001")
    (demo_cloudtrail / expired).unlink()
    path = demo_cloudtrail / changed
    records = json.loads(gzip.decompress(path.read_bytes()))
    dropped = records["Records"].pop()
    path.write_bytes(gzip.compress(json.dumps(records).encode()))
    result = land_day(CloudTrailSource(demo_cloudtrail), lake, DAY)
    assert result.mode == "appended"
    assert result.repair == (
        f"{DAY}: part-00001-w0.parquet an object it was landed from changed in the source; "
        "landing it again from the source (the day also holds objects the source no longer "
        "has: kept)"
    )

    # every other file's events as whole rows; the rewritten file's by id (its JSON was
    # written again, so text columns may be formatted differently)
    def split(events: Counter) -> tuple[Counter, Counter]:
        mine = Counter(
            {
                json.loads(e)["event_id"]: n
                for e, n in events.items()
                if json.loads(e)["source_file"] == changed
            }
        )
        rest = Counter({e: n for e, n in events.items() if json.loads(e)["source_file"] != changed})
        return mine, rest

    got_mine, got_rest = split(_events(lake))
    clean_mine, clean_rest = split(clean)
    assert got_rest == clean_rest
    assert got_mine == clean_mine - Counter([dropped["eventID"]])
    assert _quarantine(lake) == set()


def test_two_landings_of_one_day_take_turns(
    demo_cloudtrail: Path, tmp_path: Path, clean: Counter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs at once on one new lake land the same day: the first has written its part and
    not yet its manifest when the second starts. Before the lock, the second took that part for
    one a crashed run left and deleted it, and the first failed (`No files found that match the
    pattern …/part-00000-w0.parquet`), measured with two `ciem run`s on the demo."""
    lake = Lake.at(tmp_path / "lake")
    first_wrote_its_part, go_on, second_started = (threading.Event() for _ in range(3))
    dedupe, drop_orphans = landing._quarantine_duplicates, landing._drop_orphan_parts

    def pause_first(*args, **kwargs):
        if threading.current_thread().name == "first":
            first_wrote_its_part.set()
            go_on.wait(60)
        return dedupe(*args, **kwargs)

    def note_second(*args, **kwargs):
        if threading.current_thread().name == "second":
            second_started.set()
        return drop_orphans(*args, **kwargs)

    monkeypatch.setattr(landing, "_quarantine_duplicates", pause_first)
    monkeypatch.setattr(landing, "_drop_orphan_parts", note_second)
    results: dict[str, object] = {}

    def land(name: str) -> None:
        try:
            results[name] = land_day(CloudTrailSource(demo_cloudtrail), lake, DAY).mode
        except Exception as exc:  # the failure is the result under test
            results[name] = exc

    first = threading.Thread(target=land, args=("first",), name="first")
    first.start()
    assert first_wrote_its_part.wait(60)
    second = threading.Thread(target=land, args=("second",), name="second")
    second.start()
    # the second waits for the day while the first holds it (it would get there at once)
    assert not second_started.wait(3)
    go_on.set()
    first.join(60)
    second.join(60)
    assert results == {"first": "rebuilt", "second": "unchanged"}
    assert _events(lake) == clean


def test_a_damaged_quarantine_file_lands_its_part_again(
    demo_cloudtrail: Path, tmp_path: Path, clean: Counter
) -> None:
    """The `quarantine` table reads each part's quarantine file: a truncated one used to fail
    every later run the way a truncated part did."""
    lake = Lake.at(tmp_path / "lake")
    _two_parts(demo_cloudtrail, lake)
    damaged = lake.quarantine_path("cloudtrail", f"{DAY}-part-00001")
    _truncate(damaged)
    result = land_day(CloudTrailSource(demo_cloudtrail), lake, DAY)
    assert result.mode == "rebuilt"
    assert result.repair is not None
    assert result.repair.startswith(
        f"{DAY}: part-00001-w0.parquet its quarantine file is damaged: unreadable ("
    )
    assert _events(lake) == clean
    assert _quarantine(lake) == set()  # every quarantine file of the day reads again


def test_the_temporary_file_of_a_part_killed_mid_write_is_removed(
    demo_cloudtrail: Path, tmp_path: Path, clean: Counter
) -> None:
    lake = Lake.at(tmp_path / "lake")
    land_day(CloudTrailSource(demo_cloudtrail), lake, DAY)
    day_dir = lake.cloudtrail_day_dir(DAY)
    half = day_dir / ".part-00001-w0.parquet.0123456789abcdef0123456789abcdef.tmp"
    half.write_bytes((day_dir / "part-00000-w0.parquet").read_bytes()[:1000])
    assert land_day(CloudTrailSource(demo_cloudtrail), lake, DAY).mode == "unchanged"
    assert sorted(p.name for p in day_dir.iterdir()) == ["part-00000-w0.parquet"]
    assert _events(lake) == clean


def test_a_damaged_manifest_lands_the_day_again(
    demo_cloudtrail: Path, tmp_path: Path, clean: Counter
) -> None:
    lake = Lake.at(tmp_path / "lake")
    _two_parts(demo_cloudtrail, lake)
    _truncate(manifest_path(lake, DAY))
    result = land_day(CloudTrailSource(demo_cloudtrail), lake, DAY)
    assert result.mode == "rebuilt"
    assert result.repair is not None
    assert result.repair.startswith(f"{DAY}: the manifest is damaged (")
    assert result.repair.endswith("); landing the day again from the source")
    assert _events(lake) == clean
    assert land_day(CloudTrailSource(demo_cloudtrail), lake, DAY).mode == "unchanged"
