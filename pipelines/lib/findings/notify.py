"""Findings layer: notifications — the detections that opened, reopened or changed severity in a
run, sent to a webhook (Slack-compatible or generic JSON) and as OCSF JSON lines to a folder or
an `s3://` prefix.

What is sent is read from the lake's detection history (`history/detections/as_of=….parquet`),
never from the warehouse, with the lifecycle of `detection_timeline`: for the run of date D and
the run before it (the latest earlier as-of in the detection or resource history),
- `opened`: found by D's run and by no earlier run;
- `reopened`: found by D's run and by an earlier run, not by the run just before;
- `severity_changed`: found by both, with another severity than the last run that found it;
- `unsuppressed`: found by both, suppressed in the run before and not any more (its suppression
  expired or was removed: it is open for the first time as far as anyone was told).
A detection suppressed in D's run is never sent. The first run of a lake (no earlier run) is the
baseline: its detections are the backlog, and nothing is sent.

Delivery is idempotent per as-of date: `notifications/as_of=D/deliveries.parquet` in the lake
records each (destination, detection, change) delivered or failed; a rerun of D sends only what
is not recorded as delivered. Failures are retried with exponential backoff (HTTP 5xx and 429,
connection errors, timeouts), then returned as failed deliveries for the caller to report
(`notifications` asset check); they never raise. A webhook receives each batch with an
`Idempotency-Key` header, since a delivery whose answer was lost is sent again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.lib.findings.ocsf import detection_finding
from pipelines.lib.lake import Lake, exclusive, replace_private, temp_path_for, write_parquet

log = logging.getLogger("ciem")

CHANGES = ("opened", "reopened", "severity_changed", "unsuppressed")
WEBHOOK_FORMATS = ("slack", "json")
BATCH_SIZE = 20  # changes per webhook message (Slack allows 50 blocks; 2 per change + header)
RETRIES = 4  # attempts after the first one
BACKOFF_S = 1.0  # the first wait; doubled after each failed attempt (1, 2, 4, 8 s)
TIMEOUT_S = 10.0  # per HTTP request

DELIVERY_SCHEMA = pa.schema(
    [
        pa.field("as_of", pa.date32(), nullable=False),
        pa.field("destination", pa.string(), nullable=False),  # 'webhook:<hash>' | 'ocsf:<hash>'
        pa.field("detection_id", pa.string(), nullable=False),
        pa.field("change", pa.string(), nullable=False),
        pa.field("status", pa.string(), nullable=False),  # 'delivered' | 'failed'
        pa.field("attempts", pa.int64(), nullable=False),
        pa.field("error", pa.string()),  # the last failure, one line
        pa.field("recorded_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)


class NotifySettingError(ValueError):
    """A notification setting that cannot be used (named in one line)."""


@dataclass(frozen=True)
class Destinations:
    """Where notifications go; an empty value is a destination not configured."""

    webhook: str = ""  # http(s) URL
    webhook_format: str = "slack"  # 'slack' | 'json'
    ocsf_dir: str = ""  # a local folder or s3://bucket/prefix

    def __post_init__(self) -> None:
        if self.webhook_format not in WEBHOOK_FORMATS:
            raise NotifySettingError(
                f"CIEM_NOTIFY_WEBHOOK_FORMAT={self.webhook_format!r}: use slack or json"
            )
        if self.webhook and not self.webhook.startswith(("http://", "https://")):
            raise NotifySettingError("CIEM_NOTIFY_WEBHOOK: not an http:// or https:// URL")

    @property
    def configured(self) -> bool:
        return bool(self.webhook or self.ocsf_dir)

    def destination_keys(self) -> list[str]:
        """Each configured destination's key in the delivery log. A hash, never the URL: a
        webhook URL is a secret (Slack's carries its token), the lake must not hold it."""
        keys = []
        if self.webhook:
            keys.append(f"webhook:{_short_hash(self.webhook_format + ' ' + self.webhook)}")
        if self.ocsf_dir:
            keys.append(f"ocsf:{_short_hash(self.ocsf_dir)}")
        return keys


@dataclass(frozen=True)
class Delivery:
    destination: str
    detection_id: str
    change: str
    status: str
    attempts: int
    error: str | None = None


@dataclass
class NotifyResult:
    as_of: date
    previous_as_of: date | None
    changes: list[dict[str, Any]]
    deliveries: list[Delivery] = field(default_factory=list)
    already_delivered: int = 0  # (destination, change) pairs a previous run of D delivered

    @property
    def failed(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.status == "failed"]

    @property
    def delivered(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.status == "delivered"]


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def delivery_log_path(lake: Lake, as_of: date) -> Path:
    return lake.root / "notifications" / f"as_of={as_of.isoformat()}" / "deliveries.parquet"


def _history_glob(lake: Lake, kind: str) -> str | None:
    folder = lake.root / "history" / kind
    return str(folder / "as_of=*.parquet") if any(folder.glob("as_of=*.parquet")) else None


# One row per detection of D's run that is sent, with its change (see the module docstring).
_CHANGES_SQL = """
with history as (
    select * from read_parquet($detections, union_by_name = true) where as_of <= $as_of
),
now_ as (
    select * from history where as_of = $as_of and suppression_reason is null
),
earlier as (
    select * from history where as_of < $as_of
    qualify row_number() over (partition by detection_id order by as_of desc) = 1
),
before as (
    select * from history where as_of = $previous
),
final as (
    select
        n.*,
        case
            when e.detection_id is null then 'opened'
            when b.detection_id is null then 'reopened'
            when n.severity <> e.severity then 'severity_changed'
            when b.suppression_reason is not null then 'unsuppressed'
        end as change,
        e.severity as previous_severity,
        (select min(as_of) from history as h where h.detection_id = n.detection_id)
            as first_seen_at
    from now_ as n
    left join earlier as e on e.detection_id = n.detection_id
    left join before as b on b.detection_id = n.detection_id
)
select * from final where change is not null order by detection_id
"""


def _previous_as_of(lake: Lake, as_of: date) -> date | None:
    """The as-of date of the run before `as_of`'s: the latest earlier date with a detection or
    resource history file (each run writes both, a run that found nothing an empty one)."""
    dates = set()
    for kind in ("detections", "resources"):
        for path in (lake.root / "history" / kind).glob("as_of=*.parquet"):
            try:
                dates.add(date.fromisoformat(path.stem.removeprefix("as_of=")))
            except ValueError:
                continue
    earlier = [d for d in dates if d < as_of]
    return max(earlier) if earlier else None


def detection_changes(lake: Lake, as_of: date) -> tuple[date | None, list[dict[str, Any]]]:
    """(the previous run's as-of date, the changes of `as_of`'s run), from the lake history.
    No previous run: the baseline, nothing to send. No history file for `as_of`: the run did
    not record its detections, FileNotFoundError."""
    if not lake.history_path(as_of).exists():
        raise FileNotFoundError(
            f"no detection history for {as_of} in {lake.root}: the models of that date did not "
            "finish, nothing to notify"
        )
    previous = _previous_as_of(lake, as_of)
    if previous is None:
        return None, []
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        cursor = con.execute(
            _CHANGES_SQL,
            {"detections": _history_glob(lake, "detections"), "as_of": as_of, "previous": previous},
        )
        columns = [c[0] for c in cursor.description]
        return previous, [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


# --------------------------------------------------------------------------------------------
# message bodies


def _evidence(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _change_line(change: dict[str, Any]) -> str:
    kind = change["change"].replace("_", " ")
    if change["change"] == "severity_changed" or (
        change["change"] == "reopened"
        and change["previous_severity"] not in (None, change["severity"])
    ):
        kind += f" ({change['previous_severity']} → {change['severity']})"
    return kind


def _slack_escape(text: str) -> str:
    """Slack mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(as_of: date, changes: Sequence[dict[str, Any]], total: int) -> dict[str, Any]:
    """A Slack incoming-webhook message: `text` (the notification's fallback) and blocks."""
    summary = f"ciem: {total} detection change(s) as of {as_of.isoformat()}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": summary[:150]}}
    ]
    for c in changes:
        text = (
            f"*{_slack_escape(c['severity'].upper())}* {_slack_escape(_change_line(c))}: "
            f"{_slack_escape(c['title'])}\n"
            f"`{_slack_escape(c['resource_arn'])}`\n"
            f"rule `{_slack_escape(c['rule_id'])}` · "
            f"account {_slack_escape(c['account_id'] or '-')}"
            f" · id `{c['detection_id']}`"
        )
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}})
    return {"text": summary, "blocks": blocks}


def json_body(as_of: date, changes: Sequence[dict[str, Any]], total: int) -> dict[str, Any]:
    """The generic webhook body: the as-of date and one object per change."""
    return {
        "source": "ciem",
        "as_of": as_of.isoformat(),
        "total_changes": total,
        "notifications": [
            {
                "detection_id": c["detection_id"],
                "change": c["change"],
                "severity": c["severity"],
                "previous_severity": c["previous_severity"],
                "rule_id": c["rule_id"],
                "title": c["title"],
                "resource_arn": c["resource_arn"],
                "resource_type": c["resource_type"],
                "account_id": c["account_id"],
                "principal_arn": c["principal_arn"],
                "first_seen_at": c["first_seen_at"].isoformat(),
                "evidence": _evidence(c["evidence"]),
            }
            for c in changes
        ],
    }


def ocsf_finding(change: dict[str, Any], rule: dict[str, Any], product_version: str) -> dict:
    """A change as an OCSF Detection Finding (`ocsf.detection_finding`, status New), the change
    itself under `unmapped.notification_change`."""
    detection = {
        **change,
        "status": "open",
        "last_seen_at": change["as_of"],
        "category": rule.get("category"),
        "description": rule.get("description"),
        "remediation": rule.get("remediation"),
        "reference_url": rule.get("references"),
        "console_url": None,
    }
    finding = detection_finding(detection, product_version)
    finding["unmapped"]["notification_change"] = change["change"]
    if change["previous_severity"] is not None:
        finding["unmapped"]["previous_severity"] = change["previous_severity"]
    return finding


# --------------------------------------------------------------------------------------------
# delivery


class DeliveryFailed(Exception):
    """One attempt failed; `retry` says whether another attempt may succeed."""

    def __init__(self, message: str, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


def with_retries(
    attempt: Callable[[], None],
    retries: int = RETRIES,
    backoff_s: float = BACKOFF_S,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[int, str | None]:
    """Call `attempt` until it succeeds, at most 1 + `retries` times, waiting `backoff_s`,
    then twice as long after each failure. (attempts made, the last error or None)."""
    error: str | None = None
    for n in range(retries + 1):
        try:
            attempt()
            return n + 1, None
        except DeliveryFailed as exc:
            error = str(exc)
            if not exc.retry or n == retries:
                return n + 1, error
            sleep(backoff_s * 2**n)
    return retries + 1, error


def post_json(url: str, body: dict[str, Any], key: str, timeout_s: float = TIMEOUT_S) -> None:
    """One POST of `body`; DeliveryFailed (retry or not) unless the answer is 2xx."""
    request = urllib.request.Request(  # noqa: S310 (the configured webhook; http(s) checked)
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "ciem-notify",
            "Idempotency-Key": key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            response.read()
    except urllib.error.HTTPError as exc:
        retry = exc.code >= 500 or exc.code in (408, 429)
        raise DeliveryFailed(f"HTTP {exc.code} {exc.reason}", retry) from exc
    except TimeoutError as exc:
        raise DeliveryFailed(f"no answer within {timeout_s:g}s", True) from exc
    except urllib.error.URLError as exc:
        raise DeliveryFailed(f"cannot reach the webhook: {exc.reason}", True) from exc
    except OSError as exc:  # connection reset while reading the answer
        raise DeliveryFailed(f"connection failed: {exc}", True) from exc


def _write_ocsf(location: str, name: str, lines: Iterable[dict[str, Any]]) -> None:
    """One JSON-lines file, written whole or not at all: a local file is renamed into place, an
    S3 object is one PUT when the file closes."""
    data = "".join(json.dumps(line, sort_keys=True) + "\n" for line in lines).encode()
    if "://" in location and not location.startswith("file://"):
        import fsspec

        try:
            with fsspec.open(f"{location.rstrip('/')}/{name}", "wb") as out:
                out.write(data)
        except Exception as exc:  # s3fs/botocore raise many kinds; all are retried
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}".splitlines()[0], True) from exc
        return
    path = Path(location.removeprefix("file://")).expanduser() / name
    try:
        tmp = temp_path_for(path)
        tmp.write_bytes(data)
        replace_private(tmp, path)
    except OSError as exc:
        raise DeliveryFailed(f"cannot write {path}: {exc.strerror or exc}", True) from exc


def _read_log(path: Path) -> pa.Table:
    if not path.exists():
        return DELIVERY_SCHEMA.empty_table()
    return pq.read_table(path, schema=DELIVERY_SCHEMA)


def _rules(lake: Lake) -> dict[str, dict[str, Any]]:
    path = lake.table_path("ref_detection_rules")
    if not path.exists():
        return {}
    return {r["rule_id"]: r for r in pq.read_table(path).to_pylist()}


def notify(
    lake: Lake,
    as_of: date,
    destinations: Destinations,
    product_version: str = "0+unknown",
    retries: int | None = None,
    backoff_s: float | None = None,
    timeout_s: float | None = None,
) -> NotifyResult:
    """Send `as_of`'s changes to every configured destination that has not received them yet,
    and record each delivery (or failure) in the lake's delivery log. Never raises for a failed
    delivery; a missing detection history raises FileNotFoundError."""
    retries = RETRIES if retries is None else retries
    backoff_s = BACKOFF_S if backoff_s is None else backoff_s
    timeout_s = TIMEOUT_S if timeout_s is None else timeout_s
    if not destinations.configured:
        previous, changes = detection_changes(lake, as_of)
        return NotifyResult(as_of, previous, changes)
    # Two runs of one date at once take turns: the second reads the first one's log.
    with exclusive(delivery_log_path(lake, as_of).with_name(".lock")):
        return _notify(lake, as_of, destinations, product_version, retries, backoff_s, timeout_s)


def _notify(
    lake: Lake,
    as_of: date,
    destinations: Destinations,
    product_version: str,
    retries: int,
    backoff_s: float,
    timeout_s: float,
) -> NotifyResult:
    previous, changes = detection_changes(lake, as_of)
    result = NotifyResult(as_of, previous, changes)
    if not changes:
        return result
    log_path = delivery_log_path(lake, as_of)
    logged = _read_log(log_path)
    done = {
        (d, i, c)
        for d, i, c, s in zip(
            logged.column("destination").to_pylist(),
            logged.column("detection_id").to_pylist(),
            logged.column("change").to_pylist(),
            logged.column("status").to_pylist(),
            strict=True,
        )
        if s == "delivered"
    }
    for key in destinations.destination_keys():
        pending = [c for c in changes if (key, c["detection_id"], c["change"]) not in done]
        result.already_delivered += len(changes) - len(pending)
        if not pending:
            continue
        if key.startswith("webhook:"):
            make = slack_body if destinations.webhook_format == "slack" else json_body
            error = None
            for start in range(0, len(pending), BATCH_SIZE):
                batch = pending[start : start + BATCH_SIZE]
                if error is not None:
                    # the webhook failed a whole batch after every retry: the rest is not sent
                    # to it in this run (a rerun of the date sends it)
                    skipped = _deliveries(key, batch, 0, f"not sent: {error}")
                    result.deliveries += skipped
                    logged = _record(log_path, logged, as_of, skipped)
                    continue
                body = make(as_of, batch, len(pending))
                idem = _short_hash(
                    f"{key} {as_of} "
                    + " ".join(f"{c['detection_id']}:{c['change']}" for c in batch)
                )
                attempts, error = with_retries(
                    lambda body=body, idem=idem: post_json(
                        destinations.webhook, body, idem, timeout_s
                    ),
                    retries,
                    backoff_s,
                )
                delivered = _deliveries(key, batch, attempts, error)
                result.deliveries += delivered
                logged = _record(log_path, logged, as_of, delivered)
        else:
            rules = _rules(lake)
            findings = [
                ocsf_finding(c, rules.get(c["rule_id"], {}), product_version) for c in pending
            ]
            name = (
                f"ciem-notifications-{as_of.isoformat()}-"
                f"{_short_hash(' '.join(c['detection_id'] + c['change'] for c in pending))}"
                ".ocsf.jsonl"
            )
            attempts, error = with_retries(
                lambda name=name, findings=findings: _write_ocsf(
                    destinations.ocsf_dir, name, findings
                ),
                retries,
                backoff_s,
            )
            delivered = _deliveries(key, pending, attempts, error)
            result.deliveries += delivered
            logged = _record(log_path, logged, as_of, delivered)
    for failure in {(d.destination, d.error) for d in result.failed}:
        log.warning(f"notification to {failure[0]} failed: {failure[1]}")
    return result


def _deliveries(
    key: str, changes: Sequence[dict[str, Any]], attempts: int, error: str | None
) -> list[Delivery]:
    status = "failed" if error else "delivered"
    return [Delivery(key, c["detection_id"], c["change"], status, attempts, error) for c in changes]


def _record(path: Path, logged: pa.Table, as_of: date, deliveries: list[Delivery]) -> pa.Table:
    """Append deliveries to the log as soon as they are made (a crash after a batch never sends
    that batch again); earlier failures of what is now delivered stay, as the attempts' record.
    Returns the log as written."""
    if not deliveries:
        return logged
    now = datetime.now(UTC)
    rows = pa.Table.from_pylist(
        [
            {
                "as_of": as_of,
                "destination": d.destination,
                "detection_id": d.detection_id,
                "change": d.change,
                "status": d.status,
                "attempts": d.attempts,
                "error": d.error,
                "recorded_at": now,
            }
            for d in deliveries
        ],
        schema=DELIVERY_SCHEMA,
    )
    table = pa.concat_tables([logged, rows])
    write_parquet(table, path)
    return table
