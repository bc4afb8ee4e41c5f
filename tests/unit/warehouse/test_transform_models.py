"""`-- transform:` models (pipelines/lib/warehouse/sql_models.py): a model's rows pass through a
warehouse-layer Python function, a batch at a time, and are stored as its table; here the
condition verdicts (pipelines/lib/warehouse/condition_verdicts.py) of hand-written rows."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.warehouse import sql_models
from pipelines.lib.warehouse.sql_models import discover_models, run_model

ROLE = "arn:aws:iam::222222222222:role/break-glass"
FACTS = json.dumps(
    {
        "principal_arn": ROLE,
        "principal_type": "role",
        "account_id": "222222222222",
        "name": "break-glass",
        "unique_id": "AROAX",
        "tags_json": json.dumps([{"Key": "team", "Value": "red"}]),
        "org_id": "o-1",
        "org_member": True,
        "org_path": "o-1/r-1/ou-1/",
    }
)
CONDITIONS = [
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/break-glass"}},
    {"StringEquals": {"aws:PrincipalTag/team": "blue"}},
    {"StringEquals": {"aws:RequestedRegion": "eu-west-1", "aws:PrincipalOrgID": "o-1"}},
    {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-1/r-1/ou-1/*"}},
    {"StringEquals": {"aws:userid": "AROAX"}},  # a role's userid is role-id:session
]


def _model(tmp_path: Path, header: str) -> Path:
    folder = tmp_path / "sql" / "intermediate"
    folder.mkdir(parents=True)
    values = ", ".join(
        f"('{ROLE}', 'p', {i}, '{json.dumps(c)}', '{FACTS}')" for i, c in enumerate(CONDITIONS)
    )
    (folder / "verdicts.sql").write_text(
        f"-- verdicts\n-- grain: principal_arn, policy_key, statement_index\n{header}\n"
        "select * from (values "
        + values
        + ") as t(principal_arn, policy_key, statement_index, condition_json, facts_json)\n"
    )
    return tmp_path / "sql"


@pytest.mark.parametrize("batch_rows", [2, 50_000])
def test_rows_pass_through_the_transform_in_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_rows: int
) -> None:
    monkeypatch.setattr(sql_models, "TRANSFORM_BATCH_ROWS", batch_rows)
    sql_dir = _model(tmp_path, "-- transform: pipelines.lib.warehouse.condition_verdicts:verdicts")
    [model] = discover_models(sql_dir)
    con = duckdb.connect()
    assert run_model(con, model) == len(CONDITIONS)
    assert run_model(con, model) == len(CONDITIONS)  # a rebuild replaces the table
    assert con.execute(
        "select statement_index, verdict, needed_keys from verdicts order by statement_index"
    ).fetchall() == [
        (0, "true", []),
        (1, "false", []),
        (2, "unknown", ["aws:requestedregion"]),
        (3, "true", []),
        (4, "unknown", ["aws:userid"]),
    ]


@pytest.mark.parametrize(
    "header",
    [
        "-- transform: pipelines.lib.serve.facts:parse_tags",  # a layer above the warehouse
        "-- transform: os:system",
        "-- transform: pipelines.lib.warehouse.condition_verdicts:verdicts\n"
        "-- partition: principal_bucket",
    ],
)
def test_a_transform_is_a_warehouse_function_of_a_table_model(tmp_path: Path, header: str) -> None:
    with pytest.raises(ValueError, match="a transform is a warehouse function of a table model"):
        discover_models(_model(tmp_path, header))
