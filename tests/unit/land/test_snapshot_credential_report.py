"""Snapshot reader: credential-report.csv (as AWS returns it) -> raw_credential_report."""

from __future__ import annotations

from tests.unit.land.snapshot_files import (
    ACCOUNT,
    CREDENTIAL_REPORT,
    land,
    quarantined,
    rows,
    utc,
    write,
)

_NULL_KEY_2 = {
    "access_key_2_active": False,
    "access_key_2_last_rotated": None,
    "access_key_2_last_used_date": None,
    "access_key_2_last_used_region": None,
    "access_key_2_last_used_service": None,
}


def test_credential_report_nulls_and_bools(snap):
    write(snap / ACCOUNT / "iam" / "credential-report.csv", CREDENTIAL_REPORT)
    tables, quarantine = land(snap)
    assert rows(tables, "raw_credential_report") == [
        {
            "account_id": ACCOUNT,
            "user": "<root_account>",
            "arn": "arn:aws:iam::111111111111:root",
            "user_creation_time": utc(2020, 1, 15, 9, 30),
            "password_enabled": None,
            "password_last_used": utc(2026, 11, 10, 8, 0),
            "password_last_changed": None,
            "password_next_rotation": None,
            "mfa_active": True,
            "access_key_1_active": False,
            "access_key_1_last_rotated": None,
            "access_key_1_last_used_date": None,
            "access_key_1_last_used_region": None,
            "access_key_1_last_used_service": None,
            **_NULL_KEY_2,
        },
        {
            "account_id": ACCOUNT,
            "user": "alice",
            "arn": "arn:aws:iam::111111111111:user/alice",
            "user_creation_time": utc(2024, 2, 1, 12, 0),
            "password_enabled": True,
            "password_last_used": None,
            "password_last_changed": utc(2024, 2, 1, 12, 5),
            "password_next_rotation": None,
            "mfa_active": False,
            "access_key_1_active": True,
            "access_key_1_last_rotated": utc(2024, 2, 1, 12, 10),
            "access_key_1_last_used_date": utc(2026, 11, 19, 22, 15),
            "access_key_1_last_used_region": "us-east-1",
            "access_key_1_last_used_service": "s3",
            **_NULL_KEY_2,
        },
    ]
    # Without a GAAD file the account lands no IAM principals, and that is not an error.
    assert tables["raw_iam_users"].num_rows == 0
    assert quarantine.entries == []


def test_credential_report_bad_cells_and_rows(snap):
    header = "user,arn,user_creation_time,password_enabled,mfa_active\n"
    lines = "bob,arn:aws:iam::111111111111:user/bob,soon,yes,false\ncarol\n"
    write(snap / ACCOUNT / "iam" / "credential-report.csv", header + lines)
    write(snap / "222222222222" / "iam" / "credential-report.csv", "not,a,report\n1,2,3\n")
    tables, quarantine = land(snap)
    assert [
        (r["user"], r["user_creation_time"], r["password_enabled"], r["mfa_active"])
        for r in rows(tables, "raw_credential_report")
    ] == [("bob", None, None, False)]
    report = f"{ACCOUNT}/iam/credential-report.csv"
    assert quarantined(quarantine) == {
        (report, "line 2", "user_creation_time"),
        (report, "line 2", "password_enabled"),
        (report, "line 3", None),
        ("222222222222/iam/credential-report.csv", None, None),
    }


def test_a_line_with_too_few_or_too_many_fields_is_refused_whole(snap):
    # A short line would read as "no MFA, no password" for its user; a long one shifts nothing
    # the reader can trust. Either is quarantined by line; the other lines land.
    header = "user,arn,user_creation_time,password_enabled,mfa_active\n"
    lines = (
        "bob,arn:aws:iam::111111111111:user/bob,2024-02-01T12:00:00+00:00,true,true\n"
        "dave,arn:aws:iam::111111111111:user/dave,2024-02-01T12:00:00+00:00\n"
        "erin,arn:aws:iam::111111111111:user/erin,2024-02-01T12:00:00+00:00,true,true,extra\n"
        "frank,arn:aws:iam::111111111111:user/frank,2024-02-01T12:00:00+00:00,false,false\n"
    )
    write(snap / ACCOUNT / "iam" / "credential-report.csv", header + lines)
    tables, quarantine = land(snap)
    assert [
        (r["user"], r["password_enabled"], r["mfa_active"])
        for r in rows(tables, "raw_credential_report")
    ] == [("bob", True, True), ("frank", False, False)]
    report = f"{ACCOUNT}/iam/credential-report.csv"
    assert quarantined(quarantine) == {(report, "line 3", None), (report, "line 4", None)}
    assert sorted((e.reason, e.subject_arn) for e in quarantine.entries) == [
        ("expected 5 fields as in the header, got 3", "arn:aws:iam::111111111111:user/dave"),
        ("expected 5 fields as in the header, got 6", "arn:aws:iam::111111111111:user/erin"),
    ]
