"""The search reads one edge per pair of principals (int_principal_graph_pair_edges): the edge it
would choose among the pair's, so its paths are the ones it finds over every edge."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import duckdb

from pipelines.lib.warehouse.sql_models import model_parts, run_model
from tests.sql.harness import MODELS, build, inline_policy, rows, user_arn
from tests.sql.test_method_actions_evaluated import _more_sets
from tests.sql.test_privesc_search import SEARCH

EDGE_COLUMNS = (
    "source_arn, target_arn, makes_target_admin, is_conditional, method, via_arn, edge_key"
)


def _graph() -> duckdb.DuckDBPyConnection:
    inputs = _more_sets()
    # `mixed`: some methods on every user unconditionally, others only in one region, so pairs
    # hold conditional and unconditional edges
    # (attach-user-policy+... comes before put-user-policy+... by name, but is conditional)
    mixed = [
        {
            "Effect": "Allow",
            "Action": ["iam:CreateAccessKey", "iam:PutUserPolicy"],
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Action": "iam:AttachUserPolicy",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
        },
    ]
    inputs["raw_iam_inline_policies"] = [
        *inputs["raw_iam_inline_policies"],
        inline_policy(user_arn("reader"), mixed),
    ]
    return build(inputs, ["int_principal_graph_pair_edges", "privilege_escalation_paths"])


def _first_per_pair(edges: list[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
    """The edge a step chooses among a pair's: unconditional, then method, `via` (none first),
    edge number."""
    pairs: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)
    for edge in edges:
        pairs[edge[:3]].append(edge)
    return {
        min(options, key=lambda e: (e[3], e[4], e[5] or "", e[6])) for options in pairs.values()
    }


def test_one_edge_per_pair_the_one_a_step_chooses() -> None:
    con = _graph()
    edges = rows(con, f"select {EDGE_COLUMNS} from int_principal_graph_edges")
    pairs = rows(con, f"select {EDGE_COLUMNS} from int_principal_graph_pair_edges")
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == _first_per_pair(edges)
    # the fixture gives the choice something to choose: pairs of several methods, and pairs
    # whose edges differ in being conditional
    by_pair: dict[tuple[Any, ...], set[tuple[bool, str]]] = defaultdict(set)
    for edge in edges:
        by_pair[edge[:3]].add((edge[3], edge[4]))
    assert sum(len({m for _, m in v}) > 1 for v in by_pair.values()) > 10
    mixed = [v for v in by_pair.values() if len({c for c, _ in v}) > 1]
    assert mixed
    assert all(min(v, key=lambda e: e[1])[0] for v in mixed)  # the first by name: conditional
    assert len(edges) > len(pairs)


def test_the_search_over_every_edge_finds_the_same_paths() -> None:
    con = _graph()
    # the search's whole answer: each (principal, administrator)'s first step (the paths follow it)
    chosen = sorted(rows(con, "select * from int_privesc_next_steps"), key=repr)
    assert len(rows(con, "select * from privilege_escalation_paths")) == len(chosen) > 10
    # the search again, over every edge of each bucket instead of each pair's chosen one
    [(pairs,)] = rows(con, "select count(*) from int_principal_graph_pair_edges")
    for part in model_parts(con, "int_principal_graph_pair_edges"):
        con.execute(
            f"create or replace table {part.split('.')[-1]} as select {EDGE_COLUMNS} "
            "from int_principal_graph_edges where source_arn in "
            "(select principal_arn from int_principal_policy_sets where principal_bucket = 0)"
        )
    assert len(model_parts(con, "int_principal_graph_pair_edges")) == 1
    assert rows(con, "select count(*) from int_principal_graph_pair_edges") > [(pairs,)]
    for name in SEARCH:
        run_model(con, MODELS[name])
    over_every_edge = sorted(rows(con, "select * from int_privesc_next_steps"), key=repr)
    assert over_every_edge == chosen
