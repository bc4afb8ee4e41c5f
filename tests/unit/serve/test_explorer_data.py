"""The explorer's queries and page on the hand-built warehouse (tests/browser/warehouse.py):
whole payloads against figures written by hand, the safe JSON embedding, the Dagster asset."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from pipelines.defs.explorer import explorer_report
from pipelines.defs.resources import CiemSettings
from pipelines.lib.lake import Lake
from pipelines.lib.serve.explorer.data import (
    catalog,
    detail_payload,
    detail_payloads,
    list_payload,
    snapshot_payload,
)
from pipelines.lib.serve.explorer.insights import PAGE, page_insights
from pipelines.lib.serve.explorer.page import embed_json, render_page, snapshot_path
from pipelines.lib.warehouse.connection import connect
from pipelines.lib.warehouse.sql_models import PARTITIONS_TABLE, model_parts
from tests.browser import warehouse as w


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return w.build_small(tmp_path_factory.mktemp("explorer-unit"))


def test_embedded_json_cannot_end_the_script_element() -> None:
    payload = {"name": "</script><script>alert(1)</script><!--", "amp": "&lt;", "ls": "\u2028"}
    text = embed_json(payload)
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == payload
    page = render_page(payload, nonce="n0nce")
    assert page.count("</script>") == 2  # the data block's and the page script's own
    assert page.count('nonce="n0nce"') == 1 and "'nonce-n0nce'" in page


def test_list_header_figures(lake: Lake) -> None:
    with connect(lake, read_only=True) as con:
        listing = list_payload(con)
    assert listing["open_by_severity"] == {
        "critical": 1,
        "high": 2,
        "medium": 8,
        "low": 0,
        "info": 0,
    }
    assert listing["runs"] == [
        {"as_of": "2026-11-18", "open_detections": 4},
        {"as_of": "2026-11-19", "open_detections": 4},
        {"as_of": "2026-11-20", "open_detections": 11},
    ]
    assert listing["as_of"] == "2026-11-20"
    assert len(listing["detections"]) == len(w.DETECTIONS)


def test_insights_of_a_gap_detection(lake: Lake) -> None:
    with connect(lake, read_only=True) as con:
        detail = detail_payload(con, "d-gap")
    insights = detail["insights"]
    assert insights["totals"] == {
        "granted": 10,
        "used": 3,
        "unused": 6,
        "unobservable": 1,
        "observable": 9,
        "gap_pct": 66.67,
    }
    assert [
        (s["service"], s["used"], s["unused"], s["unobservable"], s["calls"])
        for s in insights["services"]
    ] == [
        ("s3", 2, 3, 0, 14),
        ("ec2", 1, 1, 0, 7),
        ("iam", 0, 2, 1, 0),
    ]
    assert [(a["action"], a["calls"]) for a in insights["used_actions"]] == [
        ("s3:GetObject", 10),
        ("ec2:DescribeInstances", 7),
        ("s3:ListBucket", 4),
    ]
    assert json.loads(detail["detection"]["suggested_policy"]) == w.SUGGESTED_POLICY
    assert detail["detection"]["suggested_policy_verification"] == w.VERIFICATION


def test_services_beyond_the_cap_are_summed_in_one_row(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Insights tab lists MAX_SERVICES services, most used first (then most granted), and
    the rest summed in one row: alice's s3 (2 used), then ec2 (1) and iam (0) as "2 other
    services" when one is shown; the totals are the whole principal's either way."""
    monkeypatch.setattr("pipelines.lib.serve.explorer.insights.MAX_SERVICES", 1)
    with connect(lake, read_only=True) as con:
        insights = detail_payload(con, "d-gap")["insights"]
    assert [
        (s["service"], s["used"], s["unused"], s["unobservable"], s["granted"], s["calls"])
        for s in insights["services"]
    ] == [("s3", 2, 3, 0, 5, 14), ("2 other services", 1, 3, 1, 5, 7)]
    assert insights["services"][1]["last_used_at"].startswith("2026-11-20T09:00:00")
    assert insights["totals"]["granted"] == 10 and insights["totals"]["gap_pct"] == 66.67
    monkeypatch.setattr("pipelines.lib.serve.explorer.insights.MAX_SERVICES", 3)
    with connect(lake, read_only=True) as con:
        every = detail_payload(con, "d-gap")["insights"]["services"]
    assert [s["service"] for s in every] == ["s3", "ec2", "iam"]


def test_relationships_beyond_the_cap_are_counted(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The panel draws the first MAX_EDGES edges of a neighbourhood and says how many there are:
    alice's neighbourhood (her edges, her group's policy, the role she can assume with who else
    can assume it and its policy) cut at 3 is the first 3 of the whole, with the whole counted."""
    with connect(lake, read_only=True) as con:
        whole = detail_payload(con, "d-gap")["relationships"]
        monkeypatch.setattr("pipelines.lib.serve.explorer.data.MAX_EDGES", 3)
        cut = detail_payload(con, "d-gap")["relationships"]
    keys = [(e["source_arn"], e["relationship"], e["target_arn"]) for e in whole["edges"]]
    expected = {
        (s, rel, t)
        for s, _, rel, t, _, _, _ in w.RELATIONSHIPS
        if w.ALICE in (s, t)
        or s == w.DEVS
        or (t == w.HOSTILE_ROLE and s != w.ALICE)
        or s == w.HOSTILE_ROLE
    }
    assert len(keys) == len(set(keys)) and set(keys) == expected and len(expected) > 3
    assert whole["total"] == len(expected)
    assert cut["edges"] == whole["edges"][:3]
    assert cut["total"] == len(expected)


def test_unknown_detection(lake: Lake) -> None:
    with connect(lake, read_only=True) as con:
        assert detail_payload(con, "no-such-id") is None


def test_the_asset_writes_the_static_snapshot(lake: Lake, tmp_path: Path) -> None:
    settings = CiemSettings(
        snapshot_dir=str(tmp_path), cloudtrail_dir=str(tmp_path), lake_dir=str(lake.root)
    )
    result = dg.materialize([explorer_report], resources={"ciem": settings})
    assert result.success
    html = snapshot_path(lake).read_text(encoding="utf-8")
    marker = '<script type="application/json" id="ciem-data">'
    start = html.index(marker) + len(marker)
    embedded = json.loads(html[start : html.index("</script>", start)])
    with connect(lake, read_only=True) as con:
        assert embedded == json.loads(json.dumps(snapshot_payload(con), default=str))


def test_json_texts_go_as_stored_for_the_page_to_indent(lake: Lake) -> None:
    """Evidence, relationship details and policy documents are sent as the warehouse holds them
    (the page indents them: indented here, their whitespace was most of a large page); only the
    suggested policy, which the page copies as shown, is indented before."""
    with connect(lake, read_only=True) as con:
        detail = detail_payload(con, "d-hostile")
        stored_evidence = con.execute(
            "select evidence from detections where detection_id = 'd-hostile'"
        ).fetchone()[0]
        stored_details = dict(
            con.execute(
                "select source_arn || ' ' || target_arn, details from relationships "
                "where details is not null"
            ).fetchall()
        )
    assert detail["detection"]["evidence"] == stored_evidence
    assert "\n" not in stored_evidence
    edges = {
        f"{e['source_arn']} {e['target_arn']}": e["details"]
        for e in detail["relationships"]["edges"]
        if e["details"] is not None
    }
    assert edges and edges.items() <= stored_details.items()
    documents = {p["kind"]: p["document"] for p in detail["resource"]["policies"]}
    assert documents == {
        "trust": json.dumps(w.TRUST_DOCUMENT),
        "managed": json.dumps(w.ADMIN_DOCUMENT),
    }


def test_the_page_reads_the_insights_a_bucket_at_a_time_as_the_server_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The static page reads `permission_insights` once, a principal bucket's part at a time
    (`page_insights`), where the server reads it per detection: every detection's payload is
    the same either way, with the services capped (the rest row) and the called actions cut."""
    lake = w.build_small(tmp_path / "lake")
    parts = lake.warehouse_path.parent / "parts" / "permission_insights"  # in the lake
    parts.mkdir(parents=True)
    with connect(lake) as con:
        # permission_insights as a partitioned model leaves it: a part per bucket, a view
        # over them, and the parts recorded (sql_models._run_partitioned).
        principals = [
            p
            for (p,) in con.execute(
                "select distinct principal_arn from permission_insights order by 1"
            ).fetchall()
        ]
        assert len(principals) >= 2
        for bucket in (0, 1):
            con.execute(
                f"copy (select * from permission_insights where list_position(?, principal_arn) "
                f"% 2 = {bucket}) to '{parts}/part-00{bucket}.parquet' (format parquet)",
                [principals],
            )
        con.execute("drop table permission_insights")
        every_part = f"read_parquet('{parts}/part-*.parquet')"
        con.execute(f"create view permission_insights as select * from {every_part}")
        con.execute(
            f"create table {PARTITIONS_TABLE} (model varchar, buckets integer, part_source varchar)"
        )
        source = f"read_parquet('{parts}/part-{{bucket}}.parquet', hive_partitioning = false)"
        con.execute(
            f"insert into {PARTITIONS_TABLE} values ('permission_insights', 2, ?)", [source]
        )
    monkeypatch.setattr("pipelines.lib.serve.explorer.insights.MAX_SERVICES", 1)
    monkeypatch.setattr("pipelines.lib.serve.explorer.insights.MAX_USED_ACTIONS", 2)
    ids = [d["detection_id"] for d in w.DETECTIONS]
    with connect(lake, read_only=True) as con:
        assert len(model_parts(con, "permission_insights")) == 2
        server = detail_payloads(con, ids)
        with page_insights(con, catalog(con)["permission_insights"]):
            page = detail_payloads(con, ids, PAGE)
    assert page == server
    shown = [r["insights"] for r in server[1].values() if r["insights"].get("services")]
    assert any(len(i["services"]) == 2 and i["used_actions"] for i in shown)
