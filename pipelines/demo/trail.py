"""Demo builders, CloudTrail: plays the activities into the trail and packs its delivery files."""

from __future__ import annotations

import gzip
import io
import json
import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from pipelines.demo.accounts import (
    ALIASES,
    EXTERNAL,
    HOME,
    ORG_ID,
    SEED,
    TRAIL_FIRST_DAY,
    fake_id,
    fake_uuid,
)
from pipelines.demo.activity import Activity
from pipelines.demo.reference import iam_prefix, strip_suffix
from pipelines.demo.tables import Tables
from pipelines.demo.trail_calls import REQUEST_PARAMETERS, RESPONSES, CallContext, no_params
from pipelines.demo.trail_events import ALNUM, GLOBAL_SOURCES, UA_SSM, Session
from pipelines.demo.trail_sessions import SessionBuilder

DENIAL_TAILS = {
    "identity": "because no identity-based policy allows the {action} action",
    "deny": "with an explicit deny in an identity-based policy",
    "boundary": "because no permissions boundary allows the {action} action",
    "scp": "with an explicit deny in a service control policy",
}


def _parse_call(call: str, default_region: str) -> tuple[str, str, str]:
    """'<eventSource label>:<eventName>[@<region>]' -> (label, event name, region)."""
    source, _, rest = call.partition(":")
    name, _, region = rest.partition("@")
    return source, name, region or default_region


class TrailBuilder(SessionBuilder):
    """Every record of the demo trail: each activity's sessions and calls, day by day."""

    def run(self, activity: Activity) -> None:
        for day in activity.days:
            self._run_day(activity, day)

    def _start(self, activity: Activity, day: int) -> datetime:
        base = datetime.combine(TRAIL_FIRST_DAY.replace(day=day), datetime.min.time(), UTC)
        if activity.at:
            hour, minute, second = (int(part) for part in activity.at.split(":"))
            return base + timedelta(hours=hour, minutes=minute, seconds=second)
        first, last = activity.hours
        return base + timedelta(seconds=self.rng.randint(first * 3600, last * 3600 - 1))

    def _step(self, activity: Activity, first: bool) -> timedelta:
        """Gap before a call; a fixed-time ('at') session runs its calls one second apart."""
        if activity.at:
            return timedelta(seconds=0 if first else 1)
        return timedelta(seconds=self.rng.randint(1, 150))

    def _run_day(self, activity: Activity, day: int) -> None:
        moment = self._start(activity, day)
        kind = activity.via.partition(":")[0]
        if kind == "service":
            self._service_events(activity, moment)
            return
        if kind == "external" and activity.error:  # a refused AssumeRole from outside the org
            role = self.tables.roles_by_key[activity.actor]
            message = (
                f"User: arn:aws:sts::{EXTERNAL}:assumed-role/partner-audit-scanner/vendor-scanner"
                f" is not authorized to perform: sts:AssumeRole on resource: {role.arn}"
            )
            self._external_session(role, moment, (activity.error, message))
            return
        session = self.session(activity.actor, activity.via, day, moment)
        first = True
        for call in activity.calls:
            source, name, region = _parse_call(call, activity.region)
            low, high = (1, 1) if activity.error else activity.count
            for _ in range(self.rng.randint(low, high)):
                moment += self._step(activity, first)
                first = False
                assert moment.day == day, f"{activity.actor} spills past day {day}"
                self._call(activity, session, source, name, region, moment)

    def _call(
        self,
        activity: Activity,
        session: Session,
        source: str,
        name: str,
        region: str,
        moment: datetime,
    ) -> None:
        region = HOME if source in GLOBAL_SOURCES else region
        context = CallContext(activity, session, region, moment, self.tables, self.uuid)
        error = None
        if activity.error:
            action = f"{iam_prefix(source + '.amazonaws.com')}:{strip_suffix(name)}"
            tail = DENIAL_TAILS[activity.why].format(action=action)
            message = f"User: {session.caller_arn} is not authorized to perform: {action} {tail}"
            if activity.error == "Client.UnauthorizedOperation":
                message = "You are not authorized to perform this operation. " + message
            error = (activity.error, message)
        identity = session.identity
        ip, agent = session.ip, session.agent
        if source == "ssm" and "ec2RoleDelivery" in identity.get("sessionContext", {}):
            agent = UA_SSM  # the SSM agent on the instance, not the workload's SDK
        if activity.invoked_by:
            identity = {**identity, "invokedBy": activity.invoked_by}
            ip = agent = activity.invoked_by
        params = REQUEST_PARAMETERS.get(f"{source}:{name}", no_params)(context)
        response = None if error else RESPONSES.get(f"{source}:{name}", no_params)(context)
        self.emit(
            identity=identity,
            moment=moment,
            source=source,
            name=name,
            region=region,
            account=session.account,
            ip=ip,
            agent=agent,
            params=params,
            response=response,
            error=error,
            console=session.console,
        )

    def _service_events(self, activity: Activity, moment: datetime) -> None:
        account = ALIASES[activity.actor]
        service = activity.via.split(":", 1)[1] + ".amazonaws.com"
        for call in activity.calls:
            source, name, region = _parse_call(call, activity.region)
            key_id = fake_uuid(f"{account}/{region}/cmk")
            key_arn = f"arn:aws:kms:{region}:{account}:key/{key_id}"
            self.emit(
                identity={"accountId": account, "invokedBy": service},
                moment=moment,
                source=source,
                name=name,
                region=region,
                account=account,
                ip=service,
                agent=service,
                resources=[{"accountId": account, "type": "AWS::KMS::Key", "ARN": key_arn}],
                event_type="AwsServiceEvent",
                shared_id=self.uuid(),
                extra={"serviceEventDetails": {"keyId": key_id}},
            )


def build_trail(tables: Tables) -> list[dict]:
    """Every CloudTrail record of the demo, in generation order (deterministic)."""
    builder = TrailBuilder(random.Random(SEED), tables)  # noqa: S311 - reproducible fake data
    for activity in tables.activities:
        builder.run(activity)
    return builder.events


def trail_files(events: list[dict], rng: random.Random) -> Iterator[tuple[str, bytes]]:
    """Group records per account/region/day and half-day; yield (relative path, gz bytes)."""
    grouped: dict[tuple[str, str, str, int], list[dict]] = defaultdict(list)
    for event in events:
        moment = event["eventTime"]
        slot = int(moment[11:13]) // 12
        grouped[(event["recipientAccountId"], event["awsRegion"], moment[:10], slot)].append(event)
    for account, region, day, slot in sorted(grouped):
        records = sorted(
            grouped[(account, region, day, slot)], key=lambda e: (e["eventTime"], e["eventID"])
        )
        last = datetime.strptime(records[-1]["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
        delivered = min(last + timedelta(minutes=5), last.replace(hour=23, minute=59))
        stamp = delivered.strftime("%Y%m%dT%H%MZ")
        suffix = "".join(rng.choice(ALNUM) for _ in range(16))
        folder = f"AWSLogs/{ORG_ID}/{account}/CloudTrail/{region}/{day.replace('-', '/')}"
        name = f"{account}_CloudTrail_{region}_{stamp}_{suffix}.json.gz"
        body = json.dumps({"Records": records}, separators=(",", ":")).encode()
        yield f"{folder}/{name}", _gzip(body)


def _gzip(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buffer.getvalue()


def check_consistency(tables: Tables, events: list[dict]) -> None:
    """Tables and trail tell one story: unique ids, Lambda LastModified = its last write."""
    ids = [u.id for u in tables.users] + [r.id for r in tables.roles]
    ids += [g.arn for g in tables.groups] + [fake_id("AGPA", g.arn) for g in tables.groups]
    ids += [u.key_id for u in tables.users]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate fake ids")
    for function in tables.functions:
        writes = [
            e["responseElements"]["lastModified"]
            for e in events
            if e["eventSource"] == "lambda.amazonaws.com"
            and (e.get("responseElements") or {}).get("functionArn") == function.arn
        ]
        expected = function.last_modified.replace(" ", "T") + ".000+0000"
        if writes and max(writes) != expected:
            raise ValueError(f"{function.name}: LastModified {expected}, trail says {max(writes)}")
