"""Agreement figures for issue 12's closing note: SQL and `ciem explain` against each other and
against IAMSpy's own answers.

    PYTHONPATH=$PWD .venv/bin/python bench/condition_agreement.py [--random 200] [--lake DIR]

1. IAMSpy's public cases (tests/fixtures/real/iamspy-tests, the questions and answers of its
   integration tests, as tests/unit/serve/test_explain_fixtures.py lists them): explain's
   decision against IAMSpy's `can_i` (permitted = allowed or conditionally_allowed); on each
   case's snapshot, effective_permissions against explain at action level for every principal and
   catalog action, and int_resource_condition_verdicts against explain's reading of every
   conditional resource-policy statement for every principal it covers.
2. Resource-policy conditions per (principal, statement), SQL against explain, on the data
   perimeter test (tests/sql/test_resource_condition_verdicts.py) and on `--random` bucket
   policies drawn by the agreement property's strategy: after (int_resource_condition_verdicts)
   and before this change, when the SQL models left every such statement conditional on all its
   keys for insiders and outsiders alike (verdict 'unknown', the statement's condition_keys).
Prints the figures; writes nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.lib.serve.explain import PolicyStore  # noqa: E402
from tests.sql import test_resource_condition_verdicts as perimeter  # noqa: E402
from tests.sql.harness import build  # noqa: E402
from tests.unit.serve import test_explain_fixtures as fixtures  # noqa: E402

PERMIT = ("allowed", "conditionally_allowed")
TARGETS = ["int_resource_condition_verdicts", "effective_permissions", "stg_policy_documents"]


def _sql_verdicts(con) -> dict:
    return {
        (p, k, i): (v, sorted(c))
        for p, k, i, v, c in con.execute(
            "select principal_arn, policy_key, statement_index, verdict, condition_keys "
            "from int_resource_condition_verdicts"
        ).fetchall()
    }


def _before(store: PolicyStore, explained: dict) -> dict:
    """The old SQL reading: every conditional statement open on all its keys."""
    keys = {
        (s.policy_key, s.statement_index): sorted(s.condition_keys)
        for stmts in store.statements.values()
        for s in stmts
    }
    return {pair: ("unknown", keys[pair[1:]]) for pair in explained}


def _count(a: dict, b: dict) -> tuple[int, int]:
    pairs = set(a) | set(b)
    return sum(a.get(p) == b.get(p) for p in pairs), len(pairs)


def _statement_figures(con) -> tuple[tuple[int, int], tuple[int, int]]:
    store = PolicyStore.from_connection(con)
    explained = perimeter.explained_verdicts(store, con)
    return _count(_sql_verdicts(con), explained), _count(_before(store, explained), explained)


def iamspy() -> None:
    agree = total = 0
    action_agree = action_total = 0
    stmt = [0, 0]
    with tempfile.TemporaryDirectory() as tmp:
        for gaads, resources, scp, question, expected, _ in fixtures.CASES:
            store, con = fixtures._store(Path(tmp), gaads, resources, scp)
            decision = store.explain(*question)["decision"]
            if expected is not None:
                total += 1
                agree += (decision in PERMIT) == expected
            sql = {
                (p, a)
                for p, a in con.execute(
                    "select principal_arn, action from effective_permissions"
                ).fetchall()
            }
            actions = [r[0] for r in con.execute("select action from ref_iam_actions").fetchall()]
            for arn, identity in store.identities.items():
                if identity.principal_type not in ("user", "role"):
                    continue
                for action in actions:
                    action_total += 1
                    permitted = store.explain(arn, action)["decision"] in PERMIT
                    action_agree += permitted == ((arn, action) in sql)
            after, _ = _statement_figures(_with_verdicts(con))
            stmt[0] += after[0]
            stmt[1] += after[1]
    print(f"IAMSpy cases: explain agrees with IAMSpy on {agree}/{total}")
    print(
        f"  their snapshots: effective_permissions = explain on {action_agree}/{action_total} "
        f"(principal, action); resource-statement verdicts {stmt[0]}/{stmt[1]} (principal, "
        "statement) pairs"
    )


def _with_verdicts(con):
    from pipelines.lib.warehouse.sql_models import run_model
    from tests.sql.harness import MODELS

    for name in (
        "int_resource_condition_facts",
        "int_resource_condition_fact_verdicts",
        "int_resource_condition_verdicts",
    ):
        run_model(con, MODELS[name])
    return con


def own(n_random: int) -> None:
    con = build(perimeter._inputs(), TARGETS)
    after, before = _statement_figures(con)
    print(
        f"data-perimeter test: SQL = explain on {after[0]}/{after[1]} (principal, statement) "
        f"pairs; before: {before[0]}/{before[1]}"
    )
    if not n_random:
        return
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.sql.test_evaluation_properties import resource_statements

    totals = [0, 0, 0, 0]

    @settings(
        max_examples=n_random,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(resource_statements(), min_size=1, max_size=4))
    def run(stmts: list[dict]) -> None:
        con = build(perimeter._inputs(stmts), TARGETS)
        (a, n), (b, m) = _statement_figures(con)
        totals[0] += a
        totals[1] += n
        totals[2] += b
        totals[3] += m

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run()
    print(
        f"{n_random} random bucket policies: SQL = explain on {totals[0]}/{totals[1]} "
        f"(principal, statement) pairs; before: {totals[2]}/{totals[3]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random", type=int, default=200)
    parser.add_argument("--lake", help="also a built lake (the demo: ciem demo --lake DIR)")
    args = parser.parse_args()
    iamspy()
    own(args.random)
    if args.lake:
        import duckdb

        path = Path(args.lake) / "warehouse" / "ciem.duckdb"
        with duckdb.connect(str(path), read_only=True) as con:
            after, before = _statement_figures(con)
        print(
            f"{args.lake}: SQL = explain on {after[0]}/{after[1]} (principal, statement) pairs; "
            f"before: {before[0]}/{before[1]}"
        )


if __name__ == "__main__":
    main()
