"""The privilege-escalation search holds what its paths need, not the organization's every
effective action. Sources whose NotAction statements grant nearly every catalog action, each
with a long list of granting statements, and many paths (every source can take the keys of
every administrator): the search once read the view of every (policy set, catalog action) with
its statements before picking the steps' few, and held them all (on one adversarial account it
ran out of memory at 1 GB, 11 GiB held by that read); it now reads the classes that answer the
steps' actions. Under a memory limit the old search fails at, the new one completes with the
same rows."""

from __future__ import annotations

import json

from pipelines.lib.reference.csvs import load_reference
from tests.sql.harness import build, catalog_rows, iam_user, inline_policy, rows, user_arn

SOURCES = 150
ADMINS = 120
SERVICES = 100  # a catalog of 5,000 actions besides IAM's (the real one has 22,000)
NOT_ACTION_STATEMENTS = 15
# The search before the fix fails at 200 and 250 MB on these inputs (and passes at 300); the
# search now passes at 200 MB.
MEMORY_LIMIT = "250MB"


def _source(n: int) -> str:
    return user_arn(f"source-{n:03d}")


def _admin(n: int) -> str:
    return user_arn(f"admin-{n:03d}")


def _inputs() -> dict:
    catalog = [(f"svc{s}:Action{a:03d}", "Write") for s in range(SERVICES) for a in range(50)]
    catalog += [("iam:CreateAccessKey", "Write"), ("iam:GetUser", "Read")]
    inline = []
    for n in range(SOURCES):
        statements = [
            {
                "Sid": f"EverythingButIamForSource{n:03d}Number{k:02d}" + "x" * 40,
                "Effect": "Allow",
                "NotAction": ["iam:*", "sts:*", f"svc{(n + k) % SERVICES}:*"],
                "Resource": "*",
            }
            for k in range(NOT_ACTION_STATEMENTS)
        ]
        statements.append({"Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": "*"})
        inline.append(inline_policy(_source(n), statements))
    everything = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    inline += [inline_policy(_admin(n), everything) for n in range(ADMINS)]
    users = [_source(n) for n in range(SOURCES)] + [_admin(n) for n in range(ADMINS)]
    return {
        "raw_iam_users": [iam_user(arn.rsplit("/", 1)[1]) for arn in users],
        "raw_iam_inline_policies": inline,
        "ref_iam_actions": catalog_rows(catalog),
        "ref_privesc_methods": load_reference("ref_privesc_methods").to_pylist(),
    }


def test_search_holds_only_its_steps_statements() -> None:
    con = build(_inputs(), ["privilege_escalation_paths"], memory_limit=MEMORY_LIMIT)
    got = rows(
        con,
        "select source_arn, target_arn, hops, is_conditional, path from privilege_escalation_paths",
    )
    expected = {(_source(s), _admin(a), 1, False) for s in range(SOURCES) for a in range(ADMINS)}
    assert {r[:4] for r in got} == expected
    assert len(got) == len(expected)
    for source, target, _, _, path in got:
        (step,) = json.loads(path)
        assert (step["from"], step["to"], step["method"]) == (source, target, "create-access-key")
        assert step["actions"] == ["iam:createaccesskey"]
        ((action,),) = [step["granted_by"]]
        assert (action["action"], action["resource"]) == ("iam:createaccesskey", target)
        # the one statement that grants it (the 16th of the source's policy): the search read
        # the class answering iam:CreateAccessKey for the source's set, not the NotAction ones'
        assert [g["statement"] for g in action["granted_by"]] == [NOT_ACTION_STATEMENTS]
