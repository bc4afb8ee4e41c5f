"""Incomplete accounts end to end (issue 18, item 7): an input that cannot be read never resolves
detections. A good demo run as of 2026-11-19, then a run as of 2026-11-20 with one input replaced
by junk: the accounts it belongs to (or an SCP targets) keep exactly their previous detections
open, none is resolved, and the run summary names them. Every other account is judged as a clean
run judges it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.faults.harness import DEMO_SNAPSHOTS, rows, run_ciem

PROD, DEV, MANAGEMENT = "222222222222", "333333333333", "111111111111"
JUNK = "this is not JSON {"


@pytest.fixture(scope="module")
def lake_after_good_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lake after one good run as of 2026-11-19 (each case copies it)."""
    lake = tmp_path_factory.mktemp("good-2026-11-19")
    assert run_ciem(lake, snapshot=DEMO_SNAPSHOTS / "2026-11-19", as_of="2026-11-19") == 0
    return lake


def _second_run(
    lake_after_good_run: Path, tmp_path: Path, snapshot: Path, capsys: pytest.CaptureFixture
) -> tuple[Path, str]:
    lake = tmp_path / "lake"
    shutil.copytree(lake_after_good_run, lake)
    capsys.readouterr()
    assert run_ciem(lake, snapshot=snapshot, as_of="2026-11-20") == 0
    return lake, capsys.readouterr().out


def _detections(lake: Path, accounts: tuple[str, ...], where: str = "true") -> set[tuple]:
    listed = ", ".join(f"'{a}'" for a in accounts)
    return rows(
        lake,
        f"select detection_id, rule_id, status from detections "
        f"where account_id in ({listed}) and {where}",
    )


def _first_run_detections(lake: Path, accounts: tuple[str, ...]) -> set[tuple]:
    """(detection_id, rule_id, status) of the accounts' detections found by the 2026-11-19 run."""
    listed = ", ".join(f"'{a}'" for a in accounts)
    return rows(
        lake,
        "select detection_id, rule_id, case when suppression_reason is null then 'open' "
        "else 'suppressed' end from detection_history "
        f"where as_of = '2026-11-19' and account_id in ({listed})",
    )


def _assert_held(lake: Path, out: str, accounts: tuple[str, ...], reason: str) -> None:
    # Exactly the previous run's detections, still open: none resolved, none vanished or appeared.
    assert _detections(lake, accounts, "status <> 'resolved'") == _first_run_detections(
        lake, accounts
    )
    assert _detections(lake, accounts, "status = 'resolved'") == set()
    assert rows(
        lake,
        "select count(*) from detection_timeline where event_type = 'resolved' "
        f"and event_at = '2026-11-20' and account_id in ({', '.join(repr(a) for a in accounts)})",
    ) == {(0,)}
    flags = rows(
        lake,
        "select distinct account_id, account_incomplete from detections where account_id in "
        f"({', '.join(repr(a) for a in accounts)})",
    )
    assert flags == {(a, True) for a in accounts}
    for account in accounts:
        [line] = [x for x in out.splitlines() if x.strip().startswith(f"{account}:")]
        assert reason in line
    assert rows(
        lake,
        "select distinct account_incomplete from effective_permissions where account_id in "
        f"({', '.join(repr(a) for a in accounts)})",
    ) <= {(True,)}


def _assert_others_as_clean(lake: Path, clean: Path, accounts: tuple[str, ...]) -> None:
    """Every other account's detections are the clean run's (id, rule, severity, title, status),
    except the escalation paths that ran through an incomplete account in the previous run:
    those are held as they were (an unreadable account never changes another account's
    detections)."""
    others = tuple(a for a in (PROD, DEV, MANAGEMENT) if a not in accounts)
    listed = ", ".join(f"'{a}'" for a in others)
    held = {
        i
        for (i,) in rows(
            lake,
            f"select detection_id from detections where account_id in ({listed}) "
            "and json_extract_string(evidence, '$.held_open.reason') is not null",
        )
    }
    whole = (
        "select detection_id, rule_id, severity, title, status from detections "
        f"where account_id in ({listed}) and status <> 'resolved'"
    )
    # (The evidence is left out: credential use also counts CloudTrail days before the window
    # that the lake holds, and this lake holds one more from its first run than the clean one.)
    assert {r for r in rows(lake, whole) if r[0] not in held} == {
        r for r in rows(clean, whole) if r[0] not in held
    }
    if held:
        ids = ", ".join(f"'{i}'" for i in held)
        before = rows(
            lake,
            "select detection_id, rule_id, severity, title, evidence from detection_history "
            f"where as_of = '2026-11-19' and detection_id in ({ids})",
        )
        assert {r[0] for r in before} == held
        for _, rule, _, _, evidence in before:  # each ran through an incomplete account
            assert rule == "privilege-escalation"
            assert any(f":{a}:" in evidence for a in accounts)
        now = rows(
            lake,
            "select detection_id, rule_id, severity, title, "
            "json_extract_string(evidence, '$.held_open.reason') is not null "
            f"from detections where detection_id in ({ids}) and status = 'open'",
        )
        assert now == {(i, rule, sev, title, True) for i, rule, sev, title, _ in before}
    assert rows(
        lake,
        "select distinct account_incomplete from detections where account_id in "
        f"({', '.join(repr(a) for a in others)})",
    ) <= {(False,)}
    # The relationships between other accounts' identities are the clean run's, whole (an
    # escalation edge whose path went on into an incomplete account is held with its path).
    between = (
        f"select * from relationships where source_account_id in ({listed}) "
        f"and target_account_id in ({listed})"
    )
    assert rows(lake, between) == rows(clean, between)


def test_junk_authorization_details_resolve_nothing(
    lake_after_good_run: Path,
    clean_demo_lake: Path,
    demo_snapshot: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    (demo_snapshot / PROD / "iam" / "get-account-authorization-details.json").write_text(JUNK)
    lake, out = _second_run(lake_after_good_run, tmp_path, demo_snapshot, capsys)
    _assert_held(lake, out, (PROD,), "get-account-authorization-details.json (whole file)")
    _assert_others_as_clean(lake, clean_demo_lake, (PROD,))
    assert "Incomplete accounts (1)" in out


def test_junk_dev_account_holds_the_escalation_paths_that_ran_through_it(
    lake_after_good_run: Path,
    clean_demo_lake: Path,
    demo_snapshot: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    """The management account's support engineer can escalate through the dev account and
    another way: with dev unreadable, its detection keeps the path it had (held open), not the
    partial view this run would give."""
    (demo_snapshot / DEV / "iam" / "get-account-authorization-details.json").write_text(JUNK)
    lake, out = _second_run(lake_after_good_run, tmp_path, demo_snapshot, capsys)
    _assert_held(lake, out, (DEV,), "get-account-authorization-details.json (whole file)")
    _assert_others_as_clean(lake, clean_demo_lake, (DEV,))
    held = rows(
        lake,
        "select principal_arn from detections where rule_id = 'privilege-escalation' "
        f"and account_id <> '{DEV}' and evidence like '%held_open%'",
    )
    assert (f"arn:aws:iam::{MANAGEMENT}:user/support-engineer",) in held
    # Counted for the account that holds them: dev, not the accounts they belong to.
    held_for = rows(
        lake,
        "select json_extract_string(evidence, '$.held_open.account_id'), count(*) "
        "from detections where json_extract(evidence, '$.held_open') is not null group by all",
    )
    assert rows(lake, "select account_id, held_open_detections from account_completeness") == {
        (DEV, n) for _, n in held_for
    } | {(PROD, 0), (MANAGEMENT, 0)}
    assert {a for a, _ in held_for} == {DEV}


def test_junk_deny_scp_is_not_read_as_absent(
    lake_after_good_run: Path,
    clean_demo_lake: Path,
    demo_snapshot: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    # The guardrail Deny SCP targets the Workloads OU: prod and dev would gain denied actions.
    (demo_snapshot / "organization" / "policies" / "p-denyguardrails.json").write_text(JUNK)
    lake, out = _second_run(lake_after_good_run, tmp_path, demo_snapshot, capsys)
    _assert_held(lake, out, (PROD, DEV), "unreadable organization policy p-denyguardrails")
    _assert_others_as_clean(lake, clean_demo_lake, (PROD, DEV))


def test_junk_full_aws_access_scp_is_not_read_as_absent(
    lake_after_good_run: Path,
    clean_demo_lake: Path,
    demo_snapshot: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    # FullAWSAccess is attached to the root and every account: without it members could do nothing.
    (demo_snapshot / "organization" / "policies" / "p-FullAWSAccess.json").write_text(JUNK)
    lake, out = _second_run(lake_after_good_run, tmp_path, demo_snapshot, capsys)
    _assert_held(lake, out, (PROD, DEV), "unreadable organization policy p-FullAWSAccess")
    # SCPs do not restrict the management account: it is judged as a clean run judges it.
    _assert_others_as_clean(lake, clean_demo_lake, (PROD, DEV))
