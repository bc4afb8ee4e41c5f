"""Collect layer: secret-bearing fields dropped from every AWS response as it arrives, before
anything reads or writes it (one key path per field in `REDACTED_FIELDS`), and the clients that
do it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.config import Config

from pipelines.lib.collect.settings import CLIENT_CONFIG

# ---------------------------------------------------------------------------------------------
# secrets: dropped from every response as it arrives, before anything reads or writes it

REDACTED = "<redacted by ciem>"
# Secret-bearing fields per API (botocore service, operation): a key path, `*` for every list item
# or object value; the value at its end becomes REDACTED (keys and JSON shape stay). These are the
# fields botocore marks "sensitive" in the responses received, except assumed-role credentials
# (memory only) and account names and emails (landed). Never called: GetSecretValue, SSM,
# CloudFormation, EC2 user data attributes.
REDACTED_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("lambda", "ListFunctions"): (
        "Functions.*.Environment.Variables.*",
        "Functions.*.Environment.Error.Message",  # may echo a value that could not be applied
        "Functions.*.ImageConfigResponse.Error.Message",
        "Functions.*.RuntimeVersionConfig.Error.Message",
    ),
}


def redact(doc: Any, paths: Iterable[str]) -> int:
    """Replace the value at each path of `doc` by REDACTED, in place; returns how many. Missing
    keys and nodes of unexpected types are skipped; nulls stay; an object or list is replaced."""
    return sum(_redact(doc, path.split(".")) for path in paths)


def _redact(node: Any, keys: list[str]) -> int:
    key, rest = keys[0], keys[1:]
    if key == "*" and isinstance(node, dict | list):
        slots: list[Any] = list(node) if isinstance(node, dict) else list(range(len(node)))
    else:
        slots = [key] if key != "*" and isinstance(node, dict) and key in node else []
    if rest:
        return sum(_redact(node[slot], rest) for slot in slots)
    hits = [slot for slot in slots if node[slot] is not None]
    for slot in hits:
        node[slot] = REDACTED
    return len(hits)


def _redact_response(parsed: Any, model: Any, **_: Any) -> None:
    """botocore `after-call` handler: redacts each response (each page) before boto3 returns it."""
    paths = REDACTED_FIELDS.get((model.service_model.service_name, model.name))
    if paths and isinstance(parsed, dict):
        redact(parsed, paths)


def make_client(session: Any, service: str, region: str, config: Config = CLIENT_CONFIG) -> Any:
    """Every client the collector uses: its responses are redacted as they arrive."""
    client = session.client(service, region_name=region, config=config)
    client.meta.events.register("after-call", _redact_response)
    return client
