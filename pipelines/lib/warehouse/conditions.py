"""Condition evaluator (warehouse layer, plain Python): decides a policy statement's `Condition`
block from what the snapshot knows about the principal and the resource, plus an optional request
context, as true, false, or unknown with the request keys it still needs. The SQL models (as a
DuckDB Python UDF) and `ciem explain` share it.

AWS's rules (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html):

- operators AND, keys under one operator AND, values of one key OR (NOR for a negated operator);
- a key absent from the request: a positive operator is false, a negated one (`StringNotEquals`,
  `ArnNotLike`, `NotIpAddress`…) is true; `…IfExists` is true; `Null` tests the absence itself;
- `ForAnyValue:` is false and `ForAllValues:` true on an absent (or empty) key; otherwise
  ForAnyValue holds when some request value satisfies the operator, ForAllValues when every one
  does; a single-valued key is a set of one;
- condition keys are case-insensitive; values compare case-sensitively except for
  `StringEqualsIgnoreCase`/`StringNotEqualsIgnoreCase` and `Bool`; `*` and `?` are wildcards
  in `StringLike`/`StringNotLike` and in every `Arn` operator (per ARN component);
- policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'default'}`) are replaced in the
  values of String, Arn and Bool operators
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html).

A key's value comes, in this order, from the snapshot (`Facts`: a fact key the snapshot decides is
present with its values or absent), from the request context, or is unknown: only then does the
outcome stay unknown, naming that key (lower-case, as `stg_policy_statements.condition_keys`).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

# Keys whose values, for an IAM user or role calling with its own credentials, are facts of the
# snapshot (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
# `aws:userid` of a role session and `aws:ResourceTag/*` of uncollected resources are not.
PRINCIPAL_FACT_KEYS = frozenset(
    {
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principaltype",
        "aws:principalisawsservice",
        "aws:principalservicename",
        "aws:principalservicenameslist",
        "aws:username",
        # Present only when a service calls another on a resource's behalf with its service
        # principal: never in the request of an IAM user or role.
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:sourceowner",
    }
)
RESOURCE_FACT_KEYS = frozenset({"aws:resourceaccount", "aws:resourceorgid", "aws:resourceorgpaths"})
PRINCIPAL_TAG_PREFIX = "aws:principaltag/"
RESOURCE_TAG_PREFIX = "aws:resourcetag/"
# Multivalued keys among the facts (a list even with one value).
MULTIVALUED_FACTS = frozenset({"aws:principalorgpaths", "aws:resourceorgpaths"})

# aws:TokenIssueTime is "the date and time that temporary security credentials were issued",
# present only in requests signed with temporary credentials (the condition keys page). Their
# lifetime is at most 36 hours (GetSessionToken and GetFederationToken; a role session at most
# 12: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_request.html), so in a
# request made on the analysis date the key lies between 36 hours before that day and its end. A
# user may also sign with its long-term keys (the key absent); a role acts only through sessions.
# The snapshot does not know the value, but a Condition that comes out the same for every value
# the window allows is decided (`Facts.session_window`): `DateLessThan` a date years ago is
# false for every request today.
SESSION_TIME_KEY = "aws:tokenissuetime"
SESSION_LIFETIME = timedelta(hours=36)
# Operators whose outcome over an interval of dates is settled by its two ends (a threshold).
_THRESHOLD_KINDS = frozenset({"date<", "date<=", "date>", "date>="})

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_STRING_OPS = {
    "stringequals": ("eq", False),
    "stringnotequals": ("eq", True),
    "stringequalsignorecase": ("eqi", False),
    "stringnotequalsignorecase": ("eqi", True),
    "stringlike": ("like", False),
    "stringnotlike": ("like", True),
    "arnequals": ("arn", False),
    "arnlike": ("arn", False),
    "arnnotequals": ("arn", True),
    "arnnotlike": ("arn", True),
    "numericequals": ("num=", False),
    "numericnotequals": ("num=", True),
    "numericlessthan": ("num<", False),
    "numericlessthanequals": ("num<=", False),
    "numericgreaterthan": ("num>", False),
    "numericgreaterthanequals": ("num>=", False),
    "dateequals": ("date=", False),
    "datenotequals": ("date=", True),
    "datelessthan": ("date<", False),
    "datelessthanequals": ("date<=", False),
    "dategreaterthan": ("date>", False),
    "dategreaterthanequals": ("date>=", False),
    "bool": ("bool", False),
    "binaryequals": ("binary", False),
    "ipaddress": ("ip", False),
    "notipaddress": ("ip", True),
}
# Operators whose values may hold policy variables (the operators page, "Policy variables").
_VARIABLE_KINDS = frozenset({"eq", "eqi", "like", "arn", "bool"})


@dataclass(frozen=True)
class Outcome:
    """True, false, or unknown (`value` None) until the request keys in `needed` are known."""

    value: bool | None
    needed: frozenset[str] = frozenset()

    def __bool__(self) -> bool:  # pragma: no cover - guard against `if outcome:`
        raise TypeError("an Outcome is three-valued: read .value")


TRUE = Outcome(True)
FALSE = Outcome(False)


def all_of(outcomes: Iterable[Outcome]) -> Outcome:
    """AND: false if any is false, else unknown if any is unknown (their keys), else true."""
    needed: set[str] = set()
    for o in outcomes:
        if o.value is False:
            return FALSE
        if o.value is None:
            needed |= o.needed
    return Outcome(None, frozenset(needed)) if needed else TRUE


def any_of(outcomes: Iterable[Outcome]) -> Outcome:
    """OR: true if any is true, else unknown if any is unknown, else false."""
    needed: set[str] = set()
    for o in outcomes:
        if o.value is True:
            return TRUE
        if o.value is None:
            needed |= o.needed
    return Outcome(None, frozenset(needed)) if needed else FALSE


def negate(outcome: Outcome) -> Outcome:
    return outcome if outcome.value is None else Outcome(not outcome.value)


_ABSENT = object()


@dataclass(frozen=True)
class Facts:
    """What the snapshot knows: `values` (lower-case key -> its values) for the keys it decides,
    where a decided key without an entry is absent from every request; tags decided per prefix."""

    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    decided: frozenset[str] = PRINCIPAL_FACT_KEYS | RESOURCE_FACT_KEYS
    decided_prefixes: tuple[str, ...] = (PRINCIPAL_TAG_PREFIX,)
    # The earliest and latest aws:TokenIssueTime of a request on the analysis date
    # (`session_window`); None: no date known, the key stays unknown.
    session_window: tuple[datetime, datetime] | None = None

    def decides(self, key: str) -> bool:
        return (
            key in self.values
            or key in self.decided
            or any(key.startswith(p) for p in self.decided_prefixes)
        )


def session_window(as_of: date | None) -> tuple[datetime, datetime] | None:
    """The aws:TokenIssueTime of a request made on `as_of` (UTC): from 36 hours before that day
    to its end."""
    if as_of is None:
        return None
    start = datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC)
    return start - SESSION_LIFETIME, start + timedelta(days=1) - timedelta(seconds=1)


def normalize_context(
    context: Mapping[str, str | Sequence[str]] | None,
) -> dict[str, tuple[str, ...]]:
    """Request context as given (`KEY=value`, lists for multivalued keys): keys lower-cased."""
    if not context:
        return {}
    return {
        k.lower(): (v,) if isinstance(v, str) else tuple(str(x) for x in v)
        for k, v in context.items()
    }


def contradictions(facts: Facts, context: Mapping[str, tuple[str, ...]]) -> list[dict[str, object]]:
    """Context entries that name another value than the snapshot's for a key it decides (another
    `aws:PrincipalArn`, another tag value): the snapshot wins, and the answer says so."""
    found = []
    for key, given in sorted(context.items()):
        if not facts.decides(key):
            continue
        known = facts.values.get(key)
        if known is None or _fold(key, known) != _fold(key, given):
            found.append({"key": key, "context": list(given), "snapshot": list(known or [])})
    return found


def _fold(key: str, values: tuple[str, ...]) -> tuple[str, ...]:
    # Account ids, ARNs and tags compare as written; booleans and types case-insensitively.
    if key in ("aws:principalisawsservice", "aws:principaltype"):
        return tuple(sorted(v.lower() for v in values))
    return tuple(sorted(values))


def _lookup(key: str, facts: Facts, context: Mapping[str, tuple[str, ...]]) -> object:
    """The key's values, `_ABSENT`, or None when unknown."""
    if facts.decides(key):
        return facts.values.get(key, _ABSENT)
    if key in context:
        return context[key] or _ABSENT
    return None


def keys_read(condition: Mapping[str, object]) -> tuple[str, ...]:
    """Every key whose value `evaluate` may look up for this Condition: its keys and the keys its
    policy variables name (lower-case, sorted)."""
    keys: set[str] = set()
    for entries in condition.values():
        if not isinstance(entries, Mapping):
            continue
        for key, values in entries.items():
            keys.add(key.lower())
            for value in _as_list(values):
                for m in _VARIABLE.finditer(value):
                    name = m.group(1).partition(",")[0].strip()
                    if ":" in name:
                        keys.add(name.lower())
    return tuple(sorted(keys))


def projection(
    keys: Iterable[str], facts: Facts, context: Mapping[str, tuple[str, ...]]
) -> tuple[object, ...]:
    """What `evaluate` sees of `facts` and `context` through these keys (see `keys_read`): two
    requests with the same projection get the same outcome, so a caller can decide a Condition
    once per distinct projection rather than once per principal."""
    out: list[object] = []
    for key in keys:
        found = _lookup(key, facts, context)
        if found is None and key == SESSION_TIME_KEY and facts.session_window is not None:
            # decided over the window, and for a user with or without it (see _over_session)
            found = ("\x00window", facts.session_window, _sessions_only(facts))
        out.append("\x00absent" if found is _ABSENT else found)
    return tuple(out)


@dataclass
class OutcomeCache:
    """Condition outcomes per (statement, `projection` of the facts and context on the keys its
    Condition reads): requests that look alike to a Condition share one evaluation."""

    outcomes: dict[tuple, Outcome] = field(default_factory=dict)
    keys: dict[object, tuple[str, ...]] = field(default_factory=dict)
    limit: int = 500_000  # bounded memory over a long batch

    def decide(
        self,
        statement: object,
        condition: Mapping[str, object],
        facts: Facts,
        context: Mapping[str, tuple[str, ...]],
    ) -> Outcome:
        keys = self.keys.get(statement)
        if keys is None:
            keys = self.keys[statement] = keys_read(condition)
        signature = (statement, projection(keys, facts, context))
        found = self.outcomes.get(signature)
        if found is None:
            if len(self.outcomes) >= self.limit:
                self.outcomes.clear()
            found = self.outcomes[signature] = evaluate(condition, facts, context)
        return found


def evaluate(
    condition: Mapping[str, object] | None,
    facts: Facts,
    context: Mapping[str, tuple[str, ...]] | None = None,
) -> Outcome:
    """The Condition block (operator -> {key: value or values}) for this principal/resource and
    request context (keys lower-case, values tuples: see `normalize_context`)."""
    if not condition:
        return TRUE
    ctx = context or {}
    results = []
    for operator, entries in condition.items():
        if not isinstance(entries, Mapping):
            return FALSE  # not valid policy grammar: AWS refuses such a policy
        for key, values in entries.items():
            results.append(evaluate_entry(operator, key, values, facts, ctx))
    return all_of(results)


def evaluate_entry(
    operator: str,
    key: str,
    values: object,
    facts: Facts,
    context: Mapping[str, tuple[str, ...]],
) -> Outcome:
    """One (operator, key, values) entry of a Condition block."""
    qualifier, _, base = operator.rpartition(":")
    qualifier = qualifier.lower()
    base = base.lower()
    if_exists = base.endswith("ifexists") and base != "ifexists"
    if if_exists:
        base = base[: -len("ifexists")]
    key_lc = key.lower()
    policy_values = _as_list(values)
    found = _lookup(key_lc, facts, context)
    if found is None:
        if key_lc == SESSION_TIME_KEY and facts.session_window is not None:
            return _over_session(base, operator, key, values, facts, context)
        return Outcome(None, frozenset({key_lc}))

    if base == "null":
        # "true": the key must be absent; "false": present and not null.
        want_absent = any(str(v).lower() == "true" for v in policy_values)
        return Outcome((found is _ABSENT) == want_absent)
    spec = _STRING_OPS.get(base)
    if spec is None or qualifier not in ("", "forallvalues", "foranyvalue"):
        return FALSE  # an operator AWS does not define: never satisfied
    kind, negated = spec

    if found is _ABSENT or not found:
        if if_exists:
            return TRUE
        if qualifier == "forallvalues":
            return TRUE
        if qualifier == "foranyvalue":
            return FALSE
        return Outcome(negated)

    request_values: tuple[str, ...] = found  # type: ignore[assignment]
    resolved, needed = _resolve_variables(kind, policy_values, facts, context)
    if needed:
        return Outcome(None, frozenset(needed))

    def one(value: str) -> bool:
        matched = any(_compare(kind, value, p) for p in resolved if p is not None)
        return not matched if negated else matched

    if qualifier == "forallvalues":
        return Outcome(all(one(v) for v in request_values))
    if qualifier == "foranyvalue":
        return Outcome(any(one(v) for v in request_values))
    # No set operator: a multivalued key matches when some value does (negated: when none does).
    matched = any(
        any(_compare(kind, v, p) for p in resolved if p is not None) for v in request_values
    )
    return Outcome(not matched if negated else matched)


def _sessions_only(facts: Facts) -> bool:
    """Whether the principal acts only through temporary credentials (a role's session)."""
    return facts.values.get("aws:principaltype") == ("AssumedRole",)


def _over_session(
    base: str,
    operator: str,
    key: str,
    values: object,
    facts: Facts,
    context: Mapping[str, tuple[str, ...]],
) -> Outcome:
    """An entry on aws:TokenIssueTime when the request's value is not known but lies in
    `facts.session_window` (or is absent, for a user's long-term keys): decided when the outcome
    is the same at both ends of the window and without the key, for `Null` and the threshold
    date operators (whose outcome over an interval its ends settle); unknown otherwise. `base`:
    the operator without its set qualifier and `IfExists`, lower-case (as `evaluate_entry`
    parses it)."""
    spec = _STRING_OPS.get(base)
    key_lc = key.lower()
    if base != "null" and (spec is None or spec[0] not in _THRESHOLD_KINDS):
        return Outcome(None, frozenset({key_lc}))
    assert facts.session_window is not None
    candidates = [(t.strftime("%Y-%m-%dT%H:%M:%SZ"),) for t in facts.session_window]
    if not _sessions_only(facts):
        candidates.append(())  # long-term keys: the key absent
    outcomes = {
        evaluate_entry(operator, key, values, facts, {**context, key_lc: c}).value
        for c in candidates
    }
    if len(outcomes) == 1 and None not in outcomes:
        return Outcome(outcomes.pop())
    return Outcome(None, frozenset({key_lc}))


def _as_list(values: object) -> list[str]:
    if isinstance(values, list | tuple):
        return [_text(v) for v in values]
    return [_text(values)]


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _resolve_variables(
    kind: str,
    policy_values: list[str],
    facts: Facts,
    context: Mapping[str, tuple[str, ...]],
) -> tuple[list[str | None], set[str]]:
    """Policy values with `${…}` replaced; None for a value whose variable is absent (it matches
    nothing); the unknown keys they need."""
    if kind not in _VARIABLE_KINDS:
        return list(policy_values), set()
    resolved: list[str | None] = []
    needed: set[str] = set()
    for raw in policy_values:
        if "${" not in raw:
            resolved.append(raw)
            continue
        missing = False

        def repl(m: re.Match[str]) -> str:
            nonlocal missing
            name, _, default = m.group(1).partition(",")
            name = name.strip()
            if name in ("*", "?", "$"):
                # Literal characters (escaped for the wildcard operators).
                return "\x00" + name
            # Every context key is `prefix:name` (aws:…, s3:…): a variable without a colon
            # (a template's `${Account}` left in a policy) names no key, so it is absent.
            found = _lookup(name.lower(), facts, context) if ":" in name else _ABSENT
            if found is None:
                needed.add(name.lower())
                return ""
            if found is _ABSENT or len(found) != 1:  # type: ignore[arg-type]
                default = default.strip()
                if len(default) >= 2 and default[0] == default[-1] == "'":
                    return default[1:-1]
                missing = True
                return ""
            return found[0]  # type: ignore[index]

        value = _VARIABLE.sub(repl, raw)
        resolved.append(None if missing else value)
    return resolved, needed


def _literal(value: str) -> str:
    return value.replace("\x00", "")


def _compare(kind: str, value: str, pattern: str) -> bool:
    """One request value against one policy value."""
    if kind == "eq":
        return value == _literal(pattern)
    if kind == "eqi":
        return value.casefold() == _literal(pattern).casefold()
    if kind == "like":
        return wildcard_match(pattern, value)
    if kind == "arn":
        return arn_match(pattern, value)
    if kind == "bool":
        return value.lower() == _literal(pattern).lower()
    if kind == "binary":
        return _binary(value) is not None and _binary(value) == _binary(pattern)
    if kind == "ip":
        return _ip_in(value, pattern)
    if kind.startswith("num"):
        return _ordered(kind[3:], _number(value), _number(pattern))
    if kind.startswith("date"):
        return _ordered(kind[4:], _date(value), _date(pattern))
    return False


_WILDCARD_CACHE: dict[str, re.Pattern[str]] = {}


def wildcard_match(pattern: str, value: str) -> bool:
    """`*` any run of characters, `?` one; case-sensitive; `\\x00c` is a literal c (from `${*}`)."""
    rx = _WILDCARD_CACHE.get(pattern)
    if rx is None:
        body = []
        i = 0
        while i < len(pattern):
            ch = pattern[i]
            if ch == "\x00" and i + 1 < len(pattern):
                body.append(re.escape(pattern[i + 1]))
                i += 2
                continue
            body.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
            i += 1
        rx = _WILDCARD_CACHE[pattern] = re.compile("".join(body), re.DOTALL)
    return rx.fullmatch(value) is not None


def arn_match(pattern: str, value: str) -> bool:
    """ArnEquals/ArnLike: each of the six colon-delimited components matched on its own, with
    `*` and `?`, case-sensitively (the operators page, "Amazon Resource Name (ARN) condition
    operators"). A value that is not an ARN matches nothing."""
    p = pattern.split(":", 5)
    v = value.split(":", 5)
    if len(p) != 6 or len(v) != 6:
        return False
    return all(wildcard_match(a, b) for a, b in zip(p, v, strict=True))


def _binary(value: str) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _ip_in(value: str, cidr: str) -> bool:
    try:
        return ipaddress.ip_address(value.split("/")[0]) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    except TypeError:  # IPv4 address against an IPv6 network or back
        return False


def _number(value: str) -> Decimal | None:
    try:
        return Decimal(value.strip())
    except InvalidOperation:
        return None


def _date(value: str) -> datetime | None:
    """ISO 8601 (W3C profile: date, or date and time with a zone) or epoch seconds."""
    text = value.strip()
    if re.fullmatch(r"-?\d+", text):
        return datetime.fromtimestamp(int(text), UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _ordered(op: str, a: object, b: object) -> bool:
    if a is None or b is None:
        return False
    if op == "=":
        return a == b
    if op == "<":
        return a < b  # type: ignore[operator]
    if op == "<=":
        return a <= b  # type: ignore[operator]
    if op == ">":
        return a > b  # type: ignore[operator]
    return a >= b  # type: ignore[operator]
