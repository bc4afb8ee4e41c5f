"""int_policy_set_method_actions_evaluated is int_policy_set_actions_evaluated restricted to the
actions the graph and the admin check look up (the privilege-escalation methods' actions,
sts:AssumeRole, iam:CreateUser): the same rows, compared whole, for sets that name those actions,
cover them with `*` or NotAction (the rest class), or hold none of them."""

from __future__ import annotations

from pipelines.lib.reference.csvs import load_reference
from tests.sql.harness import build, catalog_rows, iam_user, inline_policy, rows, user_arn
from tests.sql.test_privesc_paths import CATALOG, _inputs

WANTED = """
    select distinct a.action
    from ref_privesc_methods as m,
        unnest(list_concat(
            string_split(lower(coalesce(m.required_actions, '')), ' '),
            string_split(lower(coalesce(m.target_actions, '')), ' ')
        )) as a(action)
    where a.action <> ''
    union select 'sts:assumerole' union select 'iam:createuser'
"""


def _more_sets() -> dict:
    inputs = _inputs()
    extra = {
        "not-action": [{"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"}],
        "not-action-iam": [
            {"Effect": "Allow", "NotAction": ["s3:*", "sts:*"], "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:Pass*", "Resource": "*"},
        ],
        "wildcards": [{"Effect": "Allow", "Action": ["iam:Create*", "lambda:*"], "Resource": "*"}],
        "conditional": [
            {
                "Effect": "Allow",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
            }
        ],
        "reader": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    inputs["raw_iam_users"] = [*inputs["raw_iam_users"], *(iam_user(name) for name in extra)]
    inputs["raw_iam_inline_policies"] = [
        *inputs["raw_iam_inline_policies"],
        *(inline_policy(user_arn(name), statements) for name, statements in extra.items()),
    ]
    catalog = [*CATALOG, ("iam:CreateUser", "Write"), ("iam:ListUsers", "List")]
    inputs["ref_iam_actions"] = catalog_rows(catalog)
    inputs["ref_privesc_methods"] = load_reference("ref_privesc_methods").to_pylist()
    return inputs


def test_same_rows_as_the_view_for_the_wanted_actions() -> None:
    con = build(
        _more_sets(),
        ["int_policy_set_method_actions_evaluated", "int_policy_set_actions_evaluated"],
    )
    names = [
        r[0] for r in con.execute("describe int_policy_set_method_actions_evaluated").fetchall()
    ]
    # the view also carries each action's catalog entry, which the table leaves to the catalog
    view_names = [r[0] for r in con.execute("describe int_policy_set_actions_evaluated").fetchall()]
    assert [n for n in view_names if n not in names] == [
        "action_name",
        "service",
        "access_level",
        "catalog_version",
    ]
    assert set(names) <= set(view_names)
    columns = ", ".join(names)
    view = f"select {columns} from int_policy_set_actions_evaluated where action in ({WANTED})"
    table = f"select {columns} from int_policy_set_method_actions_evaluated"
    assert rows(con, f"{view} except all {table}") == []
    assert rows(con, f"{table} except all {view}") == []
    # not vacuous: rest-class rows (NotAction, `*`) and named ones, effective or not
    [(total, sets, effective, not_effective)] = rows(
        con,
        "select count(*), count(distinct policy_set_key), count(*) filter (where is_effective), "
        "count(*) filter (where not is_effective) from int_policy_set_method_actions_evaluated",
    )
    assert sets >= 15 and effective > 50 and not_effective > 0 and total > 60
    [(rest_classes,)] = rows(
        con, "select count(*) from int_policy_set_classes_evaluated where class_key = md5('')"
    )
    assert rest_classes >= 3
    [(unwanted,)] = rows(
        con,
        f"select count(*) from int_policy_set_method_actions_evaluated where action not in "
        f"({WANTED})",
    )
    assert unwanted == 0
