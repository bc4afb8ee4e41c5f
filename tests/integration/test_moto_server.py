"""The moto server fixture serves S3 over real HTTP."""

from __future__ import annotations

import boto3


def test_moto_server_round_trips_an_object(aws_env: str) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="ciem-fixture-check")
    s3.put_object(Bucket="ciem-fixture-check", Key="a/b.json", Body=b'{"x": 1}')
    body = s3.get_object(Bucket="ciem-fixture-check", Key="a/b.json")["Body"].read()
    assert body == b'{"x": 1}'
    assert s3.meta.endpoint_url == aws_env
