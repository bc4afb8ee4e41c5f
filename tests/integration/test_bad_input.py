"""Bad input is named, quarantined with its reason, and loses nothing else; reruns are exact."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
GOOD_TRAIL = REAL / "invictus-aws-dataset" / "CloudTrail"
GOOD_FILE = "218007301253_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json.gz"
TEACHING = REAL / "cloudsplaining" / "teaching-authz-details.json"


def _layout(root: Path, account: str, name: str) -> Path:
    path = root / "AWSLogs" / account / "CloudTrail" / "us-east-1" / "2023" / "07" / "10" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("bad")
    snapshot = base / "snapshot"
    # Account 1: a truncated authorization-details file.
    truncated = snapshot / "111111111111" / "iam" / "get-account-authorization-details.json"
    truncated.parent.mkdir(parents=True)
    truncated.write_text(TEACHING.read_text()[:5000])
    # Account 2: a good file, except one inline policy document that is not valid JSON.
    gaad = json.loads(TEACHING.read_text())
    gaad["UserDetailList"][0]["UserPolicyList"] = [
        {"PolicyName": "broken", "PolicyDocument": '{"Version": "2012-10-17", "Statement": ['}
    ]
    good = snapshot / "012345678901" / "iam" / "get-account-authorization-details.json"
    good.parent.mkdir(parents=True)
    good.write_text(json.dumps(gaad))

    trail = base / "cloudtrail"
    shutil.copy(GOOD_TRAIL / GOOD_FILE, _layout(trail, "218007301253", GOOD_FILE))
    _layout(
        trail, "218007301253", "218007301253_CloudTrail_us-east-1_20230710T1200Z_corrupt00.json.gz"
    ).write_bytes(gzip.compress(b'{"Records": []}')[:20])
    _layout(
        trail, "218007301253", "218007301253_CloudTrail_us-east-1_20230710T1205Z_notatrail.json.gz"
    ).write_bytes(gzip.compress(b'{"hello": "world"}'))
    return snapshot, trail


def _run(snapshot: Path, trail: Path, lake: Path) -> int:
    return main(
        [
            "run",
            "--snapshot",
            str(snapshot),
            "--cloudtrail",
            str(trail),
            "--as-of",
            "2023-07-10",
            "--window-days",
            "1",
            "--lake",
            str(lake),
        ]
    )


def _tables(lake: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(lake / "warehouse" / "ciem.duckdb"), read_only=True) as con:
        return {
            "events": con.execute(
                "select * from raw_cloudtrail_events order by source_file, record_index"
            ).fetchall(),
            "principals": con.execute(
                "select * exclude (last_activity_at) from principals order by all"
            ).fetchall(),
            "effective": con.execute(
                "select count(*), count(distinct (principal_arn, action)) "
                "from effective_permissions"
            ).fetchall(),
            "detections": con.execute("select * from detections order by detection_id").fetchall(),
            "timeline": con.execute("select * from detection_timeline order by all").fetchall(),
            "quarantine": con.execute(
                "select source, file, record, field, reason from quarantine order by all"
            ).fetchall(),
        }


def test_bad_files_records_and_policies_are_quarantined_and_the_rest_lands(
    inputs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot, trail = inputs
    lake = tmp_path / "lake"
    assert _run(snapshot, trail, lake) == 0
    tables = _tables(lake)
    quarantine = [(s, f, r, fld) for s, f, r, fld, _ in tables["quarantine"]]
    assert sorted(quarantine) == sorted(
        [
            ("snapshot", "111111111111/iam/get-account-authorization-details.json", None, None),
            (
                "snapshot",
                "012345678901/iam/get-account-authorization-details.json",
                "UserDetailList[0]",
                "UserPolicyList[0].PolicyDocument",
            ),
            (
                "cloudtrail",
                "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/"
                "218007301253_CloudTrail_us-east-1_20230710T1200Z_corrupt00.json.gz",
                None,
                None,
            ),
            (
                "cloudtrail",
                "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/"
                "218007301253_CloudTrail_us-east-1_20230710T1205Z_notatrail.json.gz",
                None,
                None,
            ),
        ]
    )
    reasons = {f.rsplit("/", 1)[-1]: reason for _, f, _, _, reason in tables["quarantine"]}
    assert reasons["218007301253_CloudTrail_us-east-1_20230710T1205Z_notatrail.json.gz"] == (
        "not a CloudTrail log file: no Records array"
    )
    assert reasons["218007301253_CloudTrail_us-east-1_20230710T1200Z_corrupt00.json.gz"].startswith(
        "corrupt gzip"
    )
    # Everything good beside the bad input landed: every record of the good file, and every
    # user, group and role of the good account.
    with gzip.open(GOOD_TRAIL / GOOD_FILE) as fh:
        assert len(tables["events"]) == len(json.load(fh)["Records"])
    gaad = json.loads(TEACHING.read_text())
    assert {p[0] for p in tables["principals"]} == (
        {u["Arn"] for u in gaad["UserDetailList"]}
        | {r["Arn"] for r in gaad["RoleDetailList"]}
        | {g["Arn"] for g in gaad["GroupDetailList"]}
    )
    # The run names each bad input on one line.
    err = capsys.readouterr().err
    assert "quarantined 111111111111/iam/get-account-authorization-details.json: " in err
    assert (
        "quarantined 012345678901/iam/get-account-authorization-details.json record "
        "UserDetailList[0] field UserPolicyList[0].PolicyDocument: "
    ) in err


def test_rerunning_the_same_day_changes_nothing(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    snapshot, trail = inputs
    lake = tmp_path / "lake"
    assert _run(snapshot, trail, lake) == 0
    first = _tables(lake)
    assert _run(snapshot, trail, lake) == 0
    second = _tables(lake)
    assert second == first
    assert len(second["events"]) == len({(r[1]) for r in second["events"]})  # event_id unique


def test_missing_input_folder_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "run",
            "--snapshot",
            str(tmp_path / "nope"),
            "--cloudtrail",
            str(tmp_path),
            "--as-of",
            "2023-07-10",
            "--lake",
            str(tmp_path / "lake"),
        ]
    )
    assert code == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        f"ciem: error: snapshot folder not found: {tmp_path / 'nope'}"
    ]
