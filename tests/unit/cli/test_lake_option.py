"""`--lake` (and `CIEM_LAKE`) with a URL the tool cannot use (`gs://…`) is refused in one line: it
used to write a local folder named `gs:` silently. (`s3://bucket/prefix` is a lake on S3:
tests/integration/test_s3_lake.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.defs.resources import CiemSettings

DEMO = Path(__file__).resolve().parents[3] / "data" / "demo"


@pytest.mark.parametrize("command", ["run", "query", "export", "explain", "explorer"])
def test_a_lake_url_other_than_s3_is_refused_in_one_line(
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
        main([command, *args, "--lake", "gs://bucket/prefix"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"ciem {command}: error: argument --lake: 'gs://bucket/prefix': "
        "a lake is a local folder or s3://bucket/prefix, not a gs:// URL"
    )
    assert list(tmp_path.iterdir()) == []


def test_the_dagster_settings_refuse_a_lake_url_other_than_s3() -> None:
    settings = CiemSettings(snapshot_dir="s", cloudtrail_dir="c", lake_dir="gs://bucket/prefix")
    with pytest.raises(ValueError, match=r"^CIEM_LAKE='gs://bucket/prefix': a lake is a local"):
        _ = settings.lake
