"""Snapshot reader: `<account>/s3/list-buckets.json` (`aws s3api list-buckets`) -> raw_s3_buckets,
so a bucket's owner is known with or without a bucket policy
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html: the buckets owned by the
sender of the request)."""

from __future__ import annotations

from tests.unit.land.snapshot_files import ACCOUNT, land, quarantined, rows, utc, write


def test_list_buckets_lands_every_owned_bucket(snap):
    write(
        snap / ACCOUNT / "s3" / "list-buckets.json",
        {
            "Buckets": [
                {"Name": "logs", "CreationDate": "2025-01-02T03:04:05+00:00"},
                {
                    "Name": "data",
                    "CreationDate": "2025-02-01T00:00:00Z",
                    "BucketRegion": "eu-west-1",
                },
                {"Name": "logs", "CreationDate": "2025-01-02T03:04:05+00:00"},  # pages merged twice
                {"CreationDate": "2025-02-01T00:00:00Z"},
            ],
            "Owner": {"DisplayName": "owner", "ID": "abc"},
        },
    )
    tables, quarantine = land(snap)
    assert rows(tables, "raw_s3_buckets") == [
        {
            "account_id": ACCOUNT,
            "bucket": "logs",
            "creation_date": utc(2025, 1, 2, 3, 4, 5),
            "region": None,
        },
        {
            "account_id": ACCOUNT,
            "bucket": "data",
            "creation_date": utc(2025, 2, 1),
            "region": "eu-west-1",
        },
    ]
    assert quarantined(quarantine) == {(f"{ACCOUNT}/s3/list-buckets.json", "Buckets[3]", "Name")}


def test_no_list_buckets_file_lands_nothing(snap):
    (snap / ACCOUNT).mkdir(parents=True)
    tables, quarantine = land(snap)
    assert rows(tables, "raw_s3_buckets") == []
    assert quarantined(quarantine) == set()
