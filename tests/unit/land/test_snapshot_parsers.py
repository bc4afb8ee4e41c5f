"""Snapshot reader: the value parsers (timestamps in AWS's forms, policy documents as objects,
JSON or URL-encoded text)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from pipelines.lib.land.snapshot import parse_policy_document, parse_timestamp
from tests.unit.land.snapshot_files import ALLOW_ALL, utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-03-09T10:41:45Z", utc(2023, 3, 9, 10, 41, 45)),
        ("2023-03-09T10:41:45+00:00", utc(2023, 3, 9, 10, 41, 45)),
        ("2023-03-09 10:41:45+00:00", utc(2023, 3, 9, 10, 41, 45)),
        ("2023-03-09T10:41:45.5Z", utc(2023, 3, 9, 10, 41, 45, 500000)),
        ("2023-03-09 10:41:45.123456+00:00", utc(2023, 3, 9, 10, 41, 45, 123456)),
        ("2026-11-01T10:00:00.000+0000", utc(2026, 11, 1, 10, 0)),
        ("2023-03-09T12:41:45+02:00", utc(2023, 3, 9, 10, 41, 45)),
        ("2023-03-09T10:41:45", utc(2023, 3, 9, 10, 41, 45)),
    ],
)
def test_parse_timestamp_accepts_aws_forms(text, expected):
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize("bad", ["yesterday", "2023-02-30T00:00:00Z", 1678358505, None])
def test_parse_timestamp_rejects_garbage(bad):
    with pytest.raises(ValueError):
        parse_timestamp(bad)


@pytest.mark.parametrize(
    "value",
    [
        ALLOW_ALL,
        json.dumps(ALLOW_ALL),
        quote(json.dumps(ALLOW_ALL)),
        quote(json.dumps(ALLOW_ALL), safe=""),
    ],
)
def test_parse_policy_document_accepts_objects_json_and_url_encoded_text(value):
    assert parse_policy_document(value) == ALLOW_ALL


@pytest.mark.parametrize("bad", ["{", "%7B%22Version", "[1, 2]", ["a"], 42])
def test_parse_policy_document_rejects_non_objects(bad):
    with pytest.raises(ValueError):
        parse_policy_document(bad)
