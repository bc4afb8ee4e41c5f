"""The explorer draws a privilege-escalation path as a chain in the Relationships tab: source to
admin, each step labelled with its method and opening the statements that grant it. The
warehouse holds what the models produce for the paired graph of tests/sql/test_privesc_paths.py."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.lib.lake import Lake
from pipelines.lib.serve.explorer.page import write_snapshot
from tests.browser.conftest import Watched, shot
from tests.browser.test_explorer import open_detection, open_page, tab
from tests.sql.harness import build, role_arn, user_arn
from tests.sql.test_privesc_paths import _inputs


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The static explorer page of a warehouse with the rule's detections and relationships,
    and the detection id of each resource."""
    built = build(_inputs(), ["det_privilege_escalation", "relationships"])
    detections = built.sql(
        """select substr(md5(resource_arn), 1, 12) as detection_id, rule_id, severity,
                  resource_arn, resource_type, account_id, title,
                  date '2026-11-20' as first_seen_at, date '2026-11-20' as last_seen_at,
                  'open' as status, evidence, 'Break the first step.' as remediation,
                  principal_arn
           from det_privilege_escalation"""
    ).to_arrow_table()
    relationships = built.sql("select * from relationships").to_arrow_table()
    lake = Lake.at(tmp_path_factory.mktemp("escalation") / "lake")
    lake.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(lake.warehouse_path)) as con:
        con.register("d", detections)
        con.register("r", relationships)
        con.execute("create table detections as select * from d")
        con.execute("create table relationships as select * from r")
        ids = dict(con.execute("select resource_arn, detection_id from detections").fetchall())
    path, _ = write_snapshot(lake)
    return path, ids


def _chain(watched: Watched) -> tuple[list[str], list[str]]:
    page = watched.page
    nodes = [
        n.get_attribute("data-arn") for n in page.query_selector_all('[data-testid="path-node"]')
    ]
    methods = [
        s.get_attribute("data-method") for s in page.query_selector_all('[data-testid="path-step"]')
    ]
    return nodes, methods


def test_the_path_is_a_chain_whose_steps_open_their_statements(
    snapshot: tuple[Path, dict[str, str]], watched: Watched
) -> None:
    path, ids = snapshot
    page = watched.page
    open_page(page, path.as_uri())
    open_detection(page, ids[user_arn("start")])
    tab(page, "relationships")
    assert _chain(watched) == (
        [user_arn("start"), role_arn("mid"), role_arn("top")],
        ["assume-role", "assume-role"],
    )
    assert page.inner_text('[data-testid="escalation-path"] h3') == "Path to admin: 2 steps"
    page.click('[data-testid="path-step"][data-index="2"]')
    statements = [s.inner_text() for s in page.query_selector_all('[data-testid="step-statement"]')]
    assert statements == [
        f"sts:assumerole on {role_arn('top')}: p statement 0",
        "trust policy statement 0 names it as iam_role",
    ]
    # the relationships below the chain carry the same steps as can_escalate_to edges
    escalations = {
        (r.get_attribute("data-source"), r.get_attribute("data-target"))
        for r in page.query_selector_all(
            '[data-testid="edge-row"][data-relationship="can_escalate_to"]'
        )
    }
    assert escalations == {(user_arn("start"), role_arn("mid"))}
    shot(page, "escalation-path")
    assert watched.errors == []


def test_a_write_then_act_step_and_a_self_step(
    snapshot: tuple[Path, dict[str, str]], watched: Watched
) -> None:
    path, ids = snapshot
    page = watched.page
    open_page(page, path.as_uri())
    open_detection(page, ids[role_arn("keymaker")])
    tab(page, "relationships")
    assert _chain(watched) == (
        [role_arn("keymaker"), user_arn("role-maker"), user_arn("role-maker")],
        ["create-access-key", "create-role-attach-policy"],
    )
    last = page.query_selector_all('[data-testid="path-node"]')[-1]
    assert last.inner_text() == "role-maker (made admin)"
    page.click('[data-testid="path-step"][data-index="1"]')
    assert [s.inner_text() for s in page.query_selector_all('[data-testid="step-statement"]')] == [
        f"iam:createaccesskey on {user_arn('role-maker')}: p statement 0"
    ]
    assert watched.errors == []


def test_other_rules_show_no_chain(watched: Watched, tmp_path: Path) -> None:
    lake = Lake.at(tmp_path)
    with duckdb.connect(str(lake.warehouse_path)) as con:
        con.execute(
            "create table detections as select 'd1' as detection_id, 'admin-iam-user' as rule_id, "
            "'high' as severity, 'arn:aws:iam::111111111111:user/x' as resource_arn, "
            "'iam_user' as resource_type, '111111111111' as account_id, 'x is admin' as title, "
            "date '2026-11-20' as first_seen_at, date '2026-11-20' as last_seen_at, "
            """'open' as status, '{"paths": [{"path": [{"from": "a", "to": "b"}]}]}' as evidence"""
        )
    path, _ = write_snapshot(lake)
    page = watched.page
    open_page(page, path.as_uri())
    open_detection(page, "d1")
    tab(page, "relationships")
    assert page.query_selector('[data-testid="escalation-path"]') is None
    assert watched.errors == []
