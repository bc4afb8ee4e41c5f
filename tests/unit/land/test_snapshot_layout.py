"""Snapshot reader: the table contract (every table, with its schema, even when empty) and the
folder layout it reads (account folders and known files only)."""

from __future__ import annotations

import pytest

from pipelines.lib.land.snapshot import SNAPSHOT_SCHEMAS
from tests.unit.land.snapshot_files import (
    ACCOUNT,
    CREDENTIAL_REPORT,
    RESOURCE_ALLOW_ALL,
    RESOURCE_ALLOW_S3_READ,
    VULNERABLE,
    VULNERABLE_ACCOUNT,
    gaad_doc,
    gaad_path,
    gaad_user,
    land,
    write,
    write_organization,
)


def test_every_table_is_returned_with_its_schema_even_when_empty(snap):
    snap.mkdir()
    tables, quarantine = land(snap)
    assert list(tables) == list(SNAPSHOT_SCHEMAS)
    assert {name: (t.schema, t.num_rows) for name, t in tables.items()} == {
        name: (schema, 0) for name, schema in SNAPSHOT_SCHEMAS.items()
    }
    assert quarantine.entries == []


def test_full_snapshot_tables_have_the_declared_schemas(snap):
    write(gaad_path(snap, VULNERABLE_ACCOUNT), VULNERABLE.read_text())
    write(snap / ACCOUNT / "iam" / "credential-report.csv", CREDENTIAL_REPORT)
    write(
        snap / ACCOUNT / "us-east-1" / "ec2" / "describe-instances.json",
        {
            "Reservations": [
                {"Instances": [{"InstanceId": "i-1", "LaunchTime": "2026-11-01T10:00:00Z"}]}
            ]
        },
    )
    write(
        snap / ACCOUNT / "us-east-1" / "lambda" / "list-functions.json",
        {
            "Functions": [
                {"FunctionName": "f", "FunctionArn": "arn:aws:lambda:us-east-1:1:function:f"}
            ]
        },
    )
    write(snap / ACCOUNT / "s3" / "bucket-policies" / "b.json", RESOURCE_ALLOW_S3_READ)
    write(snap / ACCOUNT / "s3" / "list-buckets.json", {"Buckets": [{"Name": "b"}]})
    write(snap / ACCOUNT / "us-east-1" / "kms" / "key-policies" / "k.json", RESOURCE_ALLOW_ALL)
    write_organization(snap)
    tables, quarantine = land(snap)
    assert {name: t.schema for name, t in tables.items()} == SNAPSHOT_SCHEMAS
    assert {name for name, t in tables.items() if t.num_rows == 0} == set()
    assert quarantine.entries == []


def test_only_account_folders_and_known_files_are_read(snap):
    gaad = gaad_doc(users=[gaad_user("alice")])
    write(snap / "not-an-account" / "iam" / "get-account-authorization-details.json", gaad)
    write(snap / "1111111111" / "iam" / "get-account-authorization-details.json", gaad)
    write(snap / ACCOUNT / "iam" / "get-account-authorization-details.json.bak", "{")
    write(snap / ACCOUNT / "iam" / "list-users.json", "{")
    write(snap / ACCOUNT / "us-east-1" / "ec2" / "describe-vpcs.json", "{")
    tables, quarantine = land(snap)
    assert {name for name, t in tables.items() if t.num_rows} == set()
    assert quarantine.entries == []


def test_missing_snapshot_folder_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        land(tmp_path / "nope")
