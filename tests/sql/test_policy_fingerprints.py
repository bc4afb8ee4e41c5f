"""Policy fingerprints (int_resource_config_current) follow a policy's meaning, not its text: the
same policy in AWS's equivalent spellings is no `policy_changed` in the timeline, a real change
is one, and history recorded with the older raw-text fingerprints floods nothing (issue 18)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import duckdb

from pipelines.lib.warehouse.sql_models import run_model
from tests.sql.harness import (
    ACCT,
    MODELS,
    attachment,
    build,
    iam_role,
    inline_policy,
    managed_policy,
    role_arn,
    rows,
)

YESTERDAY, TODAY = date(2026, 11, 19), date(2026, 11, 20)
RECORDED = datetime(2026, 11, 20, tzinfo=UTC)
ROLE = role_arn("deploy")
POLICY_ARN = f"arn:aws:iam::{ACCT}:policy/Guard"

INLINE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Read",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}},
        },
        {"Effect": "Deny", "Action": "iam:*", "Resource": "*"},
    ],
}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
            "Action": "sts:AssumeRole",
        }
    ],
}
MANAGED = {
    "Version": "2012-10-17",
    "Statement": {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
}


def _reordered(node: Any) -> Any:
    """Every object's keys in reverse order (json.dumps keeps insertion order)."""
    if isinstance(node, dict):
        return {k: _reordered(node[k]) for k in reversed(list(node))}
    if isinstance(node, list):
        return [_reordered(v) for v in node]
    return node


# The same policies in other spellings AWS accepts and evaluates the same.
INLINE_RESPELLED = _reordered(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Deny", "Action": ["IAM:*"], "Resource": ["*"]},
            {
                "Sid": "Read",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "S3:GetObject"],
                "Resource": ["*"],
                "Condition": {"StringEquals": {"AWS:RequestedRegion": ["us-east-1", "eu-west-1"]}},
            },
        ],
    }
)
TRUST_RESPELLED = {
    "Statement": {
        "Action": ["sts:AssumeRole"],
        "Principal": {"AWS": [ACCT]},  # the bare account id: AWS stores the root's ARN
        "Effect": "Allow",
    },
    "Version": "2012-10-17",
}
MANAGED_RESPELLED = {
    "Version": "2012-10-17",
    "Statement": [{"Resource": "*", "Action": ["s3:deletebucket"], "Effect": "Deny"}],
}


def _inputs(inline: dict, trust: dict, managed: dict) -> dict[str, list[dict]]:
    """The role deploy with the inline policy ops, the managed policy Guard and a trust policy,
    each document as the given JSON text."""
    return {
        "raw_iam_roles": [iam_role("deploy") | {"assume_role_policy_document": json.dumps(trust)}],
        "raw_iam_inline_policies": [
            inline_policy(ROLE, [], name="ops") | {"document": json.dumps(inline)}
        ],
        "raw_iam_policies": [
            managed_policy(POLICY_ARN, [])
            | {"default_version_id": "v1", "document": json.dumps(managed)}
        ],
        "raw_iam_policy_attachments": [attachment(ROLE, POLICY_ARN)],
    }


def _fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(
        rows(
            con,
            "select config_type, fingerprint from int_resource_config_current "
            "where config_type in ('inline_policy', 'trust_policy', 'managed_policy')",
        )
    )


def _current(inline: dict, trust: dict, managed: dict) -> dict[str, str]:
    """Each policy's fingerprint's canonical part (`c1:<canonical>;<raw text>`)."""
    con = build(_inputs(inline, trust, managed), ["int_resource_config_current"])
    fingerprints = _fingerprints(con)
    assert all(fp.startswith("c1:") and fp.count(";") == 1 for fp in fingerprints.values())
    return {kind: fp.split(";")[0] for kind, fp in fingerprints.items()}


def test_equivalent_spellings_have_the_same_fingerprint() -> None:
    before = _current(INLINE, TRUST, MANAGED)
    assert set(before) == {"inline_policy", "trust_policy", "managed_policy"}
    assert _current(INLINE_RESPELLED, TRUST_RESPELLED, MANAGED_RESPELLED) == before


def test_a_change_of_meaning_changes_the_fingerprint() -> None:
    before = _current(INLINE, TRUST, MANAGED)
    changed_inline = json.loads(json.dumps(INLINE))
    changed_inline["Statement"][0]["Action"].append("s3:PutObject")
    changed_trust = json.loads(json.dumps(TRUST))
    changed_trust["Statement"][0]["Principal"] = {"AWS": "arn:aws:iam::999999999999:root"}
    changed_managed = {**MANAGED, "Statement": {**MANAGED["Statement"], "Effect": "Allow"}}
    after = _current(changed_inline, changed_trust, changed_managed)
    assert {k for k in after if after[k] != before[k]} == set(before)
    # A condition's values are a set: one value fewer is a change.
    changed_condition = json.loads(json.dumps(INLINE))
    changed_condition["Statement"][0]["Condition"]["StringEquals"]["aws:RequestedRegion"] = [
        "eu-west-1"
    ]
    assert _current(changed_condition, TRUST, MANAGED)["inline_policy"] != before["inline_policy"]


# --- the timeline across runs ----------------------------------------------------------------


def _timeline(
    yesterday: tuple[dict, dict, dict], today: tuple[dict, dict, dict], legacy: bool
) -> set[tuple]:
    """Yesterday's configuration in the history (with the raw-text fingerprints recorded before
    they were canonical when `legacy`), then today's run as the assets do it: this run's
    configuration appended to the history, then the timeline. One detection on the role."""
    con = build(_inputs(*yesterday), ["int_resource_config_current"], as_of=YESTERDAY)
    columns = (
        "resource_arn",
        "resource_type",
        "account_id",
        "config_type",
        "config_key",
        "fingerprint",
        "details",
    )
    config = [
        dict(zip(columns, r, strict=True))
        for r in rows(con, f"select {', '.join(columns)} from int_resource_config_current")
    ]
    for item in config:
        item |= {"as_of": YESTERDAY, "recorded_at": RECORDED}
        if legacy and item["fingerprint"].startswith("c1:"):
            item["fingerprint"] = item["fingerprint"].split(";", 1)[1]
    history = [
        {
            "as_of": day,
            "detection_id": "d",
            "rule_id": "admin-iam-role",
            "severity": "high",
            "resource_arn": ROLE,
            "resource_type": "iam_role",
            "account_id": ACCT,
            "principal_arn": ROLE,
            "title": "t",
            "evidence": "{}",
            "recorded_at": RECORDED,
        }
        for day in (YESTERDAY, TODAY)
    ]
    con = build(
        {**_inputs(*today), "resource_config_history": config, "detection_history": history},
        ["int_resource_config_current"],
        as_of=TODAY,
    )
    con.execute(
        "insert into resource_config_history by name select *, "
        f"date '{TODAY}' as as_of, now() as recorded_at from int_resource_config_current"
    )
    run_model(con, MODELS["detection_timeline"])
    return set(
        rows(
            con,
            "select event_at, event_type, change_type, config_key from detection_timeline "
            "where event_type = 'resource_changed'",
        )
    )


SAME = (INLINE, TRUST, MANAGED)
RESPELLED = (INLINE_RESPELLED, TRUST_RESPELLED, MANAGED_RESPELLED)


def test_a_respelled_policy_is_no_change_in_the_timeline() -> None:
    assert _timeline(SAME, RESPELLED, legacy=False) == set()


def test_history_with_raw_text_fingerprints_floods_nothing() -> None:
    # The first run after the upgrade: yesterday's fingerprints are the old raw-text ones.
    assert _timeline(SAME, SAME, legacy=True) == set()


def test_real_changes_are_found_against_either_history() -> None:
    changed_inline = json.loads(json.dumps(INLINE))
    changed_inline["Statement"][1]["Effect"] = "Allow"
    changed_trust = {**TRUST, "Statement": [{**TRUST["Statement"][0], "Action": "sts:*"}]}
    today = (changed_inline, changed_trust, {**MANAGED, "Version": "2008-10-17"})
    expected = {
        (TODAY, "resource_changed", "policy_changed", "ops"),
        (TODAY, "resource_changed", "trust_policy_changed", ""),
        (TODAY, "resource_changed", "policy_changed", POLICY_ARN),
    }
    assert _timeline(SAME, today, legacy=False) == expected
    assert _timeline(SAME, today, legacy=True) == expected
