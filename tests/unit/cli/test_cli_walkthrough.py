"""What a user trips over in the `ciem` command layer: one-line errors (never a Python class
name or a traceback), exit codes (0 success, 1 failure, 2 usage error), help texts that use the
README's names, and outputs a script can consume. Each test runs without a pipeline run: a tiny
warehouse is built by hand where one is needed."""

from __future__ import annotations

import io
import json
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import explain as cli_explain
from pipelines.cli import main
from pipelines.cli.app import build_parser
from pipelines.cli.pipeline import _user_message
from pipelines.cli.query import _format_rows
from pipelines.lib.lake import Lake

RUN = ["run", "--snapshot", "s", "--cloudtrail", "c", "--as-of", "2026-11-20"]


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    """A lake whose warehouse holds a two-row `detections` table (all `ciem query` needs)."""
    path = Lake.at(tmp_path / "lake").warehouse_path
    path.parent.mkdir(parents=True)
    con = duckdb.connect(str(path))
    con.execute("create table detections as select 'r1' as rule_id, 'open' as status")
    con.execute("insert into detections values ('r2', 'open')")
    con.close()
    return tmp_path / "lake"


def _err_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().err.strip().splitlines()


# --- exit codes and one-line errors -------------------------------------------------------


def test_missing_warehouse_is_a_plain_line_without_class_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["query", "select 1", "--lake", str(tmp_path / "none")]) == 1
    (line,) = _err_lines(capsys)
    assert line.startswith("ciem: error: no warehouse at ")
    assert "FileNotFoundError" not in line


def test_export_to_a_missing_folder_names_the_file(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("pipelines.cli.export.read_detections", lambda *_: [])
    out = tmp_path / "nodir" / "f.jsonl"
    assert main(["export", "--out", str(out), "--lake", str(lake)]) == 1
    assert _err_lines(capsys) == [f"ciem: error: {out}: No such file or directory"]


def test_user_message_strips_project_exception_paths() -> None:
    assert (
        _user_message("pipelines.lib.findings.suppressions.SuppressionError: f.yaml: entry 1: bad")
        == "f.yaml: entry 1: bad"
    )
    # A Python error keeps its class name: it says what went wrong.
    assert _user_message("ValueError: day is out of range") == "ValueError: day is out of range"


def test_empty_sql_is_a_usage_error(lake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "  ", "--lake", str(lake)]) == 2
    assert _err_lines(capsys) == ['ciem: error: no SQL given: ciem query "select ..."']


def test_broken_pipe_is_silent(
    lake: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def closed(*_: object, **__: object) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("builtins.print", closed)
    assert main(["query", "select 1", "--lake", str(lake)]) == 141
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["explain"], "explain needs PRINCIPAL_ARN and ACTION (or --batch FILE --json)"),
        (["explain", "--batch", "-"], "--batch writes JSON lines: add --json"),
        (
            ["explain", "arn:aws:iam::1:user/a", "--batch", "-", "--json"],
            "--batch takes no PRINCIPAL_ARN/ACTION arguments",
        ),
    ],
)
def test_explain_misuse_is_a_usage_error(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert _err_lines(capsys) == [f"ciem: error: {message}"]


@pytest.mark.parametrize("value", ["0", "x", "-3"])
def test_window_days_is_checked_like_the_other_day_counts(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([*RUN, "--window-days", value])
    assert exit_.value.code == 2
    assert "argument --window-days" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["70000", "-1", "http"])
def test_explorer_port_out_of_range_is_a_usage_error(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["explorer", "--port", value])
    assert exit_.value.code == 2
    assert "argument --port" in capsys.readouterr().err


def test_bad_suppressions_file_fails_before_anything_lands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "snap").mkdir()
    (tmp_path / "trail").mkdir()
    bad = tmp_path / "s.yaml"
    bad.write_text("- rule: inactive-identiy\n  resource: x\n  reason: r\n")
    argv = ["run", "--snapshot", str(tmp_path / "snap"), "--cloudtrail", str(tmp_path / "trail")]
    lake = tmp_path / "lake"
    code = main([*argv, "--as-of", "2026-11-20", "--lake", str(lake), "--suppressions", str(bad)])
    assert code == 1
    assert _err_lines(capsys) == [
        f"ciem: error: {bad}: entry 0: field 'rule': unknown rule id 'inactive-identiy'"
    ]
    assert not lake.exists()


def test_an_impossible_expiry_date_names_the_file_entry_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "snap").mkdir()
    (tmp_path / "trail").mkdir()
    bad = tmp_path / "s.yaml"
    bad.write_text("- rule: admin-iam-user\n  resource: x\n  reason: r\n  expires: 2026-02-30\n")
    argv = ["run", "--snapshot", str(tmp_path / "snap"), "--cloudtrail", str(tmp_path / "trail")]
    code = main(
        [*argv, "--as-of", "2026-11-20", "--lake", str(tmp_path / "l"), "--suppressions", str(bad)]
    )
    assert code == 1
    (line,) = _err_lines(capsys)
    assert line == (
        f"ciem: error: {bad}: entry 0: field 'expires' must be a YYYY-MM-DD date, got '2026-02-30'"
    )


# --- outputs -------------------------------------------------------------------------------


def test_json_keeps_numbers_numbers() -> None:
    from decimal import Decimal

    text = _format_rows(["z", "n"], [(Decimal("1.5"), Decimal("10"))], "json")
    assert json.loads(text) == [{"z": 1.5, "n": 10}]


@pytest.mark.parametrize("fmt", ["csv", "table"])
def test_csv_and_table_write_booleans_and_lists_as_sql_and_json(fmt: str) -> None:
    text = _format_rows(["b", "l", "s"], [(False, [1, "a"], {"k": None})], fmt)
    if fmt == "csv":
        import csv

        text = " ".join(" ".join(row) for row in csv.reader(io.StringIO(text)))
    assert "false" in text and '[1, "a"]' in text and '{"k": null}' in text
    assert "False" not in text and "'a'" not in text


def test_table_has_no_trailing_blanks() -> None:
    text = _format_rows(["a", "bbbb"], [("xxxxx", "y")], "table")
    assert all(line == line.rstrip() for line in text.splitlines())


def test_summary_hint_names_the_lake(lake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import date

    from pipelines.cli.pipeline import print_summary

    path = Lake.at(lake).warehouse_path
    con = duckdb.connect(str(path))
    con.execute("drop table detections")
    con.execute(
        "create table detections as select 'admin-iam-user' as rule_id, 'high' as severity, "
        "'open' as status"
    )
    con.execute("create table quarantine as select 1 as x where false")
    con.execute("create table principals as select 1 as x")
    con.close()
    print_summary(Lake.at(lake), date(2026, 11, 20))
    out = capsys.readouterr().out
    assert f'ciem query "select rule_id, count(*) from detections group by 1" --lake {lake}' in out


def test_batch_rejects_non_string_fields() -> None:
    class Store:
        def explain(self, principal: str, action: str, resource: str | None) -> dict:
            return {"principal": principal}

    out = io.StringIO()
    lines = io.StringIO('{"principal": null, "action": "s3:GetObject"}\nnot json\n')
    cli_explain.run_batch(Store(), lines, out)  # type: ignore[arg-type]
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert answers[0] == {"line": 1, "error": "field 'principal' must be a string"}
    assert answers[1]["line"] == 2 and answers[1]["error"].startswith("not valid JSON: ")


# --- help texts use the README's names ----------------------------------------------------


def _help(*argv: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit):
        build_parser().parse_args([*argv, "--help"])
    return capsys.readouterr().out


def test_run_help_uses_the_readme_placeholders(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help("run", capsys=capsys)
    for flag in (
        "--snapshot DIR",
        "--cloudtrail DIR|s3://BUCKET/PREFIX",
        "--as-of YYYY-MM-DD",
        "--window-days N",
        "--gap-threshold F",
        "--unused-days N",
        "--key-rotation-days N",
        "--suppressions FILE",
        "--lake DIR",
    ):
        assert flag in text, flag


def test_other_helps_use_the_readme_placeholders(capsys: pytest.CaptureFixture[str]) -> None:
    assert "PRINCIPAL_ARN ACTION RESOURCE_ARN" in " ".join(
        _help("explain", capsys=capsys).split()
    ).replace("[", "").replace("]", "")
    assert "--out FILE" in _help("export", capsys=capsys)
    assert "--port N" in _help("explorer", capsys=capsys)
    query = _help("query", capsys=capsys)
    assert "SQL" in query and "--format {table,csv,json}" in query and "output format" in query
