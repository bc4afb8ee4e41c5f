"""No value pasted into SQL, and `ciem query` read-only for real (issue 18, item 4): a lake path
with a quote works, a crafted memory setting is refused before any SQL runs, and a query cannot
write a file, read one outside the lake or install an extension unless `--allow-files`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.lib.lake import Lake
from pipelines.lib.warehouse import connection
from pipelines.lib.warehouse.connection import SettingError, connect
from tests.faults.harness import DEMO_SNAPSHOTS, run_ciem


@pytest.fixture(scope="module")
def quoted_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo run into a lake whose path holds a quote (it broke `ciem run` and `ciem query`)."""
    lake = tmp_path_factory.mktemp("lakes") / "it's a 'lake'"
    assert run_ciem(lake) == 0
    return lake


def _query(lake: Path, sql: str, *extra: str) -> int:
    return main(["query", sql, "--lake", str(lake), "--format", "csv", *extra])


def test_a_lake_path_with_quotes_runs_and_answers(
    quoted_lake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert _query(quoted_lake, "select count(*) as n from raw_iam_users") == 0
    snapshot = DEMO_SNAPSHOTS / "2026-11-20"
    users = sum(
        len(json.loads(p.read_text())["UserDetailList"])
        for p in snapshot.glob("*/iam/get-account-authorization-details.json")
    )
    assert capsys.readouterr().out == f"n\n{users}\n"
    assert (quoted_lake / "marts" / "detections.parquet").is_file()


@pytest.mark.parametrize(
    ("sql", "refused"),
    [
        ("copy (select 1) to '{lake}/copied.csv'", "COPY"),
        ("export database '{lake}/exported'", "EXPORT"),
        ("attach '{lake}/other.duckdb' as other", "ATTACH"),
        ("install httpfs", "LOAD"),
        ("set enable_external_access = true", "SET"),
        ("select 1; copy (select 1) to '{lake}/second.csv'", "COPY"),
    ],
)
def test_query_runs_queries_only(
    quoted_lake: Path, capsys: pytest.CaptureFixture[str], sql: str, refused: str
) -> None:
    before = set(quoted_lake.rglob("*"))
    assert _query(quoted_lake, sql.format(lake=str(quoted_lake).replace("'", "''"))) == 1
    assert capsys.readouterr().err == (
        f"ciem: error: ciem query runs queries only, not {refused} (--allow-files allows them)\n"
    )
    assert set(quoted_lake.rglob("*")) == before


def test_query_reads_no_file_outside_the_lake(
    quoted_lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text("secret\nplanted-outside-the-lake\n")
    assert _query(quoted_lake, f"select * from read_csv('{outside}')") == 1
    err = capsys.readouterr().err
    assert err.startswith("ciem: error: Permission Error: Cannot access file")
    assert "planted-outside-the-lake" not in err
    # the lake's own Parquet files stay readable through the views and directly
    marts = str(quoted_lake / "marts" / "detections.parquet").replace("'", "''")
    assert _query(quoted_lake, f"select count(*) > 0 as ok from read_parquet('{marts}')") == 0
    assert capsys.readouterr().out == "ok\ntrue\n"


def test_allow_files_lifts_the_confinement(
    quoted_lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "rules.csv"
    sql = f"copy (select distinct rule_id from detections order by 1) to '{target}'"
    assert _query(quoted_lake, sql, "--allow-files") == 0
    assert target.read_text().splitlines()[0] == "rule_id"
    assert (
        _query(quoted_lake, f"select count(*) as n from read_csv('{target}')", "--allow-files") == 0
    )


def test_a_crafted_memory_limit_is_refused_before_any_sql(
    quoted_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = tmp_path / "written-by-injection.csv"
    crafted = f"1GB'; copy (select 1) to '{planted}'; --"
    monkeypatch.setattr(connection, "MEMORY_LIMIT", crafted)
    refused = r"CIEM_DUCKDB_MEMORY_LIMIT=.* is not a memory size"
    with pytest.raises(SettingError, match=refused), connect(Lake.at(quoted_lake), read_only=True):
        pass
    assert not planted.exists()
    monkeypatch.setattr(connection, "MEMORY_LIMIT", "512MiB")
    with connect(Lake.at(quoted_lake), read_only=True) as con:
        assert con.execute("select current_setting('memory_limit')").fetchall() == [("512.0 MiB",)]
