-- det_trust_wildcard_principal
-- Rule trust-wildcard-principal: a role whose trust policy lets any AWS principal (`"Principal":
-- "*"` or `{"AWS": "*"}`) assume it, with no condition pinning who the caller is: a condition that
-- requires aws:PrincipalOrgID, aws:PrincipalOrgPaths, aws:PrincipalAccount, aws:PrincipalArn,
-- aws:userid, aws:SourceAccount, aws:SourceArn, aws:SourceOrgID or aws:SourceOrgPaths to equal or
-- match a listed value naming particular callers suppresses it (`arn:aws:iam::*:role/x` or `o-*`
-- under ArnLike/StringLike do not: any account can have such a role). Nor does it fire when a
-- perimeter Deny of the same trust policy (a Deny to anyone whose condition is only negated
-- caller keys naming particular callers, e.g. `StringNotEqualsIfExists aws:PrincipalOrgID`, and
-- optionally `BoolIfExists aws:PrincipalIsAWSService false`) covers every assume action the
-- statement grants (`restricted_by_deny` of int_role_trust_principals). Other conditions
-- (sts:ExternalId, MFA, source IP…) are met by strangers too; they are listed in the evidence,
-- with each statement's `restricted_by_deny` (perimeter Denies covering only some of its assume
-- actions; empty when none).
-- grain: resource_arn

with trust as (
    select * from int_role_trust_principals
    where is_wildcard_trust
),

final as (
    select
        'trust-wildcard-principal' as rule_id,
        role_arn as resource_arn,
        'iam_role' as resource_type,
        role_account_id as account_id,
        role_arn as principal_arn,
        'IAM role ' || any_value(role_name)
            || ' can be assumed by any AWS principal (trust policy Principal "*")' as title,
        to_json({
            'statements': list(
                struct_insert(
                    statement_evidence,
                    has_external_id := has_external_id,
                    restricted_by_deny := restricted_by_deny
                )
                order by statement_index
            ),
            'unconditional': not bool_or(has_condition)
        })::varchar as evidence
    from trust
    group by role_arn, role_account_id
)

select * from final
