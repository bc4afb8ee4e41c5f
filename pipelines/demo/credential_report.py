"""Demo writers: each account's IAM credential report (a snapshot document, as AWS writes it)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from pipelines.demo.accounts import ACCOUNT_CREATED, cli_time, parse_trail, ts
from pipelines.demo.last_used import LastUsed
from pipelines.demo.principals import SecondKey, User
from pipelines.demo.scenarios import TABLES

CREDENTIAL_REPORT_COLUMNS = [
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used",
    "password_last_changed", "password_next_rotation", "mfa_active",
    "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
    "access_key_1_last_used_region", "access_key_1_last_used_service",
    "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
    "access_key_2_last_used_region", "access_key_2_last_used_service",
    "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
]  # fmt: skip


def credential_rows(account: str, last_used: LastUsed) -> list[dict[str, str]]:
    """The credential report of an account as AWS writes it (root first, then users by name)."""
    root = TABLES.roots_by_account[account]
    seen = last_used.get(root.arn, {})
    login = seen.get("password")
    password_used = (
        cli_time(parse_trail(login[0])) if login else root.password_used_before or "no_information"
    )
    created_key = seen.get("key_created")
    if created_key:  # created in the trail, never used since
        root_key = _key_columns(True, cli_time(parse_trail(created_key[0])), None)
    elif root.key:
        root_key = _old_key_columns(root.key)
    else:
        root_key = _NO_KEY
    rows = [
        ["<root_account>", root.arn, cli_time(ts(ACCOUNT_CREATED[account])), "not_supported",
         password_used, "not_supported", "not_supported", _flag(root.mfa), *root_key, *_NO_KEY,
         *_NO_CERTS]
    ]  # fmt: skip
    for user in sorted((u for u in TABLES.users if u.account == account), key=lambda u: u.name):
        rows.append(_user_credentials(user, last_used.get(user.arn, {})))
    return [dict(zip(CREDENTIAL_REPORT_COLUMNS, row, strict=True)) for row in rows]


_NO_KEY = ["false", "N/A", "N/A", "N/A", "N/A"]
_NO_CERTS = ["false", "N/A", "false", "N/A"]


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _key_columns(active: bool, rotated: str, used: tuple[str, str, str] | None) -> list[str]:
    return [_flag(active), rotated, *(used or ("N/A", "N/A", "N/A"))]


def _old_key_columns(key: SecondKey) -> list[str]:
    used = (cli_time(ts(key.used[0])), key.used[1], key.used[2]) if key.used else None
    return _key_columns(key.active, cli_time(ts(key.rotated)), used)


def _user_credentials(user: User, seen: dict[str, tuple[str, str, str]]) -> list[str]:
    creation = ts(user.created)
    password = ["false", "N/A", "N/A"]
    if user.console:
        last = seen.get("password")
        if last:
            used = cli_time(parse_trail(last[0]))
        elif user.password_used_before:
            used = cli_time(ts(user.password_used_before))
        else:
            used = "no_information"
        password = ["true", used, cli_time(creation + timedelta(minutes=3))]
    key = _NO_KEY
    if user.access_key:
        last = seen.get("key")
        used_key: tuple[str, str, str] | None = None
        if last:
            used_key = (cli_time(parse_trail(last[0])), last[1], last[2])
        elif user.key_used_before:
            when, region, service = user.key_used_before
            used_key = (cli_time(ts(when)), region, service)
        rotated = ts(user.key_rotated) if user.key_rotated else creation + timedelta(minutes=5)
        key = _key_columns(True, cli_time(rotated), used_key)
    second = _old_key_columns(user.second_key) if user.second_key else _NO_KEY
    return [user.name, user.arn, cli_time(creation), *password, "N/A", _flag(user.mfa), *key,
            *second, *_NO_CERTS]  # fmt: skip


def credential_report(account: str, last_used: LastUsed) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CREDENTIAL_REPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(credential_rows(account, last_used))
    return buffer.getvalue()
