"""Secret redaction without AWS: `redact` on real-shaped ListFunctions responses (missing fields,
empty and malformed values), every declared path exists in the botocore model, and the clients the
collector makes hand back (and write) redacted pages."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.model import Shape
from botocore.stub import Stubber

from pipelines.lib.collect.api import get_functions
from pipelines.lib.collect.collector import AccountResult, AccountRun, write_functions
from pipelines.lib.collect.redact import REDACTED, REDACTED_FIELDS, make_client, redact

LIST_FUNCTIONS = REDACTED_FIELDS[("lambda", "ListFunctions")]
SECRET = "ciem-planted-secret-unit"  # noqa: S105 (a planted marker, not a secret)


def _function(name: str, **fields: Any) -> dict[str, Any]:
    """One `Functions` entry as `aws lambda list-functions` prints it."""
    return {
        "FunctionName": name,
        "FunctionArn": f"arn:aws:lambda:eu-west-1:111111111111:function:{name}",
        "Runtime": "python3.12",
        "Role": "arn:aws:iam::111111111111:role/fn-role",
        "Handler": "index.handler",
        "CodeSize": 299,
        "Description": "",
        "Timeout": 3,
        "MemorySize": 128,
        "LastModified": "2026-01-05T10:00:00.000+0000",
        "CodeSha256": "KZ1kR5pQ0x6dK1yM2m9Q4fVb3c9yJ5lN0cC9d2Xo8Vw=",
        "Version": "$LATEST",
        "TracingConfig": {"Mode": "PassThrough"},
        "RevisionId": "5f7e7f7c-0b0a-4c55-9d3e-1a2b3c4d5e6f",
        "PackageType": "Zip",
        "Architectures": ["x86_64"],
        "EphemeralStorage": {"Size": 512},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"},
        **fields,
    }


def _response() -> dict[str, Any]:
    return {
        "Functions": [
            _function(
                "with-env",
                Environment={"Variables": {"DB_PASSWORD": SECRET, "LOG_LEVEL": "debug"}},
            ),
            _function(
                "env-error",
                Environment={
                    "Variables": {"API_TOKEN": SECRET},
                    "Error": {"ErrorCode": "AccessDeniedException", "Message": f"x {SECRET}"},
                },
                ImageConfigResponse={"Error": {"ErrorCode": "E", "Message": SECRET}},
                RuntimeVersionConfig={
                    "RuntimeVersionArn": "arn:aws:lambda:eu-west-1::runtime:abc",
                    "Error": {"ErrorCode": "E", "Message": SECRET},
                },
            ),
            _function("no-env"),
            _function("empty-env", Environment={}),
            _function("empty-variables", Environment={"Variables": {}}),
        ]
    }


def test_values_are_replaced_and_names_and_everything_else_stay() -> None:
    doc = _response()
    expected = _response()
    with_env, env_error = expected["Functions"][:2]
    with_env["Environment"]["Variables"] = {"DB_PASSWORD": REDACTED, "LOG_LEVEL": REDACTED}
    env_error["Environment"]["Variables"]["API_TOKEN"] = REDACTED
    for part in (env_error["Environment"], env_error["ImageConfigResponse"]):
        part["Error"]["Message"] = REDACTED
    env_error["RuntimeVersionConfig"]["Error"]["Message"] = REDACTED
    assert redact(doc, LIST_FUNCTIONS) == 6
    assert doc == expected  # the redacted values only: same keys, same shape, the rest as it was
    assert SECRET not in json.dumps(doc)
    assert "DB_PASSWORD" in json.dumps(doc)


def test_redacting_twice_changes_nothing_more() -> None:
    doc = _response()
    redact(doc, LIST_FUNCTIONS)
    once = copy.deepcopy(doc)
    redact(doc, LIST_FUNCTIONS)
    assert doc == once


@pytest.mark.parametrize(
    "doc",
    [
        {},
        {"Functions": []},
        {"Functions": None},
        {"Functions": {}},
        {"Functions": "text"},
        {"Functions": [None, 3, "text", []]},
        {"Functions": [{"Environment": None}]},
        {"Functions": [{"Environment": "DB_PASSWORD=x"}]},
        {"Functions": [{"Environment": ["DB_PASSWORD"]}]},
        {"Functions": [{"Environment": {"Variables": None}}]},
        {"Functions": [{"Environment": {"Variables": []}}]},
        {"Functions": [{"Environment": {"Variables": "DB_PASSWORD=x"}}]},
        {"Functions": [{"Environment": {"Variables": {"A": None}, "Error": None}}]},
        {"Functions": [{"Environment": {"Error": "text"}}]},
        {"Functions": [{"Environment": {"Error": {"ErrorCode": "E"}}}]},
    ],
)
def test_missing_empty_and_malformed_fields_do_not_crash(doc: dict[str, Any]) -> None:
    before = copy.deepcopy(doc)
    assert redact(doc, LIST_FUNCTIONS) == 0
    assert doc == before


def test_an_object_or_list_where_a_value_belongs_is_replaced_whole() -> None:
    doc = {"Functions": [{"Environment": {"Variables": {"A": {"nested": SECRET}, "B": [SECRET]}}}]}
    assert redact(doc, LIST_FUNCTIONS) == 2
    assert doc == {"Functions": [{"Environment": {"Variables": {"A": REDACTED, "B": REDACTED}}}]}


def test_paths_reach_list_items_and_object_values() -> None:
    doc = {"A": [{"B": 1}, {"B": 2}, {"C": 3}], "D": {"x": 1, "y": 2}, "E": "kept"}
    assert redact(doc, ["A.*.B", "D.*", "missing.*"]) == 4
    assert doc == {
        "A": [{"B": REDACTED}, {"B": REDACTED}, {"C": 3}],
        "D": dict.fromkeys("xy", REDACTED),
        "E": "kept",
    }


def _resolve(shape: Shape, keys: list[str]) -> Shape | None:
    """The shape at a redaction path in a botocore output shape, or None if the path is wrong."""
    for key in keys:
        if shape.type_name == "list" and key == "*":
            shape = shape.member
        elif shape.type_name == "map" and key == "*":
            shape = shape.value
        elif shape.type_name == "structure" and key in shape.members:
            shape = shape.members[key]
        else:
            return None
    return shape


def test_every_declared_path_exists_in_the_api_model_and_ends_on_a_sensitive_string() -> None:
    session = botocore.session.get_session()
    for (service, operation), paths in REDACTED_FIELDS.items():
        output = session.get_service_model(service).operation_model(operation).output_shape
        for path in paths:
            shape = _resolve(output, path.split("."))
            assert shape is not None, f"{service} {operation}: no {path} in the model"
            assert shape.type_name == "string", (service, operation, path)
            assert shape.metadata.get("sensitive"), (service, operation, path)


def _stubbed_lambda(pages: list[dict[str, Any]]) -> tuple[Any, Stubber]:
    class Session:
        region_name = "eu-west-1"

        def client(self, service: str, region_name: str, config: Any) -> Any:
            return botocore.session.get_session().create_client(
                service,
                region_name=region_name,
                config=config,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",  # noqa: S106 (a stub, never sent)
            )

    client = make_client(Session(), "lambda", "eu-west-1")
    stubber = Stubber(client)
    for page in pages:
        stubber.add_response("list_functions", page)
    return client, stubber


def test_the_collector_clients_return_every_page_redacted() -> None:
    first, second = _response(), _response()
    first["NextMarker"] = "page-2"
    client, stubber = _stubbed_lambda([first, second])
    with stubber:
        doc = get_functions(client)
    stubber.assert_no_pending_responses()
    assert len(doc["Functions"]) == 10
    assert SECRET not in json.dumps(doc)
    assert doc["Functions"][5]["Environment"]["Variables"] == {
        "DB_PASSWORD": REDACTED,
        "LOG_LEVEL": REDACTED,
    }


def test_write_functions_writes_the_redacted_list(tmp_path: Path) -> None:
    client, stubber = _stubbed_lambda([_response()])
    stubber.add_response("get_policy", {"Policy": "{}"}, {"FunctionName": "with-env"})
    for _ in range(4):  # the four other functions have no resource-based policy
        stubber.add_client_error("get_policy", "ResourceNotFoundException", http_status_code=404)

    class Run(AccountRun):
        def client(self, service: str, region: str | None = None) -> Any:
            return client

    account = Run(None, tmp_path, AccountResult(account_id="111111111111"))  # type: ignore[arg-type]
    with stubber:
        write_functions(account, "eu-west-1")
    stubber.assert_no_pending_responses()
    assert account.result.errors == []
    text = (tmp_path / "eu-west-1" / "lambda" / "list-functions.json").read_text()
    assert SECRET not in text
    written = json.loads(text)["Functions"]
    assert [f["FunctionName"] for f in written] == [
        f["FunctionName"] for f in _response()["Functions"]
    ]
    assert written[0]["Environment"]["Variables"] == {
        "DB_PASSWORD": REDACTED,
        "LOG_LEVEL": REDACTED,
    }
