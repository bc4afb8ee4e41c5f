"""The thresholds of the credential and usage rules: `--unused-days` / `--key-rotation-days`,
`CIEM_UNUSED_DAYS` / `CIEM_KEY_ROTATION_DAYS`, and the `run_params` row the models read."""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb
import pytest

from pipelines.cli.app import build_parser
from pipelines.defs.resources import settings_from_env
from pipelines.lib.warehouse.connection import RunParams, set_run_params

RUN = ["run", "--snapshot", "s", "--cloudtrail", "c", "--as-of", "2026-11-20"]


def test_flags_default_to_90_days() -> None:
    args = build_parser().parse_args(RUN)
    assert (args.unused_days, args.key_rotation_days) == (90, 90)


def test_flags_are_parsed() -> None:
    args = build_parser().parse_args([*RUN, "--unused-days", "30", "--key-rotation-days", "180"])
    assert (args.unused_days, args.key_rotation_days) == (30, 180)


@pytest.mark.parametrize("value", ["0", "-5", "ninety"])
def test_flags_reject_non_positive_or_non_numbers(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([*RUN, "--unused-days", value])
    assert exit_.value.code == 2
    assert "--unused-days" in capsys.readouterr().err


def test_environment_sets_the_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIEM_UNUSED_DAYS", "45")
    monkeypatch.setenv("CIEM_KEY_ROTATION_DAYS", "365")
    params = settings_from_env().run_params(date(2026, 11, 20))
    assert (params.unused_days, params.key_rotation_days) == (45, 365)


def test_environment_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CIEM_UNUSED_DAYS", raising=False)
    monkeypatch.delenv("CIEM_KEY_ROTATION_DAYS", raising=False)
    params = settings_from_env().run_params(date(2026, 11, 20))
    assert (params.unused_days, params.key_rotation_days) == (90, 90)


def test_run_params_row_holds_the_unused_period() -> None:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    set_run_params(con, RunParams(as_of=date(2026, 11, 20), unused_days=90, key_rotation_days=30))
    got = con.execute(
        "select unused_days, unused_since_at, key_rotation_days, window_days from run_params"
    ).fetchall()
    # 90 UTC days ending on the as-of date, inclusive: 2026-08-23 .. 2026-11-20.
    assert got == [(90, datetime(2026, 8, 23, tzinfo=UTC), 30, 15)]


@pytest.mark.parametrize("value", ["1", "1.5", "-0.1"])
def test_gap_threshold_outside_zero_to_one_is_a_one_line_error(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipelines.cli import main

    assert main([*RUN, "--gap-threshold", value]) == 2
    assert capsys.readouterr().err == (
        "ciem: error: --gap-threshold must be a share from 0 to below 1\n"
    )


def test_the_hop_limit_reaches_the_run_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    assert build_parser().parse_args(RUN).max_hops == 5
    assert build_parser().parse_args([*RUN, "--max-hops", "2"]).max_hops == 2
    monkeypatch.setenv("CIEM_MAX_HOPS", "3")
    params = settings_from_env().run_params(date(2026, 11, 20))
    con = duckdb.connect()
    set_run_params(con, params)
    assert con.execute("select max_hops from run_params").fetchall() == [(3,)]


def test_a_run_passes_its_hop_limit_to_the_models(monkeypatch: pytest.MonkeyPatch) -> None:
    import pipelines.cli.run as run_module

    seen = {}
    monkeypatch.setattr(run_module, "run_pipeline", lambda *a, **k: seen.update(k))
    monkeypatch.setattr(run_module, "print_summary", lambda *a, **k: None)
    args = build_parser().parse_args([*RUN, "--max-hops", "2"])
    args.func(args)
    assert seen["max_hops"] == 2
