"""CloudTrail from before 2023 runs: the CloudTrail partitions start in November 2013, when
CloudTrail began (a real 2020 capture failed with Dagster's `Partition key range start … is before
the partitions definition start time 2023-01-01`), and a window before that is refused in one line
that names the setting."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipelines.cli import main
from tests.faults.harness import rows

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
SNAPSHOT = REAL / "snapshots" / "iam-vulnerable"
CAPTURE = REAL / "otrf-security-datasets" / "ec2_proxy_s3_exfiltration_2020-09-14011940.json"


def _run(cloudtrail: Path, lake: Path, as_of: str) -> int:
    return main(
        [
            "run",
            "--snapshot",
            str(SNAPSHOT),
            "--cloudtrail",
            str(cloudtrail),
            "--as-of",
            as_of,
            "--window-days",
            "3",
            "--lake",
            str(lake),
        ]
    )


def test_a_2020_capture_lands_and_is_modelled(tmp_path: Path) -> None:
    cloudtrail = tmp_path / "cloudtrail"
    cloudtrail.mkdir()
    shutil.copy(CAPTURE, cloudtrail)
    assert _run(cloudtrail, tmp_path / "lake", "2020-09-14") == 0
    landed = rows(
        tmp_path / "lake", "select day::varchar, count(*) from raw_cloudtrail_events group by 1"
    )
    assert landed == {("2020-09-14", 103)}


def test_a_window_before_cloudtrail_existed_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(tmp_path, tmp_path / "lake", "2013-10-05") == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "ciem: error: the window starts on 2013-10-03, before the first CloudTrail day "
        "2013-11-01 (CIEM_CLOUDTRAIL_START; CloudTrail began in November 2013)"
    )
