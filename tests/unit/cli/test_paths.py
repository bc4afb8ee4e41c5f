"""`ciem paths`: the escalation paths of a principal read from a warehouse, as text and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from tests.sql.harness import build, role_arn, user_arn
from tests.sql.test_privesc_paths import _inputs


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lake whose warehouse holds the privilege_escalation_paths of the model test's graph."""
    root = tmp_path_factory.mktemp("paths") / "lake"
    (root / "warehouse").mkdir(parents=True)
    built = build(_inputs(), ["privilege_escalation_paths"])
    table = built.sql("select * from privilege_escalation_paths").arrow()
    with duckdb.connect(str(root / "warehouse" / "ciem.duckdb")) as con:
        con.register("rows", table)
        con.execute("create table privilege_escalation_paths as select * from rows")
    return root


def test_paths_from_a_principal_print_each_step_with_its_evidence(
    lake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["paths", user_arn("start"), "--lake", str(lake)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"{user_arn('start')} can become admin in 2 steps (1 shortest path):",
        "",
        "user/start (111111111111) -> role/top (111111111111): 2 steps",
        "  1. assume-role: user/start (111111111111) -> role/mid (111111111111)",
        "       trust policy statement 0 names it as iam_user",
        "  2. assume-role: role/mid (111111111111) -> role/top (111111111111)",
        f"       sts:assumerole on {role_arn('top')}: p statement 0",
        "       trust policy statement 0 names it as iam_role",
    ]


def test_paths_json_and_the_principals_that_can_become_a_target(
    lake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["paths", role_arn("top"), "--json", "--lake", str(lake)]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["paths"] == []
    assert sorted((p["source_arn"], p["hops"]) for p in got["paths_to"]) == [
        (role_arn("mid"), 1),
        (role_arn("retruster"), 1),
        (user_arn("start"), 2),
    ]


def test_paths_to_a_target_only(lake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keymaker = role_arn("keymaker")
    argv = ["paths", keymaker, "--to", user_arn("role-maker"), "--json", "--lake", str(lake)]
    assert main(argv) == 0
    got = json.loads(capsys.readouterr().out)
    assert [(p["target_arn"], [s["method"] for s in p["path"]]) for p in got["paths"]] == [
        (user_arn("role-maker"), ["create-access-key", "create-role-attach-policy"])
    ]
    assert got["paths_to"] == []


def test_no_path_and_no_warehouse_say_so(
    lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["paths", user_arn("start-denied"), "--lake", str(lake)]) == 0
    expected = f"no privilege-escalation path from {user_arn('start-denied')}\n"
    assert capsys.readouterr().out == expected
    assert main(["paths", user_arn("start-denied"), "--lake", str(tmp_path / "empty")]) != 0
    assert "no warehouse" in capsys.readouterr().err


def test_a_conditional_step_says_its_keys_and_whether_the_caller_sets_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.sql.test_privesc_paths import MEMBER, _scp_inputs

    root = tmp_path / "lake"
    (root / "warehouse").mkdir(parents=True)
    table = build(_scp_inputs(), ["privilege_escalation_paths"]).sql(
        "select * from privilege_escalation_paths"
    )
    with duckdb.connect(str(root / "warehouse" / "ciem.duckdb")) as con:
        con.register("rows", table.arrow())
        con.execute("create table privilege_escalation_paths as select * from rows")
    lines = {}
    for name in ("role/app", "user/remote", "role/break-glass"):
        assert main(["paths", f"arn:aws:iam::{MEMBER}:{name}", "--lake", str(root)]) == 0
        lines[name] = [
            line for line in capsys.readouterr().out.splitlines() if "conditional" in line
        ]
    assert lines == {
        "role/app": [
            f"role/app ({MEMBER}) -> role/admin ({MEMBER}): 1 step (conditional)",
            f"  1. assume-role: role/app ({MEMBER}) -> role/admin ({MEMBER}) [conditional]",
            "       conditional on aws:requestedregion (keys the caller sets in its own request)",
        ],
        "user/remote": [
            f"user/remote ({MEMBER}) -> role/guarded ({MEMBER}): 1 step (conditional)",
            f"  1. assume-role: user/remote ({MEMBER}) -> role/guarded ({MEMBER}) [conditional]",
            "       conditional on aws:sourceip (not in the caller's hands)",
        ],
        "role/break-glass": [],
    }
