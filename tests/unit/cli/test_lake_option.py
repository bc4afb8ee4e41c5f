"""`--lake s3://…` (and `CIEM_LAKE`) is refused in one line: it used to write a local folder
named `s3:` silently (the lake on object storage is issue 11's work)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.defs.resources import CiemSettings

DEMO = Path(__file__).resolve().parents[3] / "data" / "demo"


@pytest.mark.parametrize("command", ["run", "query", "export", "explain", "explorer"])
def test_an_object_store_lake_is_refused_in_one_line(
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    args = {
        "run": [
            "--snapshot",
            str(DEMO / "snapshots" / "2026-11-20"),
            "--as-of",
            "2026-11-20",
            "--cloudtrail",
            str(DEMO / "cloudtrail"),
        ],
        "query": ["select 1"],
        "export": [],
        "explain": ["arn:aws:iam::111111111111:user/alice", "s3:GetObject"],
        "explorer": [],
    }[command]
    with pytest.raises(SystemExit) as exited:
        main([command, *args, "--lake", "s3://bucket/prefix"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"ciem {command}: error: argument --lake: 's3://bucket/prefix': "
        "a lake on s3:// is not supported yet; give a local folder"
    )
    assert list(tmp_path.iterdir()) == []


def test_the_dagster_settings_refuse_an_object_store_lake() -> None:
    settings = CiemSettings(snapshot_dir="s", cloudtrail_dir="c", lake_dir="s3://bucket/prefix")
    with pytest.raises(ValueError, match=r"CIEM_LAKE='s3://bucket/prefix': a lake on s3://"):
        _ = settings.lake
