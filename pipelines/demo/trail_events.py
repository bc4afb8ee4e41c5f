"""Demo builders, CloudTrail: record assembly, identities and STS events of the demo trail."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pipelines.demo.accounts import HOME, fake_hex, trail_time
from pipelines.demo.principals import Role, User

UA_CLI = (
    "aws-cli/2.31.18 md/awscrt#0.28.1 ua/2.1 os/linux#6.8.0-1040-aws md/arch#x86_64 "
    "lang/python#3.13.7 md/pyimpl#CPython m/E cfg/retry-mode#standard md/installer#exe "
    "md/distrib#ubuntu.24 md/prompt#off"
)
UA_BOTO = (
    "Boto3/1.43.116 md/Botocore#1.43.116 ua/2.1 os/linux#6.1.155-176.282.amzn2023.x86_64 "
    "md/arch#x86_64 lang/python#3.12.12 md/pyimpl#CPython m/b,Z cfg/retry-mode#legacy "
    "Botocore/1.43.116"
)
UA_LAMBDA = (
    "Boto3/1.40.4 md/Botocore#1.40.4 ua/2.1 os/linux#5.10.240-258.963.amzn2.x86_64 "
    "md/arch#x86_64 lang/python#3.12.11 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 "
    "cfg/retry-mode#legacy Botocore/1.40.4"
)
UA_SSM = "aws-sdk-go/1.55.7 (go1.24.6; linux; amd64) amazon-ssm-agent/3.3.2299.0"
UA_GITHUB = (
    "aws-sdk-js/3.913.0 ua/2.1 os/linux#6.11.0-1018-azure lang/js md/nodejs#20.19.5 "
    "api/cloudformation#3.913.0 m/E,N"
)
UA_CONSOLE = "AWS Internal"
UA_BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/142.0.0.0 Safari/537.36"
)
GLOBAL_SOURCES = {"iam", "sts", "organizations", "ce", "signin"}
READ_PREFIXES = ("Get", "List", "Describe", "Head", "Lookup", "BatchGet", "AssumeRole")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def fake_ip(key: str, block: str) -> str:
    return f"{block}.{10 + int(fake_hex(key, 4), 16) % 200}"


def expiration(moment: datetime) -> str:
    """CloudTrail's credentials.expiration rendering: 'Nov 5, 2026, 11:15:00 AM'."""
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return (
        f"{MONTHS[moment.month - 1]} {moment.day}, {moment.year}, "
        f"{hour}:{moment.minute:02d}:{moment.second:02d} {half}"
    )


def console_context(start: datetime, mfa: bool) -> dict[str, Any]:
    """sessionContext of a console session (no issuer: the user or root signed in itself)."""
    return {
        "sessionIssuer": {},
        "webIdFederationData": {},
        "attributes": {
            "creationDate": trail_time(start),
            "mfaAuthenticated": "true" if mfa else "false",
        },
    }


@dataclass
class Session:
    """Credentials a principal acts with on one day."""

    identity: dict
    account: str
    ip: str
    agent: str
    caller_arn: str  # for AccessDenied messages
    console: bool = False


class EventLog:
    """The trail's records in generation order, and the random values they draw."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.events: list[dict] = []

    # -- small random values ------------------------------------------------------------------
    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def token(self, prefix: str, length: int) -> str:
        return prefix + "".join(self.rng.choice(ALNUM[:26] + "234567") for _ in range(length))

    def credentials(self, moment: datetime) -> dict:
        return {
            "accessKeyId": self.token("ASIA", 16),
            "sessionToken": "IQoJb3JpZ2luX2VjE"
            + "".join(self.rng.choice(ALNUM) for _ in range(48)),
            "expiration": expiration(moment + timedelta(hours=1)),
        }

    # -- event assembly -------------------------------------------------------------------------
    def emit(
        self,
        *,
        identity: dict,
        moment: datetime,
        source: str,
        name: str,
        region: str,
        account: str,
        ip: str,
        agent: str,
        params: dict | None = None,
        response: dict | None = None,
        error: tuple[str, str] | None = None,
        resources: list[dict] | None = None,
        event_type: str = "AwsApiCall",
        shared_id: str | None = None,
        extra: dict | None = None,
        console: bool = False,
    ) -> None:
        host = f"{source}.amazonaws.com"
        event: dict[str, Any] = {
            "eventVersion": "1.08",
            "userIdentity": identity,
            "eventTime": trail_time(moment),
            "eventSource": host,
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": ip,
            "userAgent": agent,
        }
        if error:
            event["errorCode"], event["errorMessage"] = error
        event["requestParameters"] = params
        event["responseElements"] = response
        if extra and "additionalEventData" in extra:
            event["additionalEventData"] = extra["additionalEventData"]
        if event_type == "AwsApiCall":
            event["requestID"] = self.uuid()
        event["eventID"] = self.uuid()
        event["readOnly"] = name.startswith(READ_PREFIXES)
        if resources:
            event["resources"] = resources
        event["eventType"] = event_type
        event["managementEvent"] = True
        event["recipientAccountId"] = account
        if shared_id:
            event["sharedEventID"] = shared_id
        if extra and "serviceEventDetails" in extra:
            event["serviceEventDetails"] = extra["serviceEventDetails"]
        event["eventCategory"] = "Management"
        if console:
            event["sessionCredentialFromConsole"] = "true"
        if event_type == "AwsApiCall" and not ip.endswith(".amazonaws.com"):
            endpoint = host if source in GLOBAL_SOURCES else f"{source}.{region}.amazonaws.com"
            event["tlsDetails"] = {
                "tlsVersion": "TLSv1.3",
                "cipherSuite": "TLS_AES_128_GCM_SHA256",
                "clientProvidedHostHeader": endpoint,
            }
        self.events.append(event)

    def console_login(
        self, login: dict, moment: datetime, account: str, ip: str, additional: dict
    ) -> None:
        """A successful signin ConsoleLogin record."""
        self.emit(
            identity=login,
            moment=moment,
            source="signin",
            name="ConsoleLogin",
            region=HOME,
            account=account,
            ip=ip,
            agent=UA_BROWSER,
            response={"ConsoleLogin": "Success"},
            event_type="AwsConsoleSignIn",
            extra={"additionalEventData": additional},
        )

    # -- identities -----------------------------------------------------------------------------
    @staticmethod
    def user_identity(user: User, key: str | None = None, context: dict | None = None) -> dict:
        identity: dict[str, Any] = {
            "type": "IAMUser",
            "principalId": user.id,
            "arn": user.arn,
            "accountId": user.account,
        }
        if key:
            identity["accessKeyId"] = key
        identity["userName"] = user.name
        if context:
            identity["sessionContext"] = context
        return identity

    @staticmethod
    def role_identity(
        role: Role, session_name: str, key: str, created: datetime, **context: Any
    ) -> dict:
        web_identity = context.pop("web_identity", {})
        invoked_by = context.pop("invoked_by", None)
        session_context: dict[str, Any] = {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role.id,
                "arn": role.arn,
                "accountId": role.account,
                "userName": role.name,
            },
            "webIdFederationData": web_identity,
            "attributes": {"creationDate": trail_time(created), "mfaAuthenticated": "false"},
        }
        session_context.update(context)
        identity: dict[str, Any] = {
            "type": "AssumedRole",
            "principalId": f"{role.id}:{session_name}",
            "arn": f"arn:aws:sts::{role.account}:assumed-role/{role.name}/{session_name}",
            "accountId": role.account,
            "accessKeyId": key,
            "sessionContext": session_context,
        }
        if invoked_by:
            identity["invokedBy"] = invoked_by
        return identity

    def assume_role_event(
        self,
        *,
        role: Role,
        session_name: str,
        moment: datetime,
        identity: dict,
        account: str,
        ip: str,
        agent: str,
        name: str = "AssumeRole",
        params: dict | None = None,
        response_extra: dict | None = None,
        error: tuple[str, str] | None = None,
        shared_id: str | None = None,
    ) -> dict | None:
        credentials = self.credentials(moment)
        response = None
        if not error:
            response = {
                "credentials": credentials,
                "assumedRoleUser": {
                    "assumedRoleId": f"{role.id}:{session_name}",
                    "arn": f"arn:aws:sts::{role.account}:assumed-role/{role.name}/{session_name}",
                },
                **(response_extra or {}),
            }
        request = {"roleArn": role.arn, "roleSessionName": session_name, **(params or {})}
        self.emit(
            identity=identity,
            moment=moment,
            source="sts",
            name=name,
            region=HOME,
            account=account,
            ip=ip,
            agent=agent,
            params=request,
            response=response,
            error=error,
            resources=[{"accountId": role.account, "type": "AWS::IAM::Role", "ARN": role.arn}],
            shared_id=shared_id,
        )
        return credentials if not error else None
