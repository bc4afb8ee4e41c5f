"""The condition evaluator, from AWS's pages: each test cites the page it is written from.

OPS = https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
LOGIC = https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
MULTI = https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
KEYS = https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
VARS = https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
"""

from __future__ import annotations

import fnmatch
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.lib.warehouse.conditions import (
    FALSE,
    TRUE,
    Facts,
    Outcome,
    OutcomeCache,
    all_of,
    any_of,
    contradictions,
    evaluate,
    normalize_context,
    session_window,
)

ARN = "arn:aws:iam::222222222222:role/deploy"
FACTS = Facts(
    values={
        "aws:principalarn": (ARN,),
        "aws:principalaccount": ("222222222222",),
        "aws:principalorgid": ("o-abc123",),
        "aws:principalorgpaths": ("o-abc123/r-ab12/ou-ab12-11111111/",),
        "aws:principaltype": ("AssumedRole",),
        "aws:principalisawsservice": ("false",),
        "aws:principaltag/team": ("payments",),
        "aws:resourceaccount": ("222222222222",),
    }
)


def ev(condition: dict, context: dict | None = None, facts: Facts = FACTS) -> Outcome:
    return evaluate(condition, facts, normalize_context(context))


def unknown(*keys: str) -> Outcome:
    return Outcome(None, frozenset(keys))


# --- snapshot facts decide; request keys stay unknown (KEYS) --------------------------------


def test_principal_arn_is_decided_from_the_snapshot() -> None:
    # KEYS, aws:PrincipalArn: the ARN of the principal that made the request (the role's ARN).
    assert ev({"ArnEquals": {"aws:PrincipalArn": ARN}}) == TRUE
    assert ev({"ArnNotEquals": {"aws:PrincipalArn": ARN}}) == FALSE
    assert ev({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/other"}}) == FALSE


def test_request_keys_stay_unknown_and_are_named() -> None:
    # KEYS: aws:RequestedRegion and aws:SourceIp are properties of the request.
    assert ev({"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}) == unknown(
        "aws:requestedregion"
    )
    cond = {
        "StringEquals": {"aws:RequestedRegion": "eu-west-1", "aws:PrincipalOrgID": "o-abc123"},
        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
    }
    assert ev(cond) == unknown("aws:requestedregion", "aws:sourceip")


def test_a_false_fact_decides_the_block_even_with_unknown_request_keys() -> None:
    # LOGIC: the keys of a block are ANDed, so one false entry makes the block false.
    cond = {
        "StringEquals": {"aws:PrincipalOrgID": "o-other"},
        "Bool": {"aws:MultiFactorAuthPresent": "true"},
    }
    assert ev(cond) == FALSE


def test_context_decides_request_keys() -> None:
    cond = {"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}
    assert ev(cond, {"aws:RequestedRegion": "eu-central-1"}) == TRUE
    assert ev(cond, {"aws:RequestedRegion": "us-east-1"}) == FALSE


def test_keys_are_case_insensitive() -> None:
    # OPS: "Condition key names are not case-sensitive."
    assert ev({"StringEquals": {"AWS:principalORGid": "o-abc123"}}) == TRUE
    assert ev({"StringEquals": {"aws:requestedregion": "x"}}, {"AWS:RequestedRegion": "x"}) == TRUE


def test_a_principal_tag_the_principal_lacks_is_absent_not_unknown() -> None:
    # KEYS, aws:PrincipalTag/tag-key: present only when the principal has the tag.
    assert ev({"StringEquals": {"aws:PrincipalTag/cost-center": "1"}}) == FALSE
    assert ev({"StringNotEquals": {"aws:PrincipalTag/cost-center": "1"}}) == TRUE
    assert ev({"Null": {"aws:PrincipalTag/cost-center": "true"}}) == TRUE
    assert ev({"StringEquals": {"aws:PrincipalTag/Team": "payments"}}) == TRUE


def test_source_account_is_absent_for_an_iam_principal() -> None:
    # KEYS, aws:SourceAccount: present only when a service principal calls on a resource's behalf.
    assert ev({"StringEquals": {"aws:SourceAccount": "222222222222"}}) == FALSE
    assert ev({"Null": {"aws:SourceArn": "false"}}) == FALSE


def test_resource_tags_are_unknown_unless_collected() -> None:
    cond = {"StringEquals": {"aws:ResourceTag/env": "prod"}}
    assert ev(cond) == unknown("aws:resourcetag/env")
    tagged = Facts(
        values={"aws:resourcetag/env": ("prod",)},
        decided_prefixes=("aws:principaltag/", "aws:resourcetag/"),
    )
    assert ev(cond, facts=tagged) == TRUE
    assert ev({"StringEquals": {"aws:ResourceTag/owner": "x"}}, facts=tagged) == FALSE


# --- operators (OPS) ---------------------------------------------------------------------------


def test_string_operators_and_case() -> None:
    # OPS, String condition operators: StringEquals is case-sensitive, IgnoreCase is not.
    ctx = {"s3:prefix": "Home/Alice"}
    assert ev({"StringEquals": {"s3:prefix": "home/alice"}}, ctx) == FALSE
    assert ev({"StringEqualsIgnoreCase": {"s3:prefix": "home/alice"}}, ctx) == TRUE
    assert ev({"StringNotEqualsIgnoreCase": {"s3:prefix": "home/alice"}}, ctx) == FALSE
    assert ev({"StringLike": {"s3:prefix": "Home/*"}}, ctx) == TRUE
    assert ev({"StringLike": {"s3:prefix": "home/*"}}, ctx) == FALSE
    assert ev({"StringLike": {"s3:prefix": "Home/Alic?"}}, ctx) == TRUE
    assert ev({"StringNotLike": {"s3:prefix": "Home/*"}}, ctx) == FALSE


def test_negated_operator_with_several_values_is_nor() -> None:
    # LOGIC: "If a single negated matching condition operator includes multiple values for a
    # context key, those values are evaluated using a logical NOR."
    cond = {"StringNotEquals": {"aws:PrincipalTag/team": ["audit", "payments"]}}
    assert ev(cond) == FALSE
    cond = {"StringNotEquals": {"aws:PrincipalTag/team": ["audit", "security"]}}
    assert ev(cond) == TRUE


def test_absent_key_positive_false_negated_true() -> None:
    # OPS, "Important": absent key -> values do not match (false); a NotLike/NotEquals -> true.
    ctx = {"aws:SourceIp": "10.1.2.3"}
    assert ev({"StringLike": {"aws:SourceVpce": "vpce-*"}}, {**ctx, "aws:SourceVpce": []}) == FALSE
    assert ev({"StringNotLike": {"aws:PrincipalTag/nope": "x"}}) == TRUE
    assert ev({"ArnNotLike": {"aws:SourceArn": "arn:aws:s3:::b"}}) == TRUE
    assert ev({"NumericLessThan": {"aws:PrincipalTag/level": "3"}}) == FALSE


def test_if_exists_is_true_on_an_absent_key_and_checks_a_present_one() -> None:
    # OPS, "...IfExists condition operators".
    assert ev({"StringEqualsIfExists": {"aws:PrincipalTag/nope": "x"}}) == TRUE
    assert ev({"StringEqualsIfExists": {"aws:PrincipalTag/team": "x"}}) == FALSE
    assert ev({"StringEqualsIfExists": {"aws:PrincipalTag/team": "payments"}}) == TRUE
    assert ev({"BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}) == TRUE
    assert ev({"StringLikeIfExists": {"ec2:InstanceType": "t2.*"}}) == unknown("ec2:instancetype")


def test_null_operator() -> None:
    # OPS, "Condition operator to check existence of condition keys".
    assert ev({"Null": {"aws:PrincipalTag/team": "false"}}) == TRUE
    assert ev({"Null": {"aws:PrincipalTag/team": "true"}}) == FALSE
    assert ev({"Null": {"aws:TokenIssueTime": "true"}}) == unknown("aws:tokenissuetime")
    assert ev({"Null": {"aws:TokenIssueTime": "true"}}, {"aws:TokenIssueTime": []}) == TRUE


def test_numeric_operators() -> None:
    # OPS, Numeric condition operators.
    ctx = {"s3:max-keys": "10"}
    assert ev({"NumericLessThanEquals": {"s3:max-keys": "10"}}, ctx) == TRUE
    assert ev({"NumericLessThan": {"s3:max-keys": "10"}}, ctx) == FALSE
    assert ev({"NumericGreaterThan": {"s3:max-keys": "9.5"}}, ctx) == TRUE
    assert ev({"NumericGreaterThanEquals": {"s3:max-keys": 11}}, ctx) == FALSE
    assert ev({"NumericEquals": {"s3:max-keys": "10.0"}}, ctx) == TRUE
    assert ev({"NumericNotEquals": {"s3:max-keys": ["1", "2"]}}, ctx) == TRUE
    assert ev({"NumericEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "ten"}) == FALSE


def test_date_operators_iso_and_epoch() -> None:
    # OPS, Date condition operators: W3C ISO 8601 dates or epoch (UNIX) time.
    ctx = {"aws:CurrentTime": "2026-12-06T12:00:00Z"}
    assert ev({"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}}, ctx) == TRUE
    assert ev({"DateGreaterThan": {"aws:CurrentTime": "2027-01-01"}}, ctx) == FALSE
    assert ev({"DateLessThanEquals": {"aws:CurrentTime": "1796558400"}}, ctx) == TRUE
    assert ev({"DateEquals": {"aws:CurrentTime": "1796558400"}}, ctx) == TRUE
    assert ev({"DateNotEquals": {"aws:CurrentTime": "1796558400"}}, ctx) == FALSE
    assert ev({"DateGreaterThanEquals": {"aws:CurrentTime": "2026-12-06T13:00:00+01:00"}}, ctx) == (
        TRUE
    )


def test_bool_operator_and_json_booleans() -> None:
    # OPS, Boolean condition operators ("true"/"false", a JSON boolean too).
    ctx = {"aws:SecureTransport": "false"}
    assert ev({"Bool": {"aws:SecureTransport": "false"}}, ctx) == TRUE
    assert ev({"Bool": {"aws:SecureTransport": True}}, ctx) == FALSE
    assert ev({"Bool": {"aws:SecureTransport": "False"}}, {"aws:SecureTransport": "FALSE"}) == TRUE


def test_binary_equals_compares_the_decoded_bytes() -> None:
    # OPS, Binary condition operators: the policy value is base64.
    assert ev({"BinaryEquals": {"key": "QmluYXJ5VmFsdWU="}}, {"key": "QmluYXJ5VmFsdWU="}) == TRUE
    assert ev({"BinaryEquals": {"key": "QmluYXJ5VmFsdWU="}}, {"key": "b3RoZXI="}) == FALSE


def test_ip_address_operators() -> None:
    # OPS, IP address condition operators: CIDR, IPv4 and IPv6.
    ctx = {"aws:SourceIp": "203.0.113.7"}
    assert ev({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, ctx) == TRUE
    assert ev({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.1"]}}, ctx) == FALSE
    assert ev({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, ctx) == FALSE
    v6 = {"aws:SourceIp": "2001:db8:1234:5678::1"}
    assert ev({"IpAddress": {"aws:SourceIp": "2001:DB8:1234:5678::/64"}}, v6) == TRUE
    assert ev({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, v6) == FALSE


def test_arn_operators_match_each_component() -> None:
    # OPS, ARN condition operators: each of the six components separately, wildcards allowed.
    assert ev({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}}) == TRUE
    assert ev({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::222222222222:role/dep*"}}) == TRUE
    # `*` does not cross a component boundary: the account component is "222222222222".
    assert ev({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*"}}) == FALSE
    assert ev({"ArnLike": {"aws:PrincipalArn": "arn:aws:IAM::*:role/*"}}) == FALSE
    assert ev({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/*"}}) == TRUE
    assert ev({"ArnLike": {"aws:SourceArn": "arn:*"}}, facts=Facts()) == FALSE


# --- several keys, operators, values (LOGIC) and set operators (MULTI) --------------------------


def test_operators_and_keys_are_anded_values_ored() -> None:
    cond = {
        "StringEquals": {
            "aws:PrincipalOrgID": "o-abc123",
            "aws:PrincipalTag/team": ["x", "payments"],
        },
        "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/deploy"},
    }
    assert ev(cond) == TRUE
    cond["StringEquals"]["aws:PrincipalAccount"] = "999999999999"
    assert ev(cond) == FALSE


def test_for_any_value_and_for_all_values_on_absent_keys() -> None:
    # MULTI: ForAllValues returns true if the key is absent or empty; ForAnyValue false.
    assert (
        ev({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {"aws:TagKeys": []}) == TRUE
    )
    assert ev({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}, {"aws:TagKeys": []}) == FALSE
    assert ev({"ForAllValues:StringEquals": {"aws:PrincipalTag/none": "a"}}) == TRUE
    assert ev({"ForAnyValue:StringEquals": {"aws:PrincipalTag/none": "a"}}) == FALSE


def test_for_all_values_and_for_any_value_on_several_values() -> None:
    # MULTI: ForAllValues: every request value matches some policy value; ForAnyValue: one does.
    ctx = {"aws:TagKeys": ["env", "team"]}
    assert ev({"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team", "x"]}}, ctx) == TRUE
    assert ev({"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}, ctx) == FALSE
    assert ev({"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}}, ctx) == TRUE
    assert ev({"ForAnyValue:StringEquals": {"aws:TagKeys": ["x"]}}, ctx) == FALSE
    # ForAnyValue with a negated operator: some request value matches none of the policy values.
    assert ev({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["env"]}}, ctx) == TRUE
    assert ev({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["x"]}}, ctx) == TRUE
    assert ev({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["env"]}}, ctx) == FALSE


def test_org_paths_are_multivalued_facts() -> None:
    # KEYS, aws:PrincipalOrgPaths: used with ForAnyValue:StringLike on a path prefix.
    cond = {
        "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-abc123/r-ab12/ou-ab12-11111111/*"}
    }
    assert ev(cond) == TRUE
    cond = {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-abc123/r-ab12/ou-ab12-2*"}}
    assert ev(cond) == FALSE


# --- policy variables (VARS) ---------------------------------------------------------------------


def test_policy_variables_in_condition_values() -> None:
    # VARS: "${aws:PrincipalTag/team}" in a condition value is the principal's tag value.
    cond = {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}
    assert ev(cond, {"aws:ResourceTag/team": "payments"}) == TRUE
    assert ev(cond, {"aws:ResourceTag/team": "audit"}) == FALSE
    assert ev(cond) == unknown("aws:resourcetag/team")
    # A variable whose key is unknown leaves the entry unknown on that key.
    cond = {"StringEquals": {"aws:PrincipalTag/team": "${aws:RequestTag/team}"}}
    assert ev(cond) == unknown("aws:requesttag/team")
    assert ev(cond, {"aws:RequestTag/team": "payments"}) == TRUE


def test_policy_variable_default_and_absent_values() -> None:
    # VARS, "Specifying default values": ${key, 'default'} when the key is absent.
    cond = {"StringEquals": {"s3:prefix": "home/${aws:PrincipalTag/dept, 'none'}"}}
    assert ev(cond, {"s3:prefix": "home/none"}) == TRUE
    # Without a default, an absent variable matches nothing.
    cond = {"StringLike": {"s3:prefix": "home/${aws:PrincipalTag/dept}/*"}}
    assert ev(cond, {"s3:prefix": "home//x"}) == FALSE
    # ${*} is a literal asterisk (VARS, "Special characters").
    cond = {"StringLike": {"s3:prefix": "a${*}b"}}
    assert ev(cond, {"s3:prefix": "a*b"}) == TRUE
    assert ev(cond, {"s3:prefix": "axb"}) == FALSE


def test_contradicting_context_loses_to_the_snapshot() -> None:
    ctx = normalize_context(
        {
            "aws:PrincipalArn": "arn:aws:iam::222222222222:role/admin",
            "aws:PrincipalTag/team": "payments",
        }
    )
    assert contradictions(FACTS, ctx) == [
        {
            "key": "aws:principalarn",
            "context": ["arn:aws:iam::222222222222:role/admin"],
            "snapshot": [ARN],
        }
    ]
    assert evaluate(
        {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::*:role/admin"}}, FACTS, ctx
    ) == (FALSE)


# --- properties -----------------------------------------------------------------------------------

TEXT = st.text(alphabet="ab*?/-", max_size=6)


@given(pattern=TEXT, value=st.text(alphabet="ab/-", max_size=6))
def test_string_like_agrees_with_fnmatchcase(pattern: str, value: str) -> None:
    # fnmatchcase knows `[` too; the alphabet leaves it out (IAM has only `*` and `?`).
    expected = fnmatch.fnmatchcase(value, pattern)
    assert ev({"StringLike": {"k": pattern}}, {"k": value}).value is expected
    assert ev({"StringNotLike": {"k": pattern}}, {"k": value}).value is (not expected)


OPERATORS = ["StringEquals", "StringLike", "StringEqualsIgnoreCase", "NumericLessThan", "ArnLike"]
VALUES = st.lists(
    st.sampled_from(["a", "A", "1", "2", "arn:aws:s3:::a", "*"]), min_size=1, max_size=3
)
REQUEST = st.one_of(
    st.none(), st.lists(st.sampled_from(["a", "A", "1", "arn:aws:s3:::a"]), max_size=2)
)


@given(op=st.sampled_from(OPERATORS), values=VALUES, request=REQUEST)
def test_if_exists_is_missing_or_holds(
    op: str, values: list[str], request: list[str] | None
) -> None:
    ctx = {"k": request or []}  # [] = the key is absent from the request
    plain = ev({op: {"k": values}}, ctx).value
    missing = not request
    assert ev({op + "IfExists": {"k": values}}, ctx).value is (missing or plain)


NEGATIONS = {
    "StringEquals": "StringNotEquals",
    "StringLike": "StringNotLike",
    "StringEqualsIgnoreCase": "StringNotEqualsIgnoreCase",
    "ArnLike": "ArnNotLike",
    "NumericEquals": "NumericNotEquals",
}


@given(op=st.sampled_from(sorted(NEGATIONS)), values=VALUES, request=REQUEST)
def test_a_negated_operator_is_the_complement(
    op: str, values: list[str], request: list[str] | None
) -> None:
    # OPS "Important" + LOGIC (NOR): for a single-valued key, present or absent, NotX = not X.
    ctx = {"k": (request or [])[:1]}
    assert ev({NEGATIONS[op]: {"k": values}}, ctx).value is (not ev({op: {"k": values}}, ctx).value)


@given(
    op=st.sampled_from(OPERATORS),
    values=VALUES,
    request=st.lists(st.sampled_from(["a", "A", "1"]), max_size=3),
)
def test_for_all_values_and_for_any_value_over_single_values(
    op: str, values: list[str], request: list[str]
) -> None:
    # MULTI: ForAllValues = every request value satisfies the operator (true when none);
    # ForAnyValue = some request value does (false when none).
    each = [ev({op: {"k": values}}, {"k": [v]}).value for v in request]
    assert ev({f"ForAllValues:{op}": {"k": values}}, {"k": request}).value is all(each)
    assert ev({f"ForAnyValue:{op}": {"k": values}}, {"k": request}).value is any(each)


OUTCOMES = st.sampled_from(
    [TRUE, FALSE, Outcome(None, frozenset({"x"})), Outcome(None, frozenset({"y"}))]
)


@given(st.lists(OUTCOMES, max_size=4))
def test_three_valued_and_or(outcomes: list[Outcome]) -> None:
    # With every unknown set to true (or to false), AND/OR agree with Python's when decided.
    for fill in (True, False):
        filled = [o.value if o.value is not None else fill for o in outcomes]
        a, o = all_of(outcomes), any_of(outcomes)
        if a.value is not None:
            assert a.value is all(filled)
        if o.value is not None:
            assert o.value is any(filled)
    assert (all_of(outcomes).value is None) == (
        FALSE not in outcomes and any(x.value is None for x in outcomes)
    )


@pytest.mark.parametrize("op", ["Bogus", "ForSomeValues:StringEquals"])
def test_an_operator_aws_does_not_define_is_never_satisfied(op: str) -> None:
    assert ev({op: {"aws:PrincipalOrgID": "o-abc123"}}) == FALSE


def test_a_variable_that_names_no_context_key_is_absent() -> None:
    # VARS: a variable names a request-context key, and every key is `prefix:name` (KEYS). A
    # template placeholder left in a policy (AWS's region-restriction SCP example ships
    # `arn:aws:iam::${Account}:role/[PRIVILEGED_ROLE]`) names none: it matches nothing, so the
    # ArnNotLike exemption exempts no one and only the region stays open.
    cond = {
        "StringNotEquals": {"aws:RequestedRegion": ["eu-central-1", "eu-west-1"]},
        "ArnNotLike": {"aws:PrincipalARN": "arn:aws:iam::${Account}:role/[PRIVILEGED_ROLE]"},
    }
    assert ev(cond) == unknown("aws:requestedregion")
    assert ev(cond, {"aws:RequestedRegion": "us-east-1"}) == TRUE
    assert ev({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::${Account}:role/deploy"}}) == FALSE


# --- one evaluation per distinct fact tuple ---------------------------------------------------

CACHE_ENTRIES = st.sampled_from(
    [
        ("StringEquals", "aws:PrincipalOrgID", "o-abc123"),
        ("StringNotEqualsIfExists", "aws:PrincipalAccount", "${aws:ResourceAccount}"),
        ("StringEquals", "aws:PrincipalTag/team", ["payments", "${aws:PrincipalTag/owner}"]),
        ("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:role/${aws:username}"),
        ("Bool", "aws:SecureTransport", "true"),
        ("Null", "aws:PrincipalTag/owner", "false"),
        ("StringLike", "aws:userid", "AIDA*"),
    ]
)
PRINCIPALS = st.fixed_dictionaries(
    {
        "aws:principalarn": st.sampled_from([(ARN,), ("arn:aws:iam::333333333333:role/x",)]),
        "aws:principalaccount": st.sampled_from([("222222222222",), ("333333333333",)]),
        "aws:principaltag/team": st.sampled_from([("payments",), ("web",)]),
        "aws:principaltag/owner": st.sampled_from([("web",), ("payments",)]),
        "aws:username": st.sampled_from([("deploy",), ("x",)]),
    }
)


@given(
    st.lists(CACHE_ENTRIES, min_size=1, max_size=3),
    st.lists(st.tuples(PRINCIPALS, st.booleans(), REQUEST), min_size=1, max_size=6),
)
def test_an_outcome_decided_once_per_projection_is_the_outcome_of_each_request(
    entries: list[tuple[str, str, object]], requests: list
) -> None:
    """The cache `ciem explain` and `who-can` use: every request gets what `evaluate` gives it,
    whatever the requests before it (a projection that missed a key read would fail)."""
    condition: dict[str, dict[str, object]] = {}
    for op, key, value in entries:
        condition.setdefault(op, {})[key] = value
    cache = OutcomeCache()
    for values, org_known, secure in requests:
        facts = Facts(
            values={**dict(FACTS.values), **values}
            if org_known
            else {k: v for k, v in {**dict(FACTS.values), **values}.items() if "org" not in k}
        )
        ctx = normalize_context({"aws:SecureTransport": secure[0]} if secure else None)
        assert cache.decide(("p", 0), condition, facts, ctx) == evaluate(condition, facts, ctx)


# aws:TokenIssueTime (KEYS: "present only when the principal uses temporary credentials"; their
# lifetime: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_request.html, at
# most 36 hours). On 2026-11-20 a request's token was issued between 2026-11-18T12:00Z and the
# end of 2026-11-20, or (a user's long-term keys) the key is absent.
WINDOW = session_window(date(2026, 11, 20))
ROLE = Facts(values={"aws:principaltype": ("AssumedRole",)}, session_window=WINDOW)
USER = Facts(values={"aws:principaltype": ("User",)}, session_window=WINDOW)
NO_DATE = Facts(values={"aws:principaltype": ("AssumedRole",)})


def _token(op: str, when: str) -> dict:
    return {op: {"aws:TokenIssueTime": when}}


def test_session_window_spans_36_hours_before_the_day_to_its_end() -> None:
    assert (
        datetime(2026, 11, 18, 12, tzinfo=UTC),
        datetime(2026, 11, 20, 23, 59, 59, tzinfo=UTC),
    ) == WINDOW
    assert session_window(None) is None


@pytest.mark.parametrize(
    ("condition", "role", "user"),
    [
        # fp5 of iam-vulnerable: a token issued before 2020 exists in no request today.
        (_token("DateLessThan", "2020-01-01T00:00:00Z"), FALSE, FALSE),
        # fn3: true for every session; a user's long-term keys carry no issue time (false).
        (_token("DateGreaterThan", "2020-01-01T00:00:00Z"), TRUE, None),
        (_token("DateGreaterThanIfExists", "2020-01-01T00:00:00Z"), TRUE, TRUE),
        # A threshold inside the window: some sessions meet it, some do not.
        (_token("DateGreaterThan", "2026-11-19T00:00:00Z"), None, None),
        (_token("DateLessThan", "2030-01-01T00:00:00Z"), TRUE, None),
        # Null: a role's request always has the key; a user's may not.
        ({"Null": {"aws:TokenIssueTime": "true"}}, FALSE, None),
        ({"Null": {"aws:TokenIssueTime": "false"}}, TRUE, None),
        # Not a threshold: one instant inside the window may match; left open.
        (_token("DateEquals", "2026-11-19T00:00:00Z"), None, None),
        (_token("DateNotEquals", "2020-01-01T00:00:00Z"), None, None),
        ({"StringLike": {"aws:TokenIssueTime": "2020*"}}, None, None),
    ],
)
def test_token_issue_time_decided_when_every_possible_request_agrees(
    condition: dict, role: Outcome | None, user: Outcome | None
) -> None:
    unknown = Outcome(None, frozenset({"aws:tokenissuetime"}))
    assert evaluate(condition, ROLE) == (unknown if role is None else role)
    assert evaluate(condition, USER) == (unknown if user is None else user)
    # Without a date, the key stays unknown; a context value wins over the window.
    assert evaluate(condition, NO_DATE) == unknown
    assert (
        evaluate(
            _token("DateLessThan", "2020-01-01T00:00:00Z"),
            ROLE,
            {"aws:tokenissuetime": ("2019-06-01T00:00:00Z",)},
        )
        == TRUE
    )


def test_outcome_cache_tells_windows_and_principal_types_apart() -> None:
    cache = OutcomeCache()
    condition = _token("DateGreaterThan", "2020-01-01T00:00:00Z")
    assert cache.decide("s", condition, ROLE, {}) == TRUE
    assert cache.decide("s", condition, USER, {}).value is None
    assert cache.decide("s", condition, NO_DATE, {}).value is None
    old = Facts(values=ROLE.values, session_window=session_window(date(2019, 1, 1)))
    assert cache.decide("s", condition, old, {}) == FALSE
