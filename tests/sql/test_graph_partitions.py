"""The principal graph's class edges are built per principal bucket: the edges, the paths and
the detections are the same whether every policy set is in one bucket or each in its own (a
role's `*+assumed-by` edges need the assume-role edges of whoever may assume it, in any bucket)."""

from __future__ import annotations

import pytest

from tests.sql.harness import build, rows
from tests.sql.test_method_actions_evaluated import _more_sets

TABLES = {
    "int_principal_graph_assume_edges": "select * from int_principal_graph_assume_edges",
    "int_principal_graph_edges": "select * exclude (edge_key) from int_principal_graph_edges",
    "int_principal_graph_pair_edges": (
        "select * exclude (edge_key) from int_principal_graph_pair_edges"
    ),
    "privilege_escalation_paths": "select * from privilege_escalation_paths",
    "int_privesc_paths": "select * from int_privesc_paths",
    "det_privilege_escalation": "select * from det_privilege_escalation",
    "int_can_escalate_to": "select * from int_can_escalate_to",
}


def _tables(monkeypatch: pytest.MonkeyPatch, sets_per_bucket: str) -> dict[str, list]:
    monkeypatch.setenv("CIEM_SETS_PER_BUCKET", sets_per_bucket)
    con = build(_more_sets(), list(TABLES))
    [(buckets,)] = rows(con, "select max(principal_bucket) + 1 from int_principal_policy_sets")
    return {"buckets": buckets} | {
        name: sorted(rows(con, sql), key=repr) for name, sql in TABLES.items()
    }


def test_one_bucket_per_set_gives_the_same_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    one = _tables(monkeypatch, "100000")
    each = _tables(monkeypatch, "1")
    assert one.pop("buckets") == 1
    assert each.pop("buckets") >= 15
    for name in TABLES:
        assert each[name] == one[name], name
    methods = {r[3] for r in one["int_principal_graph_edges"]}
    assert {"assume-role", "attach-role-policy+assumed-by"} <= methods, methods
    assert len(one["privilege_escalation_paths"]) > 10
