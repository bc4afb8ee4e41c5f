"""The explorer on the real demo warehouse (`ciem demo`): the static snapshot the run writes
embeds exactly what the explorer's queries return, and its figures agree with the tables."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.lib.lake import Lake
from pipelines.lib.serve.explorer.data import snapshot_payload
from pipelines.lib.serve.explorer.page import snapshot_path, write_snapshot
from pipelines.lib.warehouse.connection import connect

DATA_OPEN = '<script type="application/json" id="ciem-data">'


@pytest.fixture(scope="module")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    root = tmp_path_factory.mktemp("explorer-demo")
    assert main(["demo", "--lake", str(root)]) == 0
    return Lake.at(root)


def embedded(path: Path) -> dict:
    html = path.read_text(encoding="utf-8")
    start = html.index(DATA_OPEN) + len(DATA_OPEN)
    return json.loads(html[start : html.index("</script>", start)])


def test_the_run_writes_the_snapshot_of_its_warehouse(demo_lake: Lake) -> None:
    page = embedded(snapshot_path(demo_lake))
    with connect(demo_lake, read_only=True) as con:
        expected = json.loads(json.dumps(snapshot_payload(con), default=str))
    assert page == expected


def test_the_snapshot_written_in_small_chunks_is_the_same(demo_lake: Lake) -> None:
    # the page is written a chunk of detections at a time (a resource's in one chunk): chunks of
    # two give the same embedded JSON as the payload built whole
    with connect(demo_lake, read_only=True) as con:
        expected = json.loads(json.dumps(snapshot_payload(con), default=str))
    path, count = write_snapshot(demo_lake, detections_per_chunk=2)
    assert count == len(expected["list"]["detections"]) > 4
    assert embedded(path) == expected
    assert len(expected["resources"]) > 2


def test_snapshot_figures_agree_with_the_tables(demo_lake: Lake) -> None:
    page = embedded(snapshot_path(demo_lake))
    listing = page["list"]
    cols = listing["columns"]
    rows = [dict(zip(cols, r, strict=True)) for r in listing["detections"]]
    with connect(demo_lake, read_only=True) as con:
        by_risk = dict(
            con.execute("select rule_id, open_detections from identity_risks_by_risk").fetchall()
        )
        by_resource = dict(
            con.execute(
                "select resource_arn, open_detections from identity_risks_by_resource"
            ).fetchall()
        )
        ids = {r[0] for r in con.execute("select detection_id from detections").fetchall()}
        granted = dict(
            con.execute(
                "select principal_arn, count(*) from permission_insights group by 1"
            ).fetchall()
        )
    open_rows = [r for r in rows if r["status"] == "open"]
    assert Counter(r["rule_id"] for r in open_rows) == by_risk
    assert Counter(r["resource_arn"] for r in open_rows) == by_resource
    assert {r["detection_id"] for r in rows} == ids == set(page["details"])
    for detail in page["details"].values():
        resource = page["resources"][detail["resource_key"]]
        insights = resource["insights"]
        if insights["available"]:
            assert insights["totals"]["granted"] == granted.get(insights["principal_arn"], 0)
        assert detail["timeline"]["available"]
        assert resource["resource"]["available"]
