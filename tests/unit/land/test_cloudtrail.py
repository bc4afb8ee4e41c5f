"""Unit tests for the CloudTrail reader (landing): real delivery files and crafted bad input."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from pipelines.lib.land.cloudtrail import (
    file_day,
    list_files_for_day,
    read_events,
)
from pipelines.lib.land.cloudtrail_events import CLOUDTRAIL_EVENTS_SCHEMA
from pipelines.lib.land.quarantine import Quarantine, QuarantineEntry

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "real"
INVICTUS = FIXTURES / "invictus-aws-dataset"
STRATUS_FEDERATION = (
    FIXTURES / "stratus-red-team-detonation-logs" / "aws.persistence.sts-federation-token.json"
)
INVICTUS_DAY = date(2023, 7, 10)
JSON_PARTS = {
    "request_parameters": "requestParameters",
    "response_elements": "responseElements",
    "resources": "resources",
    "additional_event_data": "additionalEventData",
}


# ---------------------------------------------------------------------------------------------
# helpers


def _raw_invictus() -> list[tuple[str, int, dict[str, Any]]]:
    """(source_file relative to the fixture root, record index, record) for every raw record."""
    out = []
    for path in sorted((INVICTUS / "CloudTrail").glob("*.json.gz")):
        records = json.loads(gzip.decompress(path.read_bytes()))["Records"]
        rel = path.relative_to(INVICTUS).as_posix()
        out.extend((rel, i, record) for i, record in enumerate(records))
    return out


def _expected_principal(identity: dict[str, Any]) -> tuple[str, str | None]:
    """(principal_type, principal_arn) for the identity types present in invictus, per AWS docs."""
    kind = identity.get("type")
    if kind == "IAMUser" and "arn" not in identity:  # console CheckMfa omits the user's arn
        return "user", f"arn:aws:iam::{identity['accountId']}:user/{identity['userName']}"
    if kind == "IAMUser":
        return "user", identity["arn"]
    if kind == "AssumedRole":
        return "role", identity["sessionContext"]["sessionIssuer"]["arn"]
    if kind == "AWSService" or (kind is None and "invokedBy" in identity):
        return "aws_service", None
    raise AssertionError(f"identity type {kind!r} not expected in invictus")


def _rows_by_key(table: pa.Table) -> dict[tuple[str, int], dict[str, Any]]:
    return {(row["source_file"], row["record_index"]): row for row in table.to_pylist()}


def _write_gz(path: Path, content: Any) -> Path:
    """A delivery file as CloudTrail writes it: gzip of compact JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(json.dumps(content, separators=(",", ":")).encode()))
    return path


def _event(event_id: str, **overrides: Any) -> dict[str, Any]:
    """A minimal well-formed IAMUser record."""
    record = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAAAAAAAAAAAAAAAAAA",
            "arn": "arn:aws:iam::111111111111:user/alice",
            "accountId": "111111111111",
            "userName": "alice",
        },
        "eventTime": "2023-07-10T11:45:12Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "ListUsers",
        "awsRegion": "us-east-1",
        "eventID": event_id,
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": "111111111111",
    }
    record.update(overrides)
    return record


def _without(record: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != key}


@pytest.fixture(scope="module")
def raw_invictus() -> list[tuple[str, int, dict[str, Any]]]:
    return _raw_invictus()


@pytest.fixture(scope="module")
def invictus() -> tuple[pa.Table, Quarantine]:
    quarantine = Quarantine(source="cloudtrail", partition=INVICTUS_DAY.isoformat())
    files = list_files_for_day(INVICTUS, INVICTUS_DAY)
    return read_events(files, INVICTUS_DAY, quarantine, root=INVICTUS), quarantine


# ---------------------------------------------------------------------------------------------
# invictus: 55 real delivery files, 2,900 records of 2023-07-10


def test_invictus_every_record_lands_for_its_day_in_file_then_record_order(invictus, raw_invictus):
    table, quarantine = invictus
    assert quarantine.entries == []
    assert len(raw_invictus) == 2900
    assert [(r["source_file"], r["record_index"], r["event_id"]) for r in table.to_pylist()] == [
        (rel, i, record["eventID"]) for rel, i, record in raw_invictus
    ]
    assert set(table.column("day").to_pylist()) == {INVICTUS_DAY}


def test_invictus_lists_all_55_files_for_the_day_and_none_for_another():
    expected = sorted((INVICTUS / "CloudTrail").glob("*.json.gz"))
    assert len(expected) == 55
    assert list_files_for_day(INVICTUS, INVICTUS_DAY) == expected
    assert list_files_for_day(INVICTUS, date(2023, 7, 11)) == []


def test_invictus_identity_and_principal_type_counts(invictus, raw_invictus):
    table, _ = invictus
    identities = [record["userIdentity"] for _, _, record in raw_invictus]
    assert Counter(table.column("identity_type").to_pylist()) == Counter(
        identity.get("type") for identity in identities
    )
    assert Counter(table.column("principal_type").to_pylist()) == Counter(
        _expected_principal(identity)[0] for identity in identities
    )
    # The figures the fixture README documents, as a cross-check of the computation above.
    assert Counter(table.column("identity_type").to_pylist()) == {
        "IAMUser": 2748,
        "AssumedRole": 76,
        "AWSService": 34,
        None: 42,
    }


def test_invictus_distinct_principals(invictus, raw_invictus):
    table, _ = invictus
    got = {(row["principal_type"], row["principal_arn"]) for row in table.to_pylist()}
    assert got == {_expected_principal(record["userIdentity"]) for _, _, record in raw_invictus}


def test_invictus_assumed_role_rows_credit_the_role_and_keep_the_session(invictus, raw_invictus):
    table, _ = invictus
    got = {
        key: (row["principal_type"], row["principal_arn"], row["session_name"])
        for key, row in _rows_by_key(table).items()
        if row["identity_type"] == "AssumedRole"
    }
    expected = {
        (rel, i): (
            "role",
            record["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"],
            record["userIdentity"]["arn"].split("/")[-1],
        )
        for rel, i, record in raw_invictus
        if record["userIdentity"].get("type") == "AssumedRole"
    }
    assert got == expected
    assert len(got) == 76
    assert all(":role/" in arn for _, arn, _ in got.values())


def test_invictus_console_check_mfa_without_arn_is_credited_to_the_same_user(
    invictus, raw_invictus
):
    """The real CheckMfa sign-in event has no userIdentity.arn; it must land on the same user ARN
    as that user's API calls."""
    rows = _rows_by_key(invictus[0])
    no_arn = [
        (rel, i, record["userIdentity"]["userName"])
        for rel, i, record in raw_invictus
        if record["userIdentity"].get("type") == "IAMUser" and "arn" not in record["userIdentity"]
    ]
    arn_by_user = {
        record["userIdentity"]["userName"]: record["userIdentity"]["arn"]
        for _, _, record in raw_invictus
        if record["userIdentity"].get("type") == "IAMUser" and "arn" in record["userIdentity"]
    }
    assert [(name, rows[(rel, i)]["event_name"]) for rel, i, name in no_arn] == [
        ("bert-jan", "CheckMfa")
    ]
    assert [rows[(rel, i)]["principal_arn"] for rel, i, _ in no_arn] == [arn_by_user["bert-jan"]]
    assert [rows[(rel, i)]["access_key_id"] for rel, i, _ in no_arn] == [None]  # "" upstream


def test_invictus_typeless_service_events_have_no_principal(invictus, raw_invictus):
    table, _ = invictus
    got = Counter(
        (row["event_type"], row["principal_type"], row["principal_arn"], row["invoked_by"])
        for row in table.to_pylist()
        if row["identity_type"] is None
    )
    assert got == Counter(
        ("AwsServiceEvent", "aws_service", None, record["userIdentity"]["invokedBy"])
        for _, _, record in raw_invictus
        if "type" not in record["userIdentity"]
    )
    assert sum(got.values()) == 42


def test_invictus_json_parts_round_trip(invictus, raw_invictus):
    rows = _rows_by_key(invictus[0])
    for rel, i, record in raw_invictus:
        row = rows[(rel, i)]
        for column, key in JSON_PARTS.items():
            text = row[column]
            assert text != ""
            assert (None if text is None else json.loads(text)) == record.get(key), (rel, i, key)


def test_invictus_error_codes_times_and_flags(invictus, raw_invictus):
    table, _ = invictus
    records = [record for _, _, record in raw_invictus]
    errors = Counter(table.column("error_code").to_pylist())
    assert errors == Counter(record.get("errorCode") for record in records)
    assert (errors["AccessDenied"], errors["ThrottlingException"]) == (16, 102)
    assert errors["Client.UnauthorizedOperation"] == 44
    assert table.column("event_time").to_pylist() == [
        datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        for record in records
    ]
    mfa = {"true": True, "false": False, None: None}
    assert table.column("mfa_authenticated").to_pylist() == [
        mfa[
            record["userIdentity"]
            .get("sessionContext", {})
            .get("attributes", {})
            .get("mfaAuthenticated")
        ]
        for record in records
    ]
    assert table.column("read_only").to_pylist() == [record["readOnly"] for record in records]


def test_invictus_service_linked_role_session_whole_row(invictus):
    """Inspector's service-linked role: the role ARN keeps its path; invokedBy stays the role's."""
    rows = _rows_by_key(invictus[0])
    rel = "CloudTrail/218007301253_CloudTrail_us-east-1_20230710T1200Z_iLj9fb7yyUG9X4Bf.json.gz"
    assert rows[(rel, 66)] == {
        "day": INVICTUS_DAY,
        "event_id": "3bcc9d61-5936-429a-8b49-d5cb8e7b0e06",
        "event_time": datetime(2023, 7, 10, 11, 55, 24, tzinfo=UTC),
        "event_version": "1.08",
        "event_source": "ec2.amazonaws.com",
        "event_name": "DescribeInstances",
        "event_type": "AwsApiCall",
        "event_category": "Management",
        "aws_region": "us-east-1",
        "source_ip_address": "inspector2.amazonaws.com",
        "user_agent": "inspector2.amazonaws.com",
        "recipient_account_id": "123837392027",
        "identity_type": "AssumedRole",
        "identity_arn": "arn:aws:sts::123837392027:assumed-role/AWSServiceRoleForAmazonInspector2/"
        "MandoService2842426183934887787",
        "identity_account_id": "123837392027",
        "identity_principal_id": "AROATFQR7NSC3K2SEQDM2:MandoService2842426183934887787",
        "access_key_id": None,
        "session_issuer_arn": "arn:aws:iam::123837392027:role/aws-service-role/"
        "inspector2.amazonaws.com/AWSServiceRoleForAmazonInspector2",
        "session_issuer_type": "Role",
        "session_name": "MandoService2842426183934887787",
        "invoked_by": "inspector2.amazonaws.com",
        "mfa_authenticated": False,
        "principal_arn": "arn:aws:iam::123837392027:role/aws-service-role/"
        "inspector2.amazonaws.com/AWSServiceRoleForAmazonInspector2",
        "principal_type": "role",
        "error_code": None,
        "error_message": None,
        "read_only": True,
        "management_event": True,
        "request_parameters": '{"instancesSet":{"items":[{"instanceId":"i-0dbc91f429e48eeed"}]},'
        '"filterSet":{"items":[{"name":"instance-state-name","valueSet":{"items":'
        '[{"value":"running"},{"value":"pending"}]}}]}}',
        "response_elements": None,
        "resources": None,
        "additional_event_data": None,
        "shared_event_id": None,
        "vpc_endpoint_id": None,
        "source_file": rel,
        "record_index": 66,
    }


def test_invictus_schema(invictus):
    assert invictus[0].schema == CLOUDTRAIL_EVENTS_SCHEMA


def test_no_files_gives_an_empty_table_with_the_schema():
    table = read_events([], INVICTUS_DAY, Quarantine(source="cloudtrail"))
    assert (table.schema, table.num_rows) == (CLOUDTRAIL_EVENTS_SCHEMA, 0)


# ---------------------------------------------------------------------------------------------
# file_day / list_files_for_day


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "218007301253_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json.gz",
            date(2023, 7, 10),
        ),
        (
            "AWSLogs/o-abc123/111111111111/CloudTrail/eu-west-1/2024/02/29/export.json.gz",
            date(2024, 2, 29),
        ),
        # the delivery name wins over the folder
        (
            "AWSLogs/111111111111/CloudTrail/us-east-1/2023/07/11/"
            "111111111111_CloudTrail_us-east-1_20230710T2355Z_abcdefgh12345678.json.gz",
            date(2023, 7, 10),
        ),
        # an impossible date in the name falls back to the folder
        (
            "x/2023/07/12/111111111111_CloudTrail_us-east-1_20231340T2355Z_abcdefgh.json.gz",
            date(2023, 7, 12),
        ),
        ("logs/events.json.gz", None),
        ("AWSLogs/111111111111/CloudTrail/us-east-1/2023/07/", None),
        ("2023/13/01/file.json.gz", None),
    ],
)
def test_file_day(path: str, expected: date | None):
    assert file_day(path) == expected
    assert file_day(Path(path)) == expected


def _delivery_name(account: str, region: str, day: date, unique: str) -> str:
    return f"{account}_CloudTrail_{region}_{day:%Y%m%d}T1205Z_{unique}.json.gz"


def test_list_files_for_day_on_an_s3_layout_tree(tmp_path: Path):
    day, other = date(2023, 7, 10), date(2023, 7, 11)
    org = tmp_path / "AWSLogs" / "o-abc123def4"
    wanted = []
    for account in ("111111111111", "222222222222"):
        for region in ("us-east-1", "eu-west-1"):
            for d in (day, other):
                folder = org / account / "CloudTrail" / region / f"{d:%Y/%m/%d}"
                path = _write_gz(folder / _delivery_name(account, region, d, "u1"), {"Records": []})
                if d == day:
                    wanted.append(path)
    digest = (
        org / "111111111111" / "CloudTrail-Digest" / "us-east-1" / f"{day:%Y/%m/%d}"
        "/111111111111_CloudTrail-Digest_us-east-1_trail_us-east-1_20230710T120500Z.json.gz"
    )
    _write_gz(digest, {"digestStartTime": "2023-07-10T11:05:00Z"})
    flat = tmp_path / "exports"
    wanted.append(_write_gz(flat / _delivery_name("333333333333", "us-east-1", day, "f1"), {}))
    _write_gz(flat / _delivery_name("333333333333", "us-east-1", other, "f2"), {})
    (flat / "README.txt").write_text("not a log")

    assert list_files_for_day(tmp_path, day) == sorted(wanted)
    assert len(wanted) == 5
    assert list_files_for_day(str(tmp_path), date(2023, 7, 12)) == []


# ---------------------------------------------------------------------------------------------
# bad input: quarantined, and everything good beside it kept


def test_bad_files_and_records_are_quarantined_and_good_ones_kept(tmp_path: Path):
    good_records = [
        _event("good-1"),
        _without(_event("no-name"), "eventName"),
        _event("redacted-time", eventTime="redacted"),
        "not a record",
        _without(_event("no-source"), "eventSource"),
        _event("good-2"),
    ]
    files = [
        _write_gz(tmp_path / "a_good.json.gz", {"Records": good_records}),
        tmp_path / "b_corrupt.json.gz",
        tmp_path / "c_truncated_gzip.json.gz",
        tmp_path / "d_truncated.json",
        _write_gz(tmp_path / "e_not_cloudtrail.json.gz", {"foo": 1}),
        tmp_path / "f_plain.json",
    ]
    files[1].write_bytes(b"not gzip at all")
    files[2].write_bytes(gzip.compress(json.dumps({"Records": [_event("lost")]}).encode())[:40])
    files[3].write_text('{"Records": [\n  {"eventID": "lost-2", "eventTime": "2023-')
    files[5].write_text(json.dumps({"Records": [_event("good-3")]}))

    quarantine = Quarantine(source="cloudtrail", partition="2023-07-10")
    table = read_events(files, date(2023, 7, 10), quarantine, root=tmp_path)

    assert set(table.column("event_id").to_pylist()) == {"good-1", "good-2", "good-3"}
    assert [(r["source_file"], r["record_index"]) for r in table.to_pylist()] == [
        ("a_good.json.gz", 0),
        ("a_good.json.gz", 5),
        ("f_plain.json", 0),
    ]

    def entry(file: str, reason: str, record: str | None = None, field: str | None = None):
        return QuarantineEntry("cloudtrail", file, reason, record, field, "2023-07-10")

    assert quarantine.entries == [
        entry("a_good.json.gz", "missing required field eventName", "Records[1]", "eventName"),
        entry("a_good.json.gz", "unparseable eventTime 'redacted'", "Records[2]", "eventTime"),
        entry("a_good.json.gz", "record is not a JSON object (got str)", "Records[3]"),
        entry("a_good.json.gz", "missing required field eventSource", "Records[4]", "eventSource"),
        entry("b_corrupt.json.gz", "corrupt gzip: Not a gzipped file (b'no')"),
        entry(
            "c_truncated_gzip.json.gz",
            "corrupt gzip: Compressed file ended before the end-of-stream marker was reached",
        ),
        entry(
            "d_truncated.json",
            "invalid JSON at line 2 col 38: Unterminated string starting at",
        ),
        entry("e_not_cloudtrail.json.gz", "not a CloudTrail log file: no Records array"),
    ]
    assert table.schema == CLOUDTRAIL_EVENTS_SCHEMA


def test_source_file_is_the_path_as_passed_without_root(tmp_path: Path):
    path = _write_gz(tmp_path / "x.json.gz", {"Records": [_event("e1")]})
    table = read_events([path], date(2023, 7, 10), Quarantine(source="cloudtrail"))
    assert table.column("source_file").to_pylist() == [str(path)]


# ---------------------------------------------------------------------------------------------
# identity types beyond invictus


def test_federated_user_is_credited_to_the_issuing_iam_user(tmp_path: Path):
    records = json.loads(STRATUS_FEDERATION.read_text())
    path = _write_gz(tmp_path / "federation.json.gz", {"Records": records})
    quarantine = Quarantine(source="cloudtrail")
    table = read_events([path], date(2024, 11, 30), quarantine, root=tmp_path)
    got = {
        (r["identity_type"], r["principal_type"], r["principal_arn"], r["session_name"])
        for r in table.to_pylist()
    }
    issuer = "arn:aws:iam::742491224508:user/stratus-red-team-user-federation-user"
    assert quarantine.entries == []
    assert table.num_rows == len(records) == 2
    assert got == {
        ("IAMUser", "user", issuer, None),
        ("FederatedUser", "user", issuer, "stratus_red_team"),
    }
    federated = next(r for r in records if r["userIdentity"]["type"] == "FederatedUser")
    assert federated["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] == issuer


_ROOT_IDENTITY = {
    "type": "Root",
    "principalId": "111111111111",
    "arn": "arn:aws:iam::111111111111:root",
    "accountId": "111111111111",
    "accessKeyId": "",
}


@pytest.mark.parametrize(
    ("identity", "expected"),
    [
        (_ROOT_IDENTITY, ("root", "arn:aws:iam::111111111111:root", None)),
        (
            {"type": "Root", "accountId": "222222222222"},
            ("root", "arn:aws:iam::222222222222:root", None),
        ),
        (
            {"type": "Root", "arn": "arn:aws-us-gov:iam::333333333333:root"},
            ("root", "arn:aws-us-gov:iam::333333333333:root", None),
        ),
        (
            {"type": "IAMUser", "accountId": "111111111111", "userName": "bob"},
            ("user", "arn:aws:iam::111111111111:user/bob", None),
        ),
        (
            {
                "type": "FederatedUser",
                "arn": "arn:aws:sts::111111111111:federated-user/fed",
                "sessionContext": {
                    "sessionIssuer": {"type": "Root", "arn": "arn:aws:iam::111111111111:root"}
                },
            },
            ("root", "arn:aws:iam::111111111111:root", "fed"),
        ),
        ({"type": "AWSService", "invokedBy": "s3.amazonaws.com"}, ("aws_service", None, None)),
        (
            {"accountId": "111111111111", "invokedBy": "s3.amazonaws.com"},
            ("aws_service", None, None),
        ),
        (
            {"type": "SAMLUser", "principalId": "p:alice", "userName": "alice"},
            ("federated_idp", None, None),
        ),
        ({"type": "WebIdentityUser", "userName": "bob"}, ("federated_idp", None, None)),
        (
            {"type": "IdentityCenterUser", "accountId": "111111111111"},
            ("federated_idp", None, None),
        ),
        ({"type": "AWSAccount", "accountId": "999999999999"}, ("other_account", None, None)),
        ({"type": "Unknown", "userName": "typo"}, ("unknown", None, None)),
        ({}, ("unknown", None, None)),
        # AssumedRole without sessionContext: the role ARN is rebuilt from the session ARN
        (
            {"type": "AssumedRole", "arn": "arn:aws:sts::111111111111:assumed-role/Deploy/ci-42"},
            ("role", "arn:aws:iam::111111111111:role/Deploy", "ci-42"),
        ),
    ],
)
def test_principal_for_identity_types(tmp_path: Path, identity: dict, expected: tuple):
    path = _write_gz(tmp_path / "f.json.gz", {"Records": [_event("e1", userIdentity=identity)]})
    row = read_events([path], date(2023, 7, 10), Quarantine(source="cloudtrail")).to_pylist()[0]
    assert (row["principal_type"], row["principal_arn"], row["session_name"]) == expected


def test_root_record_whole_row_with_string_booleans(tmp_path: Path):
    record = _event(
        "root-1",
        userIdentity=_ROOT_IDENTITY,
        eventName="CreateAccessKey",
        readOnly="false",
        managementEvent="true",
        errorCode="AccessDenied",
        errorMessage="",
        sourceIPAddress="203.0.113.7",
        requestParameters={"userName": "alice"},
        sharedEventID="shared-1",
    )
    path = _write_gz(tmp_path / "root.json.gz", {"Records": [record]})
    table = read_events([path], date(2023, 7, 10), Quarantine(source="cloudtrail"), tmp_path)
    assert table.to_pylist() == [
        {
            "day": date(2023, 7, 10),
            "event_id": "root-1",
            "event_time": datetime(2023, 7, 10, 11, 45, 12, tzinfo=UTC),
            "event_version": "1.08",
            "event_source": "iam.amazonaws.com",
            "event_name": "CreateAccessKey",
            "event_type": "AwsApiCall",
            "event_category": None,
            "aws_region": "us-east-1",
            "source_ip_address": "203.0.113.7",
            "user_agent": None,
            "recipient_account_id": "111111111111",
            "identity_type": "Root",
            "identity_arn": "arn:aws:iam::111111111111:root",
            "identity_account_id": "111111111111",
            "identity_principal_id": "111111111111",
            "access_key_id": None,
            "session_issuer_arn": None,
            "session_issuer_type": None,
            "session_name": None,
            "invoked_by": None,
            "mfa_authenticated": None,
            "principal_arn": "arn:aws:iam::111111111111:root",
            "principal_type": "root",
            "error_code": "AccessDenied",
            "error_message": None,
            "read_only": False,
            "management_event": True,
            "request_parameters": '{"userName":"alice"}',
            "response_elements": None,
            "resources": None,
            "additional_event_data": None,
            "shared_event_id": "shared-1",
            "vpc_endpoint_id": None,
            "source_file": "root.json.gz",
            "record_index": 0,
        }
    ]


def test_fast_and_stdlib_paths_produce_the_same_rows(monkeypatch: pytest.MonkeyPatch):
    """The msgspec path (delivery files) and the stdlib path agree on every real record."""
    import json as _json

    from pipelines.lib.land import cloudtrail as ct

    files = sorted((INVICTUS / "CloudTrail").glob("*.json.gz"))
    fast = ct.read_events(files, date(2023, 7, 10), Quarantine("cloudtrail"), INVICTUS)
    monkeypatch.setattr(ct, "_fast_table", lambda raw, obj, day: None)
    slow = ct.read_events(files, date(2023, 7, 10), Quarantine("cloudtrail"), INVICTUS)
    json_columns = {"request_parameters", "response_elements", "resources", "additional_event_data"}

    def normal(row: dict) -> dict:
        return {k: (_json.loads(v) if k in json_columns and v else v) for k, v in row.items()}

    assert fast.num_rows == slow.num_rows == 2900
    assert [normal(r) for r in fast.to_pylist()] == [normal(r) for r in slow.to_pylist()]


def test_large_files_are_streamed_in_batches_with_the_same_rows(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    """Files over STREAM_MIN_BYTES are decoded one record at a time (bounded memory)."""
    import json as _json

    from pipelines.lib.land import cloudtrail as ct
    from pipelines.lib.land import cloudtrail_stream as cs

    files = sorted((INVICTUS / "CloudTrail").glob("*.json.gz"))[:5]
    whole = ct.read_events(files, date(2023, 7, 10), Quarantine("cloudtrail"), INVICTUS)
    monkeypatch.setattr(ct, "STREAM_MIN_BYTES", 0)
    monkeypatch.setattr(cs, "STREAM_BATCH_RECORDS", 7)
    monkeypatch.setattr(cs, "_CHUNK_CHARS", 1000)
    source = ct.CloudTrailSource(INVICTUS)
    objects = [
        ct.LogObject(f.relative_to(INVICTUS).as_posix(), 1, "", date(2023, 7, 10)) for f in files
    ]
    streamed = ct.read_objects(source, objects, date(2023, 7, 10), Quarantine("cloudtrail"))[0]
    cols = {"request_parameters", "response_elements", "resources", "additional_event_data"}

    def normal(row: dict) -> dict:
        return {k: (_json.loads(v) if k in cols and v else v) for k, v in row.items()}

    assert [normal(r) for r in streamed.to_pylist()] == [normal(r) for r in whole.to_pylist()]

    # A truncated stream keeps the records before the break and quarantines the rest.
    records = [_event(f"t{i}") for i in range(5)]
    text = _json.dumps({"Records": records})
    cut = tmp_path / "cut.json"
    cut.write_text(text[: text.index('"t3"') + 10])
    quarantine = Quarantine("cloudtrail")
    obj = ct.LogObject(str(cut), 1, "", date(2023, 7, 10))
    table, _counts = ct.read_objects(
        ct.CloudTrailSource(tmp_path), [obj], date(2023, 7, 10), quarantine
    )
    assert table.column("event_id").to_pylist() == ["t0", "t1", "t2"]
    assert [(e.record, e.reason.split(":")[0]) for e in quarantine.entries] == [
        ("Records[3]", "invalid JSON")
    ]


# ---------------------------------------------------------------------------------------------
# hostile input: one record's problem stays that record's (issue 18)


def _hostile_text() -> bytes:
    """Records[0..5]: good, not UTF-8, nested 100,000 deep, a 5000-digit number, 300 KB of
    text, good."""
    records = [
        _event("h0"),
        _event("h1", userAgent="@@FF@@"),
        _event("h2", requestParameters="@@DEEP@@"),
        _event("h3", requestParameters="@@INT@@"),
        _event("h4", requestParameters={"blob": "x" * 300_000}),
        _event("h5"),
    ]
    text = json.dumps({"Records": records}, separators=(",", ":"))
    text = text.replace('"@@DEEP@@"', "[" * 100_000 + "]" * 100_000)
    text = text.replace('"@@INT@@"', "1" * 5000)
    return text.encode().replace(b"@@FF@@", b"\xff")


@pytest.mark.parametrize("streamed", [False, True])
def test_hostile_records_are_quarantined_one_by_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, streamed: bool
):
    """Whole (small file) or streamed, each undecodable record is quarantined by its label and
    the records around it land with their own record index."""
    from pipelines.lib.land import cloudtrail as ct
    from pipelines.lib.land import cloudtrail_stream as cs

    monkeypatch.setattr(cs, "MAX_RECORD_CHARS", 100_000)
    if streamed:
        monkeypatch.setattr(ct, "STREAM_MIN_BYTES", 0)
        monkeypatch.setattr(cs, "_CHUNK_CHARS", 4096)
    path = tmp_path / "h.json.gz"
    path.write_bytes(gzip.compress(_hostile_text()))
    obj = ct.LogObject("h.json.gz", 1, "", date(2023, 7, 10))
    quarantine = Quarantine("cloudtrail")
    table, _ = ct.read_objects(ct.CloudTrailSource(tmp_path), [obj], date(2023, 7, 10), quarantine)
    assert table.column("event_id").to_pylist() == ["h0", "h5"]
    assert table.column("record_index").to_pylist() == [0, 5]
    assert [(e.record, e.reason.split(":")[0]) for e in quarantine.entries] == [
        ("Records[1]", "not UTF-8 text"),
        ("Records[2]", "JSON nested too deeply"),
        ("Records[3]", "invalid JSON value"),
        ("Records[4]", "record larger than 0 MB"),
    ]


def test_streamed_json_lines_keep_going_after_a_bad_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    from pipelines.lib.land import cloudtrail as ct

    monkeypatch.setattr(ct, "STREAM_MIN_BYTES", 0)
    lines = [
        json.dumps(_event("j1")),
        '{"eventID": "broken", "eventTime": ',
        json.dumps(_event("j3", requestParameters="@@DEEP@@")).replace(
            '"@@DEEP@@"', "[" * 50_000 + "]" * 50_000
        ),
        "",
        json.dumps(_event("j5")),
    ]
    (tmp_path / "export.jsonl").write_text("\n".join(lines) + "\n")
    obj = ct.LogObject("export.jsonl", 1, "", None)
    quarantine = Quarantine("cloudtrail")
    table, _ = ct.read_objects(ct.CloudTrailSource(tmp_path), [obj], date(2023, 7, 10), quarantine)
    assert table.column("event_id").to_pylist() == ["j1", "j5"]
    assert [(e.record, e.reason.split(":")[0]) for e in quarantine.entries] == [
        ("line 2", "invalid JSON at col 36"),
        ("line 3", "JSON nested too deeply"),
    ]


def test_implausible_event_times_are_quarantined_on_both_paths(tmp_path: Path):
    """Before 2013-11-01 (no CloudTrail yet) or more than a day after the delivery day; the
    day after is accepted (clock skew, events delivered after midnight)."""
    records = [
        _event("ok"),
        _event("next-day", eventTime="2023-07-11T23:59:59Z"),
        _event("ancient", eventTime="2013-10-31T23:59:59Z"),
        _event("future", eventTime="2023-07-12T00:00:00Z"),
    ]
    path = _write_gz(
        tmp_path / _delivery_name("111111111111", "us-east-1", date(2023, 7, 10), "p"),
        {"Records": records},
    )
    quarantine = Quarantine("cloudtrail")
    table = read_events([path], date(2023, 7, 10), quarantine, root=tmp_path)
    assert table.column("event_id").to_pylist() == ["ok", "next-day"]
    assert [(e.record, e.field, e.reason) for e in quarantine.entries] == [
        (
            "Records[2]",
            "eventTime",
            "eventTime '2013-10-31T23:59:59Z' before CloudTrail existed (2013-11-01)",
        ),
        (
            "Records[3]",
            "eventTime",
            "eventTime '2023-07-12T00:00:00Z' more than one day after the file's delivery day "
            "2023-07-10",
        ),
    ]


def test_a_lone_surrogate_escape_quarantines_its_record_only(tmp_path: Path):
    text = json.dumps({"Records": [_event("s1", userAgent="\ud800"), _event("s2")]})
    path = tmp_path / "s.json.gz"
    path.write_bytes(gzip.compress(text.encode()))
    quarantine = Quarantine("cloudtrail")
    table = read_events([path], date(2023, 7, 10), quarantine, root=tmp_path)
    assert table.column("event_id").to_pylist() == ["s2"]
    assert [e.record for e in quarantine.entries] == ["Records[0]"]


@pytest.mark.parametrize("fast", [True, False])
def test_an_event_long_before_its_delivery_day_is_quarantined(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fast: bool
):
    """An event of 2014 in a file delivered on 2023-07-10 is no delivery of that event (a late
    delivery takes hours, not years); events within 30 days before the delivery day land."""
    from pipelines.lib.land import cloudtrail as ct

    if not fast:
        monkeypatch.setattr(ct, "_fast_table", lambda *_: None)
    name = "111111111111_CloudTrail_us-east-1_20230710T1200Z_abcdefghijklmnop.json.gz"
    records = [
        _event("recent"),
        _event("late", eventTime="2023-06-20T08:00:00Z"),
        _event("ancient", eventTime="2014-05-01T00:00:00Z"),
    ]
    (tmp_path / name).write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))
    quarantine = Quarantine("cloudtrail")
    obj = ct.LogObject(name, 1, "", date(2023, 7, 10))
    table, _ = ct.read_objects(ct.CloudTrailSource(tmp_path), [obj], date(2023, 7, 10), quarantine)
    assert table.column("event_id").to_pylist() == ["recent", "late"]
    assert [(e.record, e.field, e.reason) for e in quarantine.entries] == [
        (
            "Records[2]",
            "eventTime",
            "eventTime '2014-05-01T00:00:00Z' more than 30 days before the file's delivery day "
            "2023-07-10",
        )
    ]


def test_delivery_files_in_one_or_two_gzip_members_land_as_the_stdlib_path_reads_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    """The fast path (one zlib call, rows built a column at a time) and the stdlib path give
    the same rows: empty strings as null, JSON null parts as null, "true"/"false" strings as
    booleans, the JSON text as delivered; a file of two gzip members (concatenated) is read
    whole, never cut at its first member."""
    from pipelines.lib.land import cloudtrail as ct

    account = "111111111111"
    day_dir = tmp_path / "AWSLogs" / account / "CloudTrail" / "us-east-1" / "2026" / "11" / "20"
    day_dir.mkdir(parents=True)

    def record(i: int, **extra: Any) -> dict[str, Any]:
        return {
            "eventVersion": "1.08",
            "eventTime": f"2026-11-20T10:{i:02d}:00Z",
            "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject",
            "eventID": f"id-{i}",
            "awsRegion": "us-east-1",
            "recipientAccountId": account,
            "userIdentity": {
                "type": "IAMUser",
                "arn": f"arn:aws:iam::{account}:user/u{i}",
                "accountId": account,
                "accessKeyId": "",
            },
            "requestParameters": {"bucketName": "b", "key": f"k{i}", "n": [1, 2.5, None]},
            "responseElements": None,
            **extra,
        }

    first = [
        record(0, errorCode="", readOnly="true", userAgent=""),
        record(1, managementEvent="false", additionalEventData={"x": "é"}),
    ]
    second = [record(2, readOnly=True, eventID="")]
    one = day_dir / f"{account}_CloudTrail_us-east-1_20261120T1000Z_one.json.gz"
    one.write_bytes(gzip.compress(json.dumps({"Records": first + second}).encode()))
    # Two gzip members: `zcat` reads both; so must landing (the second holds no Records key
    # alone, so the two decompressed texts make one JSON document only together).
    text = json.dumps({"Records": first + second}).encode()
    cut = text.index(b'{"eventVersion"', len(text) // 2)
    two = day_dir / f"{account}_CloudTrail_us-east-1_20261120T1005Z_two.json.gz"
    two.write_bytes(gzip.compress(text[:cut]) + gzip.compress(text[cut:]))
    files = [one, two]
    quarantine = Quarantine("cloudtrail")
    fast = ct.read_events(files, date(2026, 11, 20), quarantine, tmp_path)
    monkeypatch.setattr(ct, "_fast_table", lambda *_: None)
    slow = ct.read_events(files, date(2026, 11, 20), Quarantine("cloudtrail"), tmp_path)
    json_columns = {"request_parameters", "response_elements", "resources", "additional_event_data"}

    def normal(row: dict) -> dict:
        return {k: (json.loads(v) if k in json_columns and v else v) for k, v in row.items()}

    assert quarantine.entries == []
    assert fast.num_rows == slow.num_rows == 6
    assert [normal(r) for r in fast.to_pylist()] == [normal(r) for r in slow.to_pylist()]
    rows = fast.to_pylist()
    assert [
        (r["event_id"], r["error_code"], r["user_agent"], r["access_key_id"]) for r in rows[:3]
    ] == [
        ("id-0", None, None, None),
        ("id-1", None, None, None),
        (None, None, None, None),
    ]
    assert [(r["read_only"], r["management_event"]) for r in rows[:3]] == [
        (True, None),
        (None, False),
        (True, None),
    ]
    assert rows[0]["response_elements"] is None
    keys = [f.relative_to(tmp_path).as_posix() for f in files]
    assert [r["source_file"] for r in rows] == [keys[0]] * 3 + [keys[1]] * 3
