"""Demo builders, CloudTrail: the sessions principals act in (sign-ins, AssumeRole*, services)."""

from __future__ import annotations

import base64
import hashlib
import random
from datetime import datetime, timedelta
from typing import Any

from pipelines.demo.accounts import EXTERNAL, GITHUB_SUB, OIDC_HOST, fake_hex, fake_id
from pipelines.demo.policies import saml_provider
from pipelines.demo.principals import Role, RootUser, User
from pipelines.demo.tables import Tables
from pipelines.demo.trail_events import (
    UA_BOTO,
    UA_BROWSER,
    UA_CLI,
    UA_CONSOLE,
    UA_GITHUB,
    UA_LAMBDA,
    EventLog,
    Session,
    console_context,
    fake_ip,
)


def _root_identity(root: RootUser, key: str, context: dict | None = None) -> dict:
    identity: dict[str, Any] = {"type": "Root", "principalId": root.account, "arn": root.arn}
    identity |= {"accountId": root.account, "accessKeyId": key}
    if context:
        identity["sessionContext"] = context
    return identity


class SessionBuilder(EventLog):
    """Opens each principal's session of a day once, recording how it got its credentials."""

    def __init__(self, rng: random.Random, tables: Tables) -> None:
        super().__init__(rng)
        self.tables = tables
        self.sessions: dict[tuple[str, str, int], Session] = {}

    def session(self, actor: str, via: str, day: int, moment: datetime) -> Session:
        key = (actor, via, day)
        if key not in self.sessions:
            self.sessions[key] = self._open_session(actor, via, moment)
        return self.sessions[key]

    def _assume(
        self,
        role: Role,
        session_name: str,
        start: datetime,
        identity: dict,
        ip: str,
        agent: str,
        **details: Any,
    ) -> dict | None:
        """An AssumeRole* call into the role, recorded in the role's account."""
        return self.assume_role_event(
            role=role,
            session_name=session_name,
            moment=start,
            identity=identity,
            account=role.account,
            ip=ip,
            agent=agent,
            **details,
        )

    def _role_session(
        self,
        role: Role,
        session_name: str,
        credentials: dict | None,
        start: datetime,
        ip: str,
        agent: str,
        console: bool = False,
        **context: Any,
    ) -> Session:
        """The session of the role the credentials of an AssumeRole* call act as."""
        assert credentials
        key = credentials["accessKeyId"]
        identity = self.role_identity(role, session_name, key, start, **context)
        return Session(identity, role.account, ip, agent, identity["arn"], console=console)

    def _open_session(self, actor: str, via: str, moment: datetime) -> Session:
        start = moment - timedelta(seconds=self.rng.randint(2, 40))
        kind, _, target = via.partition(":")
        if kind in ("key", "console"):
            return self._user_session(self.tables.users_by_key[actor], kind, start)
        if kind == "root":
            return self._root_session(self.tables.root(actor), start)
        role = self.tables.roles_by_key[actor]
        if kind in ("ec2", "lambda", "slr"):
            return self._service_session(role, actor, kind, target, start)
        if kind == "assume":
            return self._chained_session(role, target, start)
        if kind == "oidc":
            return self._oidc_session(role, target or GITHUB_SUB, start)
        if kind == "saml":
            return self._saml_session(role, target, start)
        if kind == "external":
            return self._external_session(role, start, None)
        raise ValueError(f"unknown via {via!r}")

    def _service_session(
        self, role: Role, actor: str, kind: str, target: str, start: datetime
    ) -> Session:
        """An EC2 instance profile, a Lambda function or a service-linked role's session."""
        service = f"{kind if kind != 'slr' else target}.amazonaws.com"
        if kind == "ec2":
            session_name = self.tables.instances_by_name[target].id
        elif kind == "lambda":
            session_name = target
        else:
            session_name = f"{target.capitalize()}-{self.rng.randint(10**8, 10**9 - 1)}"
        invoker = {"type": "AWSService", "invokedBy": service}
        duration = {"durationSeconds": 3600}
        credentials = self._assume(
            role, session_name, start, invoker, service, service, params=duration
        )
        if kind == "slr":
            return self._role_session(
                role, session_name, credentials, start, service, service, invoked_by=service
            )
        ip, agent = fake_ip(actor, "203.0.113"), {"ec2": UA_BOTO, "lambda": UA_LAMBDA}[kind]
        extra = {"ec2RoleDelivery": "2.0"} if kind == "ec2" else {}
        return self._role_session(role, session_name, credentials, start, ip, agent, **extra)

    def _user_session(self, user: User, kind: str, start: datetime) -> Session:
        ip = fake_ip(user.arn, "198.51.100")
        if kind == "key":
            agent = UA_CLI if user.console else UA_BOTO
            return Session(self.user_identity(user, user.key_id), user.account, ip, agent, user.arn)
        additional = {
            "LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
            "MobileVersion": "No",
        }
        if user.mfa:
            additional["MFAIdentifier"] = f"arn:aws:iam::{user.account}:mfa/{user.name}"
        additional["MFAUsed"] = "Yes" if user.mfa else "No"
        self.console_login(self.user_identity(user), start, user.account, ip, additional)
        context = console_context(start, user.mfa)
        identity = self.user_identity(user, self.token("ASIA", 16), context)
        return Session(identity, user.account, ip, UA_CONSOLE, user.arn, console=True)

    def _root_session(self, root: RootUser, start: datetime) -> Session:
        """Root console sign-in (no MFA unless the root has it), then a console session."""
        ip = fake_ip(root.arn, "198.51.100")
        additional = {
            "LoginTo": "https://console.aws.amazon.com/console/home",
            "MobileVersion": "No",
            "MFAUsed": "Yes" if root.mfa else "No",
        }
        self.console_login(_root_identity(root, ""), start, root.account, ip, additional)
        identity = _root_identity(root, self.token("ASIA", 16), console_context(start, root.mfa))
        return Session(identity, root.account, ip, UA_CONSOLE, root.arn, console=True)

    def _caller(self, caller: str, day: int, moment: datetime) -> Session:
        if caller in self.tables.users_by_key:
            user = self.tables.users_by_key[caller]
            return self.session(caller, "key" if user.access_key else "console", day, moment)
        return self.session(caller, self.tables.first_via(caller), day, moment)

    def _chained_session(self, role: Role, caller_key: str, start: datetime) -> Session:
        caller = self._caller(caller_key, start.day, start)
        session_name = caller_key.split("/", 1)[1]  # e.g. 'alice.admin', 'ciem-collector'
        shared = self.uuid() if caller.account != role.account else None
        credentials = self.assume_role_event(
            role=role,
            session_name=session_name,
            moment=start,
            identity=caller.identity,
            account=caller.account,
            ip=caller.ip,
            agent=caller.agent,
            shared_id=shared,
        )
        if shared:  # the role's account records the same call with an AWSAccount identity
            remote = {
                "type": "AWSAccount",
                "principalId": caller.identity["principalId"],
                "accountId": caller.account,
            }
            self._assume(
                role, session_name, start, remote, caller.ip, caller.agent, shared_id=shared
            )
        return self._role_session(role, session_name, credentials, start, caller.ip, caller.agent)

    def _oidc_session(self, role: Role, subject: str, start: datetime) -> Session:
        provider = f"arn:aws:iam::{role.account}:oidc-provider/{OIDC_HOST}"
        run_id = self.rng.randint(10**10, 10**11 - 1)
        session_name = f"GitHubActions-{run_id}"
        web_user = {
            "type": "WebIdentityUser",
            "principalId": f"{provider}:sts.amazonaws.com:{subject}",
            "userName": subject,
            "identityProvider": provider,
        }
        ip = fake_ip(role.arn, "203.0.113")
        credentials = self._assume(
            role,
            session_name,
            start,
            web_user,
            ip,
            UA_GITHUB,
            name="AssumeRoleWithWebIdentity",
            params={"durationSeconds": 3600},
            response_extra={
                "subjectFromWebIdentityToken": subject,
                "provider": provider,
                "audience": "sts.amazonaws.com",
            },
        )
        web_identity = {"federatedProvider": provider, "attributes": {}}
        return self._role_session(
            role, session_name, credentials, start, ip, UA_GITHUB, web_identity=web_identity
        )

    def _saml_session(self, role: Role, user_name: str, start: datetime) -> Session:
        provider = saml_provider(role.account)
        name_qualifier = base64.b64encode(hashlib.sha256(provider.encode()).digest()[:20]).decode()
        saml_user = {
            "type": "SAMLUser",
            "principalId": f"{name_qualifier}:{user_name}",
            "userName": user_name,
            "identityProvider": name_qualifier,
        }
        ip = fake_ip(user_name, "198.51.100")
        credentials = self._assume(
            role,
            user_name,
            start,
            saml_user,
            ip,
            UA_BROWSER,
            name="AssumeRoleWithSAML",
            params={
                "sAMLAssertionID": "_" + self.uuid(),
                "principalArn": provider,
                "durationSeconds": 3600,
            },
            response_extra={
                "subject": user_name,
                "subjectType": "persistent",
                "issuer": "https://portal.sso.us-east-1.amazonaws.com/saml/assertion/"
                + fake_hex(provider, 24),
                "audience": "https://signin.aws.amazon.com/saml",
                "nameQualifier": name_qualifier,
            },
        )
        return self._role_session(role, user_name, credentials, start, ip, UA_CONSOLE, console=True)

    def _external_session(
        self, role: Role, start: datetime, error: tuple[str, str] | None
    ) -> Session:
        session_name = "vendor-scanner"
        external_role = f"arn:aws:iam::{EXTERNAL}:role/partner-audit-scanner"
        remote = {
            "type": "AWSAccount",
            "principalId": f"{fake_id('AROA', external_role)}:{session_name}",
            "accountId": EXTERNAL,
        }
        ip = fake_ip(external_role, "192.0.2")
        credentials = self._assume(role, session_name, start, remote, ip, UA_BOTO, error=error)
        if credentials is None:
            return Session(remote, role.account, ip, UA_BOTO, "")
        return self._role_session(role, session_name, credentials, start, ip, UA_BOTO)
