"""Links only from validated parts (issue 18, item 5).

A detection's `console_url` (the explorer's "Fix in AWS" button, the OCSF export's reference) is
built only from an ARN that matches the AWS grammar of its resource type; a crafted ARN (a region
`evil.example/login?x=`, an 11-digit account, an unknown partition, a name with `/`, `?`, `#`,
`..` or non-ASCII letters) gives no link at all. Real-shaped ARNs keep exactly the link they had.
The Dagster preview metadata is a table of plain strings, so a value written as Markdown (a link,
an image) is never rendered.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import dagster as dg
import pyarrow as pa
import pytest

from pipelines.defs.landing import preview
from pipelines.lib.findings.ocsf import detection_finding
from tests.sql.harness import build, rows

ACCT = "123456789012"
AS_OF = date(2026, 11, 20)
RECORDED = datetime(2026, 11, 20, tzinfo=UTC)
CONSOLE_HOSTS = {
    "console.aws.amazon.com",
    "s3.console.aws.amazon.com",
    "console.amazonaws.cn",
    "s3.console.amazonaws.cn",
    "console.amazonaws-us-gov.com",
    "s3.console.amazonaws-us-gov.com",
}

# Real-shaped ARNs of every resource type, with the link the model built before the ARN grammar
# was enforced (the same URLs: validation removes links, it never changes one).
REAL: list[tuple[str, str, str]] = [
    (
        "iam_user",
        f"arn:aws:iam::{ACCT}:user/alice.admin",
        "https://console.aws.amazon.com/iam/home#/users/details/alice.admin",
    ),
    (
        "iam_user",
        f"arn:aws:iam::{ACCT}:user/team/ops/bob+ci=1,x@corp-y_z",
        "https://console.aws.amazon.com/iam/home#/users/details/bob%2Bci%3D1%2Cx%40corp-y_z",
    ),
    (
        "iam_role",
        f"arn:aws:iam::{ACCT}:role/aws-reserved/sso.amazonaws.com/"
        "AWSReservedSSO_AdministratorAccess_cb9c597d01a6b620",
        "https://console.aws.amazon.com/iam/home#/roles/details/"
        "AWSReservedSSO_AdministratorAccess_cb9c597d01a6b620",
    ),
    (
        "iam_role",
        f"arn:aws:iam::{ACCT}:role/service-role/batch-admin-ec2-role",
        "https://console.aws.amazon.com/iam/home#/roles/details/batch-admin-ec2-role",
    ),
    (
        "iam_role",
        "arn:aws-us-gov:iam::123456789012:role/ops",
        "https://console.amazonaws-us-gov.com/iam/home#/roles/details/ops",
    ),
    (
        "iam_group",
        f"arn:aws:iam::{ACCT}:group/Admins",
        "https://console.aws.amazon.com/iam/home#/groups/details/Admins",
    ),
    (
        "aws_account",
        f"arn:aws:iam::{ACCT}:root",
        "https://console.aws.amazon.com/iam/home#/security_credentials",
    ),
    (
        "aws_account",
        f"arn:aws-cn:iam::{ACCT}:root",
        "https://console.amazonaws.cn/iam/home#/security_credentials",
    ),
    (
        "ec2_instance",
        f"arn:aws:ec2:us-east-1:{ACCT}:instance/i-0843d366026e79085",
        "https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1"
        "#InstanceDetails:instanceId=i-0843d366026e79085",
    ),
    (
        "ec2_instance",
        f"arn:aws-us-gov:ec2:us-gov-west-1:{ACCT}:instance/i-0abc1234",
        "https://console.amazonaws-us-gov.com/ec2/home?region=us-gov-west-1"
        "#InstanceDetails:instanceId=i-0abc1234",
    ),
    (
        "lambda_function",
        f"arn:aws:lambda:eu-west-1:{ACCT}:function:ops-automation",
        "https://eu-west-1.console.aws.amazon.com/lambda/home?region=eu-west-1"
        "#/functions/ops-automation",
    ),
    (
        "lambda_function",
        f"arn:aws:lambda:ap-southeast-2:{ACCT}:function:Report_Fn-2:$LATEST",
        "https://ap-southeast-2.console.aws.amazon.com/lambda/home?region=ap-southeast-2"
        "#/functions/Report_Fn-2",
    ),
    (
        "lambda_function",
        f"arn:aws:lambda:us-east-1:{ACCT}:function:orders:live",
        "https://us-east-1.console.aws.amazon.com/lambda/home?region=us-east-1#/functions/orders",
    ),
    (
        "lambda_function",
        "arn:aws-cn:lambda:cn-north-1:123456789012:function:f",
        "https://console.amazonaws.cn/lambda/home?region=cn-north-1#/functions/f",
    ),
    (
        "s3_bucket",
        "arn:aws:s3:::ciem-demo-prod-orders-data",
        "https://s3.console.aws.amazon.com/s3/buckets/ciem-demo-prod-orders-data",
    ),
    (
        "s3_bucket",
        "arn:aws:s3:::logs.example.com",
        "https://s3.console.aws.amazon.com/s3/buckets/logs.example.com",
    ),
    (
        "s3_bucket",
        "arn:aws:s3:::Legacy_Bucket",
        "https://s3.console.aws.amazon.com/s3/buckets/Legacy_Bucket",
    ),
    (
        "s3_bucket",
        "arn:aws-cn:s3:::cn-data",
        "https://s3.console.amazonaws.cn/s3/buckets/cn-data",
    ),
    (
        "kms_key",
        f"arn:aws:kms:us-east-1:{ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "https://us-east-1.console.aws.amazon.com/kms/home?region=us-east-1"
        "#/kms/keys/1234abcd-12ab-34cd-56ef-1234567890ab",
    ),
    (
        "kms_key",
        f"arn:aws:kms:eu-central-1:{ACCT}:key/mrk-1234abcd12ab34cd56ef1234567890ab",
        "https://eu-central-1.console.aws.amazon.com/kms/home?region=eu-central-1"
        "#/kms/keys/mrk-1234abcd12ab34cd56ef1234567890ab",
    ),
    (
        "sqs_queue",
        f"arn:aws:sqs:eu-west-1:{ACCT}:orders",
        "https://eu-west-1.console.aws.amazon.com/sqs/v3/home?region=eu-west-1#/queues/"
        f"https%3A%2F%2Fsqs.eu-west-1.amazonaws.com%2F{ACCT}%2Forders",
    ),
    (
        "sqs_queue",
        f"arn:aws-cn:sqs:cn-northwest-1:{ACCT}:jobs_1.fifo",
        "https://console.amazonaws.cn/sqs/v3/home?region=cn-northwest-1#/queues/"
        f"https%3A%2F%2Fsqs.cn-northwest-1.amazonaws.com.cn%2F{ACCT}%2Fjobs_1.fifo",
    ),
    (
        "sns_topic",
        f"arn:aws:sns:us-east-1:{ACCT}:alerts",
        "https://us-east-1.console.aws.amazon.com/sns/v3/home?region=us-east-1#/topic/"
        f"arn:aws:sns:us-east-1:{ACCT}:alerts",
    ),
    (
        "sns_topic",
        f"arn:aws:sns:us-west-2:{ACCT}:Build_Events-1.fifo",
        "https://us-west-2.console.aws.amazon.com/sns/v3/home?region=us-west-2#/topic/"
        f"arn:aws:sns:us-west-2:{ACCT}:Build_Events-1.fifo",
    ),
    (
        "secretsmanager_secret",
        f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:prod/db-AbC123",
        "https://us-east-1.console.aws.amazon.com/secretsmanager/secret"
        "?name=prod%2Fdb&region=us-east-1",
    ),
    (
        "secretsmanager_secret",
        f"arn:aws:secretsmanager:eu-west-3:{ACCT}:secret:app/key+v2=a.b@c-XyZ789",
        "https://eu-west-3.console.aws.amazon.com/secretsmanager/secret"
        "?name=app%2Fkey%2Bv2%3Da.b%40c&region=eu-west-3",
    ),
]

EVIL_REGION = "evil.example/login?x="
# Crafted ARNs: each has one part outside the AWS grammar, and gets no link.
CRAFTED: list[tuple[str, str]] = [
    # the measured case: a region that turns the host into evil.example
    ("lambda_function", f"arn:aws:lambda:{EVIL_REGION}:{ACCT}:function:f"),
    ("ec2_instance", f"arn:aws:ec2:{EVIL_REGION}:{ACCT}:instance/i-0abc1234"),
    ("kms_key", f"arn:aws:kms:{EVIL_REGION}:{ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
    ("sqs_queue", f"arn:aws:sqs:{EVIL_REGION}:{ACCT}:q"),
    ("sns_topic", f"arn:aws:sns:{EVIL_REGION}:{ACCT}:t"),
    ("secretsmanager_secret", f"arn:aws:secretsmanager:{EVIL_REGION}:{ACCT}:secret:s-AbC123"),
    ("lambda_function", f"arn:aws:lambda:evil.example#:{ACCT}:function:f"),
    ("lambda_function", f"arn:aws:lambda:us-east-1.evil.example:{ACCT}:function:f"),
    ("lambda_function", f"arn:aws:lambda:US-EAST-1:{ACCT}:function:f"),
    ("lambda_function", f"arn:aws:lambda::{ACCT}:function:f"),  # a regional service, no region
    ("iam_role", f"arn:aws:iam:us-east-1:{ACCT}:role/r"),  # IAM is global: no region
    ("s3_bucket", "arn:aws:s3:us-east-1::bucket"),
    # accounts
    ("lambda_function", "arn:aws:lambda:us-east-1:12345678901a:function:f"),
    ("sqs_queue", "arn:aws:sqs:us-east-1:12345678901:q"),
    ("sqs_queue", "arn:aws:sqs:us-east-1:evil.example%2F:q"),
    ("iam_user", "arn:aws:iam::1234567890123:user/u"),
    ("aws_account", "arn:aws:iam::12345678901a:root"),
    # partitions
    ("iam_user", f"arn:aws-mars:iam::{ACCT}:user/u"),
    ("s3_bucket", "arn:aws-mars:s3:::bucket"),
    ("lambda_function", f"arn:evil.example/x?:lambda:us-east-1:{ACCT}:function:f"),
    ("iam_user", f"arn::iam::{ACCT}:user/u"),
    # Lambda function names: [a-zA-Z0-9_-] only
    ("lambda_function", f"arn:aws:lambda:us-east-1:{ACCT}:function:a/b"),
    ("lambda_function", f"arn:aws:lambda:us-east-1:{ACCT}:function:a?b=c"),
    ("lambda_function", f"arn:aws:lambda:us-east-1:{ACCT}:function:a#b"),
    ("lambda_function", f"arn:aws:lambda:us-east-1:{ACCT}:function:.."),
    ("lambda_function", f"arn:aws:lambda:us-east-1:{ACCT}:function:../../x"),
    ("lambda_function", f"arn:aws:lambda:us-east-1:{ACCT}:function:fünction"),
    ("lambda_function", f"arn:aws:lambda:us-east-1:{ACCT}:function:f%2F.."),
    ("lambda_function", f"arn:aws:lambda:us-east-1:{ACCT}:function:f:v1:extra"),
    ("lambda_function", f"arn:aws:lambda:us-east-1:{ACCT}:function:" + "f" * 65),
    ("lambda_function", f"arn:aws:lambda:us-east-1:{ACCT}:function:"),
    # IAM names: [\w+=,.@-] (ASCII)
    ("iam_user", f"arn:aws:iam::{ACCT}:user/a?b"),
    ("iam_role", f"arn:aws:iam::{ACCT}:role/a#b"),
    ("iam_group", f"arn:aws:iam::{ACCT}:group/adm ins"),
    ("iam_role", f"arn:aws:iam::{ACCT}:role/rôle"),
    ("iam_role", f"arn:aws:iam::{ACCT}:role/"),
    ("iam_role", f"arn:aws:iam::{ACCT}:role/path with space/r"),
    ("iam_user", f"arn:aws:iam::{ACCT}:role/r"),  # a role's ARN given as a user
    # resource ids
    ("ec2_instance", f"arn:aws:ec2:us-east-1:{ACCT}:instance/i-0abc/../../x"),
    ("ec2_instance", f"arn:aws:ec2:us-east-1:{ACCT}:instance/i-0ABCxyz"),
    ("kms_key", f"arn:aws:kms:us-east-1:{ACCT}:key/not-a-key?x=1"),
    ("kms_key", f"arn:aws:kms:us-east-1:{ACCT}:alias/a"),
    ("s3_bucket", "arn:aws:s3:::.."),
    ("s3_bucket", "arn:aws:s3:::b/../../evil"),
    ("s3_bucket", "arn:aws:s3:::bucket?x=1"),
    ("s3_bucket", "arn:aws:s3:::bücket"),
    ("s3_bucket", "arn:aws:s3:::-bucket"),
    ("sqs_queue", f"arn:aws:sqs:us-east-1:{ACCT}:q/../x"),
    ("sns_topic", f"arn:aws:sns:us-east-1:{ACCT}:t#x"),
    ("sns_topic", f"arn:aws:sns:us-east-1:{ACCT}:t?x=1"),
    ("secretsmanager_secret", f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:a?b#c-AbC123"),
    ("secretsmanager_secret", f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:sécret-AbC123"),
    # shapes
    ("iam_user", f"ARN:aws:iam::{ACCT}:user/u"),
    ("iam_user", f" arn:aws:iam::{ACCT}:user/u"),
    ("iam_user", f"arn:aws:iam::{ACCT}:user/u\n"),
    ("iam_user", f"arn:aws:iam::{ACCT}:user/u\nhttps://evil.example"),
    ("iam_user", "https://evil.example/"),
    ("unknown_type", f"arn:aws:iam::{ACCT}:user/u"),
]


def _history(resource_type: str | None, arn: str, detection_id: str) -> dict[str, Any]:
    return {
        "as_of": AS_OF,
        "detection_id": detection_id,
        "rule_id": "admin-lambda-function",
        "severity": "high",
        "resource_arn": arn,
        "resource_type": resource_type,
        "account_id": ACCT,
        "title": "t",
        "evidence": "{}",
        "recorded_at": RECORDED,
    }


def _console_urls(cases: list[tuple[str | None, str]]) -> list[str | None]:
    """The detections' console_url for each (resource_type, resource_arn), in order."""
    history = [_history(kind, arn, f"d{i}") for i, (kind, arn) in enumerate(cases)]
    con = build({"detection_history": history}, ["detections"], as_of=AS_OF)
    got = dict(rows(con, "select detection_id, console_url from detections"))
    assert len(got) == len(cases)
    return [got[f"d{i}"] for i in range(len(cases))]


def test_real_shaped_arns_keep_their_links() -> None:
    got = _console_urls([(kind, arn) for kind, arn, _ in REAL])
    assert got == [url for _, _, url in REAL]
    assert {kind for kind, _, _ in REAL} == {
        "iam_user",
        "iam_role",
        "iam_group",
        "aws_account",
        "ec2_instance",
        "lambda_function",
        "s3_bucket",
        "kms_key",
        "sqs_queue",
        "sns_topic",
        "secretsmanager_secret",
    }


@pytest.mark.parametrize(("kind", "arn"), CRAFTED, ids=[f"{k}:{a!r}" for k, a in CRAFTED])
def test_crafted_arn_has_no_link(kind: str, arn: str) -> None:
    assert _console_urls([(kind, arn)]) == [None]


def test_crafted_arns_have_no_link_together_with_real_ones() -> None:
    """In one run: the crafted detections are there (no detection is lost) without a link,
    the real-shaped ones keep theirs; int_console_links has one row per resource."""
    cases = [(k, a) for k, a, _ in REAL] + CRAFTED
    got = _console_urls(cases)
    assert got[: len(REAL)] == [url for _, _, url in REAL]
    assert got[len(REAL) :] == [None] * len(CRAFTED)
    history = [_history(k, a, f"d{i}") for i, (k, a) in enumerate(cases)]
    con = build({"detection_history": history}, ["int_console_links"], as_of=AS_OF)
    links = rows(con, "select resource_arn, resource_type, console_url from int_console_links")
    assert len(links) == len({(a, k) for k, a in cases})


def test_a_resource_type_without_a_link_and_a_null_type_have_no_link() -> None:
    assert _console_urls([(None, f"arn:aws:iam::{ACCT}:user/u")]) == [None]


def _mutations(seed: int = 18, count: int = 400) -> list[tuple[str, str]]:
    """Real-shaped ARNs with one ARN field replaced by a random string of URL-significant
    characters (or kept), so some stay valid and most do not."""
    alphabet = "aZ09-_./?#=&%@:+ ,;!$'()*[]~\\\"<>`{}|^é\u2044\u200b\n\t"
    rng = random.Random(seed)  # noqa: S311 (a fixed, reproducible sample)
    out = []
    for _ in range(count):
        kind, arn, _ = rng.choice(REAL)
        head, tail = arn.split(":", 5)[:5], arn.split(":", 5)[5]
        fields = [*head, tail]
        i = rng.randrange(1, 6)
        fields[i] = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
        out.append((kind, ":".join(fields)))
    return out


def test_every_link_is_on_an_aws_console_host_and_encoded() -> None:
    """Whatever the ARN holds, a link that is built points at an AWS console host, has no
    user info or port, and holds no character that would need encoding."""
    cases = _mutations()
    got = _console_urls(cases)
    built = [(arn, url) for (_, arn), url in zip(cases, got, strict=True) if url is not None]
    assert 0 < len(built) < len(cases)
    for arn, url in built:
        parts = urlsplit(url)
        host = parts.hostname or ""
        regional = host.split(".", 1)
        assert parts.scheme == "https", (arn, url)
        assert parts.netloc == host, (arn, url)  # no user info, no port
        assert host in CONSOLE_HOSTS or (
            regional[1] == "console.aws.amazon.com"
            and regional[0] == arn.split(":")[3]
            and arn.split(":")[3].replace("-", "").isalnum()
        ), (arn, url)
        assert url.isascii() and all(c.isprintable() and c not in " \"'<>\\`{}|^" for c in url)


# --- the OCSF export ------------------------------------------------------------------------


def _detection(**extra: Any) -> dict[str, Any]:
    return {
        "detection_id": "d",
        "rule_id": "admin-lambda-function",
        "severity": "high",
        "status": "open",
        "resource_arn": f"arn:aws:lambda:us-east-1:{ACCT}:function:f",
        "resource_type": "lambda_function",
        "account_id": ACCT,
        "title": "t",
        "first_seen_at": AS_OF,
        "last_seen_at": AS_OF,
        "remediation": "fix it",
        "reference_url": "https://docs.aws.amazon.com/lambda/",
        **extra,
    }


def test_ocsf_export_keeps_console_links_only() -> None:
    good = REAL[10][2]
    finding = detection_finding(_detection(console_url=good), "test")
    assert finding["unmapped"]["console_url"] == good
    assert finding["remediation"]["references"] == ["https://docs.aws.amazon.com/lambda/", good]
    # A warehouse built before links were validated may still hold a crafted one.
    for bad in (
        f"https://{EVIL_REGION}.console.aws.amazon.com/lambda/home",
        "https://evil.example/login?x=.console.aws.amazon.com/lambda/home",
        "https://console.aws.amazon.com.evil.example/iam/home",
        "https://user@console.aws.amazon.com/iam/home",
        "javascript:alert(1)",
        "https://console.aws.amazon.com/iam/home#/users/details/a b",
    ):
        finding = detection_finding(_detection(console_url=bad), "test")
        assert "console_url" not in finding["unmapped"], bad
        assert finding["remediation"]["references"] == ["https://docs.aws.amazon.com/lambda/"]


def test_ocsf_export_region_and_partition_only_when_well_formed() -> None:
    arn = f"arn:aws/mars?:lambda:{EVIL_REGION}:{ACCT}:function:f"
    finding = detection_finding(_detection(resource_arn=arn, console_url=None), "test")
    assert "region" not in finding["cloud"]
    assert "region" not in finding["resources"][0]
    assert "cloud_partition" not in finding["resources"][0]
    ok = detection_finding(_detection(console_url=None), "test")
    assert ok["cloud"]["region"] == "us-east-1"
    assert ok["resources"][0]["cloud_partition"] == "aws"


# --- the Dagster preview metadata -------------------------------------------------------------

MARKDOWN = [
    "[Fix in AWS](https://evil.example/x)",
    "![t](https://evil.example/pixel.png)",
    "<img src=https://evil.example/i.png>",
    "| a | b |\n|---|---|",
]


def test_preview_is_a_table_of_plain_strings() -> None:
    table = pa.table({"tag_value": MARKDOWN, "n": [1, 2, 3, None]})
    value = preview(table)
    assert isinstance(value, dg.TableMetadataValue)
    assert [c.name for c in value.schema.columns] == ["tag_value", "n"]
    assert {c.type for c in value.schema.columns} == {"string"}
    cells = [r.data for r in value.records]
    assert [c["tag_value"] for c in cells[:3]] == MARKDOWN[:3]  # as text, not rendered
    assert cells[3] == {"tag_value": "| a | b | |---|---|", "n": None}
    assert [c["n"] for c in cells[:3]] == ["1", "2", "3"]
    assert all(isinstance(v, str) for c in cells for v in c.values() if v is not None)


def test_preview_truncates_long_values_and_keeps_at_most_rows() -> None:
    table = pa.table({"v": ["x" * 500] * 9})
    value = preview(table, rows=3)
    assert len(value.records) == 3
    assert all(len(r.data["v"]) <= 80 and r.data["v"].endswith("…") for r in value.records)


def test_preview_of_an_empty_table_is_an_empty_table() -> None:
    value = preview(pa.table({"a": pa.array([], pa.string())}))
    assert isinstance(value, dg.TableMetadataValue)
    assert value.records == [] and [c.name for c in value.schema.columns] == ["a"]
