"""Quarantine: where bad input goes instead of crashing a run (landing layer, every reader).

A reader that meets a malformed file, record or policy adds one `QuarantineEntry` naming the file,
the record inside it and the field, with a reason a person can act on, and carries on with every
good record beside it. The landing assets write the entries to the lake (`quarantine` table).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

log = logging.getLogger("ciem")

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),  # 'snapshot' | 'cloudtrail'
        pa.field("file", pa.string(), nullable=False),  # path of the input file
        pa.field(
            "record", pa.string()
        ),  # e.g. 'Records[12]', 'UserDetailList[3]'; null = whole file
        pa.field(
            "field", pa.string()
        ),  # e.g. 'UserPolicyList[0].PolicyDocument'; null = whole record
        pa.field("reason", pa.string(), nullable=False),
        pa.field("partition", pa.string()),  # CloudTrail day or snapshot folder name
        pa.field("quarantined_at", pa.timestamp("us", tz="UTC"), nullable=False),
        # Snapshot entries: the account folder the file is in (null for organization/ files) and
        # the ARN of the principal, policy or resource the entry is about, when known (a refused
        # inline policy or trust policy names its principal, a managed policy or SCP its own ARN).
        # Lake files written before these columns read them as null (union_by_name).
        pa.field("account_id", pa.string()),
        pa.field("subject_arn", pa.string()),
    ]
)


@dataclass(frozen=True)
class QuarantineEntry:
    source: str
    file: str
    reason: str
    record: str | None = None
    field: str | None = None
    partition: str | None = None
    account_id: str | None = None
    subject_arn: str | None = None

    def message(self) -> str:
        """One line naming file, record and field, as shown to the user."""
        where = self.file
        if self.record:
            where += f" record {self.record}"
        if self.field:
            where += f" field {self.field}"
        return f"quarantined {where}: {self.reason}"


@dataclass
class Quarantine:
    """Collects quarantine entries for one landing step; logs each one as it is added."""

    source: str
    partition: str | None = None
    entries: list[QuarantineEntry] = field(default_factory=list)
    quiet: bool = False  # a worker process collects; its parent logs

    def add(
        self,
        file: str,
        reason: str,
        record: str | None = None,
        field: str | None = None,
        *,
        account_id: str | None = None,
        subject_arn: str | None = None,
    ) -> None:
        entry = QuarantineEntry(
            source=self.source,
            file=str(file),
            reason=reason,
            record=record,
            field=field,
            partition=self.partition,
            account_id=account_id,
            subject_arn=subject_arn,
        )
        self.extend([entry])

    def extend(self, entries: list[QuarantineEntry]) -> None:
        """Take entries collected elsewhere (e.g. by a worker process), logging each."""
        self.entries.extend(entries)
        if not self.quiet:
            for entry in entries:
                log.warning(entry.message())

    def __len__(self) -> int:
        return len(self.entries)

    def to_table(self) -> pa.Table:
        now = datetime.now(UTC)
        return pa.Table.from_pylist(
            [
                {
                    "source": e.source,
                    "file": e.file,
                    "record": e.record,
                    "field": e.field,
                    "reason": e.reason,
                    "partition": e.partition,
                    "quarantined_at": now,
                    "account_id": e.account_id,
                    "subject_arn": e.subject_arn,
                }
                for e in self.entries
            ],
            schema=QUARANTINE_SCHEMA,
        )
