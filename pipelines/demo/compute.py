"""Demo builders: EC2 instances and Lambda functions (what runs with a role)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pipelines.demo.accounts import fake_hex


@dataclass(frozen=True)
class Instance:
    account: str
    region: str
    name: str
    role: str | None  # instance profile named like its role (the console default)
    state: str  # running | stopped | terminated
    launched: str
    instance_type: str = "t3.small"
    scenario: str = ""

    @property
    def id(self) -> str:
        return "i-0" + fake_hex(f"{self.account}/{self.region}/{self.name}", 16)

    @property
    def arn(self) -> str:
        return f"arn:aws:ec2:{self.region}:{self.account}:instance/{self.id}"


@dataclass(frozen=True)
class Function:
    account: str
    region: str
    name: str
    role: str
    runtime: str
    last_modified: str  # 'YYYY-MM-DD HH:MM:SS'
    first_snapshot: date | None = None  # appears only from this snapshot on
    scenario: str = ""

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.name}"
