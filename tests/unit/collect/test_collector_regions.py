"""Collector failure handling per region, on real botocore clients with stubbed responses:
a disabled region is reported and skipped, a refused step is reported and the rest lands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import botocore.session
from botocore.stub import Stubber

from pipelines.lib.collect.collector import AccountResult, AccountRun, write_region

EMPTY = {
    "ec2": ("describe_instances", {"Reservations": []}),
    "lambda": ("list_functions", {"Functions": []}),
    "kms": ("list_keys", {"Keys": []}),
    "sqs": ("list_queues", {}),
    "sns": ("list_topics", {"Topics": []}),
    "secretsmanager": ("list_secrets", {"SecretList": []}),
}


class _StubbedSession:
    """A session whose clients answer from `answers` (service -> response or error code)."""

    def __init__(self, region: str, answers: dict[str, dict[str, Any] | str]) -> None:
        self.region_name = region
        self.answers = answers
        self.stubbers: list[Stubber] = []

    def client(self, service: str, region_name: str | None = None, config: Any = None) -> Any:
        client = botocore.session.get_session().create_client(
            service,
            region_name=region_name,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 (a stub, never sent)
        )
        stubber = Stubber(client)
        operation, response = EMPTY[service]
        answer = self.answers.get(service, response)
        if isinstance(answer, str):
            stubber.add_client_error(operation, service_error_code=answer, http_status_code=403)
        else:
            stubber.add_response(operation, answer)
        stubber.activate()
        self.stubbers.append(stubber)
        return client


def _run(tmp_path: Path, answers: dict[str, dict[str, Any] | str]) -> AccountRun:
    session = _StubbedSession("ap-east-1", answers)
    result = AccountResult(account_id="111111111111")
    account = AccountRun(session, tmp_path / "111111111111", result)  # type: ignore[arg-type]
    write_region(account, "ap-east-1")
    for stubber in session.stubbers:
        stubber.assert_no_pending_responses()
    return account


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_disabled_region_is_reported_and_skipped(tmp_path: Path) -> None:
    account = _run(tmp_path, {"ec2": "AuthFailure"})
    assert account.result.errors == ["region ap-east-1 not enabled or not reachable: AuthFailure"]
    assert account.result.regions == []
    assert _files(tmp_path) == set()


def test_refused_step_is_reported_and_the_rest_of_the_region_lands(tmp_path: Path) -> None:
    account = _run(tmp_path, {"kms": "AccessDeniedException"})
    assert account.result.errors == ["ap-east-1 kms key policies: AccessDeniedException"]
    assert account.result.regions == ["ap-east-1"]
    assert _files(tmp_path / "111111111111") == {
        "ap-east-1/ec2/describe-instances.json",
        "ap-east-1/lambda/list-functions.json",
    }
