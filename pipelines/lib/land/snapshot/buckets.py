"""S3 buckets of a snapshot (landing layer): `<account_id>/s3/list-buckets.json`, the output of
`aws s3api list-buckets`, which lists the buckets the account owns. A bucket's owner is then
known whether or not the bucket has a policy (`ciem explain` treats a bucket whose owner is
unknown as outside the organization)."""

from __future__ import annotations

from typing import Any

from pipelines.lib.land.snapshot.context import Ctx, Seen
from pipelines.lib.land.snapshot.schemas import Row

LIST_BUCKETS_FILE = "list-buckets.json"


def _bucket_row(ctx: Ctx, bucket: dict[str, Any]) -> Row:
    return {
        "account_id": ctx.account_id,
        "bucket": bucket["Name"],
        "creation_date": ctx.timestamp(bucket.get("CreationDate"), "CreationDate"),
        "region": bucket.get("BucketRegion"),
    }


def land_buckets(ctx: Ctx, doc: dict[str, Any]) -> None:
    for bucket_ctx, bucket in ctx.entries(doc, "Buckets", Seen("Name")):
        bucket_ctx.land("raw_s3_buckets", _bucket_row, bucket)
