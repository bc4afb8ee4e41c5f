"""Policy statements for `ciem explain` (serve layer): the evaluator's vocabulary (decisions, trust
and RCP service lists), wildcard and policy-variable matching of actions and resources, and the
statement and identity records it evaluates."""

from __future__ import annotations

import re
from dataclasses import dataclass

DECISIONS = ("allowed", "conditionally_allowed", "explicitly_denied", "implicitly_denied")
# Actions whose resource is the role itself: its trust policy is the resource policy.
TRUST_ACTIONS = frozenset(
    {
        "sts:assumerole",
        "sts:assumerolewithsaml",
        "sts:assumerolewithwebidentity",
        "sts:tagsession",
        "sts:setsourceidentity",
    }
)
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
# A secret's ARN ends in `-` and six random characters that a snapshot landed from the secret's
# name does not know (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html#iam-resources).
SECRET_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}")
# Service prefixes whose actions RCPs apply to, as listed by AWS Organizations ("List of AWS
# services that support RCPs",
# https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html#rcp-supported-services).
RCP_SERVICES = frozenset(
    {
        "aoss",
        "appconfig",
        "appstream",
        "autoscaling",
        "autoscaling-plans",
        "budgets",
        "clouddirectory",
        "cloudfront",
        "cloudsearch",
        "cloudtrail-data",
        "codeartifact",
        "codebuild",
        "codecommit",
        "codepipeline",
        "cognito-identity",
        "cognito-idp",
        "comprehend",
        "comprehendmedical",
        "compute-optimizer",
        "cost-optimization-hub",
        "dax",
        "dsql",
        "dynamodb",
        "ecr",
        "ecr-public",
        "events",
        "firehose",
        "fis",
        "fms",
        "gamelift",
        "health",
        "inspector-scan",
        "kendra",
        "kinesisvideo",
        "kms",
        "logs",
        "memorydb",
        "networkmonitor",
        "notifications",
        "opensearch",
        "pca-connector-ad",
        "personalize",
        "polly",
        "pricing",
        "resource-groups",
        "rolesanywhere",
        "s3",
        "secretsmanager",
        "servicediscovery",
        "signin",
        "sqs",
        "sts",
        "support",
        "swf",
        "textract",
        "timestream-influxdb",
        "transcribe",
        "transfer",
        "translate",
        "wafv2",
        "workspaces",
        "xray",
    }
)
# Permissions RCPs do not impact ("Resources and entities not restricted by RCPs", same page).
RCP_EXEMPT_ACTIONS = frozenset({"kms:retiregrant"})


def _wildcard_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """IAM's only wildcards: `*` (any run of characters) and `?` (one character)."""
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


_ACTION_CACHE: dict[str, re.Pattern[str]] = {}
_RESOURCE_CACHE: dict[str, re.Pattern[str]] = {}


def action_matches(pattern: str, action: str) -> bool:
    """Actions match case-insensitively."""
    rx = _ACTION_CACHE.get(pattern)
    if rx is None:
        rx = _ACTION_CACHE[pattern] = _wildcard_regex(pattern, ignore_case=True)
    return rx.fullmatch(action) is not None


def resource_matches(pattern: str, resource: str) -> bool:
    """Resource ARNs match case-sensitively."""
    rx = _RESOURCE_CACHE.get(pattern)
    if rx is None:
        rx = _RESOURCE_CACHE[pattern] = _wildcard_regex(pattern, ignore_case=False)
    return rx.fullmatch(resource) is not None


def substitute_variables(pattern: str, values: dict[str, str]) -> str:
    """`${aws:username}`-style policy variables (names case-insensitive) where the value is known;
    `${*}`, `${?}`, `${$}` are the literal characters. Unknown variables stay (and match nothing
    but themselves)."""
    if "${" not in pattern:
        return pattern

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in ("*", "?", "$"):
            return "\x00" + name  # literal marker, resolved below
        return values.get(name.lower(), m.group(0))

    return _VARIABLE.sub(repl, pattern)


def _resource_matches_with_literals(pattern: str, resource: str) -> bool:
    if "\x00" not in pattern:
        return resource_matches(pattern, resource)
    body = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\x00":
            body.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        body.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
        i += 1
    return re.fullmatch("".join(body), resource, re.DOTALL) is not None


@dataclass(frozen=True)
class Statement:
    """One statement of a policy document, as `stg_policy_statements` normalizes it."""

    policy_key: str
    policy_kind: str
    policy_name: str | None
    policy_arn: str | None
    statement_index: int
    sid: str | None
    effect: str
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    has_condition: bool
    condition_keys: tuple[str, ...] = ()
    principal_aws: tuple[str, ...] | None = None
    principal_services: tuple[str, ...] | None = None
    not_principal_aws: tuple[str, ...] | None = None
    # The Condition block as written (operator -> {key: values}); None without one.
    condition: dict | None = None

    def matches_action(self, action: str) -> bool:
        if self.actions is not None:
            return any(action_matches(p, action) for p in self.actions)
        if self.not_actions is not None:
            return not any(action_matches(p, action) for p in self.not_actions)
        return False

    def matches_resource(self, resource: str | None, values: dict[str, str]) -> bool:
        """With no resource: whether the statement can apply to some resource (always, except
        for a NotResource that names every resource)."""
        if resource is None:
            return not self.applies_to_no_resource
        if self.resources is not None:
            return any(
                _resource_matches_with_literals(substitute_variables(p, values), resource)
                for p in self.resources
            )
        if self.not_resources is not None:
            return not any(
                _resource_matches_with_literals(substitute_variables(p, values), resource)
                for p in self.not_resources
            )
        return True  # trust policies have no Resource: the resource is the role itself

    @property
    def applies_to_all_resources(self) -> bool:
        return self.resources is not None and "*" in self.resources and not self.not_resources

    @property
    def applies_to_no_resource(self) -> bool:
        """A NotResource with a pattern of only `*` (every resource, and the `*` of an action
        that takes none) leaves no resource the statement could apply to: it grants or denies
        nothing (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html)."""
        return self.not_resources is not None and any(
            p and set(p) == {"*"} for p in self.not_resources
        )


@dataclass(frozen=True)
class Identity:
    principal_arn: str
    principal_type: str
    account_id: str
    name: str
    boundary_policy_key: str | None
    scp_applies: bool
    is_service_linked: bool = False
    unique_id: str | None = None  # AIDA… / AROA… (aws:userid of a user; a role's session prefix)
    tags: tuple[tuple[str, str], ...] = ()  # the principal's tags (aws:PrincipalTag/*)
    is_sso_reserved: bool = False


def pattern_covers(deny_pattern: str, grant_pattern: str) -> bool:
    """Every ARN the grant pattern matches is matched by the Deny pattern: the Deny pattern
    matches the grant pattern read literally, and no `?` of the Deny stands for a `*`."""
    if deny_pattern == grant_pattern:
        return True
    if "?" in deny_pattern and "*" in grant_pattern:
        return False
    return resource_matches(deny_pattern, grant_pattern)


def cut_grants(
    grants: list[tuple[Statement, str, str]],
    scoped_denies: list[tuple[dict, Statement]],
    values: dict[str, str],
) -> tuple[list[tuple[Statement, str, str]], list[dict], set[tuple[str, int, str]]]:
    """Action level, as int_policy_set_grants: the grants no unconditional Deny on named
    resources cuts (one whose patterns cover every pattern of the grant), the Denies that cut
    them all (when none is kept), and the kept grants (policy key, statement, via) every pattern
    of which some such Deny covers, a conditional one at least: allowed only when its Condition
    does not hold."""
    deny_patterns = [
        (entry, substitute_variables(p, values))
        for entry, d in scoped_denies
        if d.resources is not None and d.not_resources is None
        for p in d.resources
    ]
    kept: list[tuple[Statement, str, str]] = []
    covered: set[tuple[str, int, str]] = set()
    cutters: dict[tuple[str, str, int], dict] = {}
    for grant in grants:
        s = grant[0]
        if s.not_resources is not None or s.resources is None:
            patterns = ["*"]
        else:
            patterns = sorted({substitute_variables(p, values) for p in s.resources})
        covering = [[e for e, d in deny_patterns if pattern_covers(d, p)] for p in patterns]
        cutting = [[e for e in entries if not e["conditional"]] for entries in covering]
        if all(cutting):
            for entries in cutting:
                for e in entries:
                    cutters[(e["source"], e["policy_key"], e["statement"])] = e
        else:
            kept.append(grant)
            if all(covering):
                covered.add((s.policy_key, s.statement_index, grant[2]))
    if kept:
        return kept, [], covered
    return kept, list(cutters.values()), covered
