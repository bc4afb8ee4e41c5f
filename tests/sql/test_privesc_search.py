"""The escalation search (int_privesc_nodes → int_privesc_graph → int_privesc_distances →
int_privesc_live_edges → int_privesc_next_steps) against a plain Python search over the same
pair edges, on random graphs with paths of several hops, self edges, write-then-act edges,
conditional edges and ties between methods, `via`s and next principals. The answer must be the
same whichever way the work is cut: one principal bucket or many, one target part or many (the
part of a target holds all its paths), and under the hop limit."""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from pipelines.lib.warehouse.sql_models import discover_models, run_model

SEARCH = [  # the models of the escalation search, in their order
    "int_privesc_nodes",
    "int_privesc_graph",
    "int_privesc_distances",
    "int_privesc_live_edges",
    "int_privesc_next_steps",
]
METHODS = ["add-user-to-group", "assume-role", "create-access-key", "update-login-profile"]
WRITE_THEN_ACT = ["attach-role-policy+assumed-by", "attach-user-policy+create-access-key"]
INPUTS = [
    "int_identities",
    "int_admin_identities",
    "int_principal_policy_sets",
    "int_principal_graph_pair_edges",
]

EDGE_SCHEMA = pa.schema(
    [
        ("source_arn", pa.string()),
        ("target_arn", pa.string()),
        ("makes_target_admin", pa.bool_()),
        ("is_conditional", pa.bool_()),
        ("method", pa.string()),
        ("via_arn", pa.string()),
        ("edge_key", pa.uint64()),  # a hash, as the class edges' numbers are
    ]
)


def _arn(n: int) -> str:
    return f"arn:aws:iam::111122223333:user/p{n:03d}"


def _organization(seed: int) -> dict[str, Any]:
    """Principals in layers (admins, then principals one, two, ... steps away), with random
    edges towards the layer below, others sideways or back, a few self edges and
    write-then-act edges; one edge per (source, target, write-then-act), as the pair edges are."""
    rng = random.Random(seed)  # noqa: S311 (a test's graph, not a secret)
    layers: list[list[int]] = []
    principals = rng.sample(range(1000), 90)  # the numbers do not follow the layers
    for size in (6, 18, 22, 22, 22):
        layers.append(principals[:size])
        principals = principals[size:]
    every = [p for layer in layers for p in layer]
    edges: dict[tuple[str, str, bool], dict[str, Any]] = {}

    def edge(source: int, target: int, makes: bool, method: str) -> None:
        via = _arn(rng.choice(every)) if rng.random() < 0.3 else None
        edges[(_arn(source), _arn(target), makes)] = {
            "source_arn": _arn(source),
            "target_arn": _arn(target),
            "makes_target_admin": makes,
            "is_conditional": rng.random() < 0.3,
            "method": method,
            "via_arn": via,
            "edge_key": rng.getrandbits(64),
        }

    for depth, layer in enumerate(layers[1:], start=1):
        for source in layer:
            for target in rng.sample(layers[depth - 1], rng.randint(1, 4)):
                edge(source, target, False, rng.choice(METHODS))
            for target in rng.sample([p for farther in layers[depth:] for p in farther], 2):
                edge(source, target, False, rng.choice(METHODS))  # sideways or back: no shorter
            if rng.random() < 0.1:
                edge(source, source, False, rng.choice(METHODS))
            if rng.random() < 0.15:
                for target in rng.sample(every, rng.randint(1, 3)):
                    if target != source:
                        edge(source, target, True, rng.choice(WRITE_THEN_ACT))
    for admin in layers[0]:  # the search never starts from an administrator
        edge(admin, rng.choice(every), False, rng.choice(METHODS))
    return {
        "principals": [_arn(p) for p in every],
        "admins": [_arn(p) for p in layers[0]],
        "edges": list(edges.values()),
    }


def _reference(org: dict[str, Any], max_hops: int) -> set[tuple[Any, ...]]:
    """The search as privilege_escalation_paths describes it, over Python dicts."""
    admins = set(org["admins"])
    edges = [e for e in org["edges"] if e["source_arn"] not in admins]
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in edges:
        out[e["source_arn"]].append(e)
    terminal: dict[str, str] = {}
    for source, own in out.items():
        if any(e["source_arn"] == e["target_arn"] for e in own):
            terminal[source] = source
            continue
        writes = [e for e in own if e["makes_target_admin"]]
        if writes:
            terminal[source] = min(writes, key=lambda e: (e["is_conditional"], e["target_arn"]))[
                "target_arn"
            ]

    def between(e: dict[str, Any]) -> bool:
        return e["source_arn"] != e["target_arn"] and not e["makes_target_admin"]

    distance = dict.fromkeys(admins, 0) | dict.fromkeys(terminal, 1)
    for hops in range(max_hops):
        for e in edges:
            if between(e) and distance.get(e["target_arn"]) == hops:
                distance.setdefault(e["source_arn"], hops + 1)
    reach: dict[str, set[str]] = {a: {a} for a in admins}
    for hops in range(1, max_hops + 1):
        for node, d in distance.items():
            if d != hops:
                continue
            targets = {terminal[node]} if node in terminal else set()
            for e in out[node]:
                if between(e) and distance.get(e["target_arn"]) == hops - 1:
                    targets |= reach[e["target_arn"]]
            reach[node] = targets
    answer = set()
    for node, targets in reach.items():
        if node in admins:
            continue
        for target in targets:
            candidates = [
                e
                for e in out[node]
                if (
                    between(e)
                    and distance.get(e["target_arn"]) == distance[node] - 1
                    and target in reach[e["target_arn"]]
                )
                or (not between(e) and terminal.get(node) == target == e["target_arn"])
            ]
            step = min(
                candidates,
                key=lambda e: (
                    e["is_conditional"],
                    e["method"],
                    e["target_arn"],
                    e["via_arn"] or "",
                    e["edge_key"],
                ),
            )
            answer.add(
                (
                    node,
                    target,
                    distance[node],
                    step["target_arn"],
                    step["edge_key"],
                    step["is_conditional"],
                )
            )
    return answer


def _search(
    org: dict[str, Any], max_hops: int, sets_per_bucket: int
) -> tuple[duckdb.DuckDBPyConnection, list[tuple[Any, ...]]]:
    con = duckdb.connect()
    tables = {
        "int_identities": [{"principal_arn": p} for p in org["principals"]],
        "int_admin_identities": [{"principal_arn": a} for a in org["admins"]],
        "int_principal_policy_sets": [
            {"principal_arn": p, "policy_set_key": p, "principal_bucket": n // sets_per_bucket}
            for n, p in enumerate(org["principals"])
        ],
        "int_principal_graph_pair_edges": org["edges"],
    }
    for name, table_rows in tables.items():
        schema = EDGE_SCHEMA if name == "int_principal_graph_pair_edges" else None
        con.register("_rows", pa.Table.from_pylist(table_rows, schema=schema))
        con.execute(f"create table {name} as select * from _rows")
        con.unregister("_rows")
    con.execute(f"create table run_params as select {max_hops:d} as max_hops")
    models = {m.name: m for m in discover_models(external=[*INPUTS, "run_params"])}
    for name in SEARCH:
        run_model(con, models[name])
    return con, sorted(con.execute("select * from int_privesc_next_steps").fetchall(), key=repr)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("max_hops", [5, 2])
def test_the_search_finds_the_reference_first_steps_however_it_is_cut(
    monkeypatch: pytest.MonkeyPatch, seed: int, max_hops: int
) -> None:
    org = _organization(seed)
    expected = _reference(org, max_hops)
    lengths = {row[2] for row in expected}
    assert set(range(1, min(max_hops, 3) + 1)) <= lengths <= set(range(1, max_hops + 1))
    cuts = []
    for sets_per_bucket, edges_per_part in [(1000, "1000000"), (15, "20")]:
        monkeypatch.setenv("CIEM_EDGES_PER_TARGET_PART", edges_per_part)
        con, answer = _search(org, max_hops, sets_per_bucket)
        [(buckets, parts, live)] = con.execute(
            "select (select max(principal_bucket) + 1 from int_principal_policy_sets), "
            "(select count(*) from duckdb_tables() "
            "where table_name like 'int_privesc_next_steps__p%'), "
            "(select count(*) from int_privesc_live_edges)"
        ).fetchall()
        assert parts == -(-live // int(edges_per_part))
        assert answer == sorted(expected, key=repr), (buckets, parts)  # and no row twice
        cuts.append((buckets, parts))
    # one bucket and one part, then six buckets (of 15 principals) and several parts
    assert cuts[0] == (1, 1) and cuts[1][0] == 6 and cuts[1][1] > 3, cuts
