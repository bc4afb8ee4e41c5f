-- det_cross_account_trust_without_external_id
-- Rule cross-account-trust-without-external-id: a role that another AWS account (its root or one
-- of its users/roles) may assume with sts:AssumeRole and no required sts:ExternalId (a condition
-- that must equal or match a listed non-wildcard value; IfExists does not count). Only third
-- parties count: accounts in the organization, and accounts in the snapshot, are the owner's own
-- and never fire (the ExternalId defends against the confused deputy: a vendor tricked into
-- using its access to this role for another of its customers).
-- https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
-- grain: resource_arn

with trust as (
    select * from int_role_trust_principals
    where is_cross_account_without_external_id
),

final as (
    select
        'cross-account-trust-without-external-id' as rule_id,
        role_arn as resource_arn,
        'iam_role' as resource_type,
        role_account_id as account_id,
        role_arn as principal_arn,
        'IAM role ' || any_value(role_name) || ' trusts external account '
            || string_agg(distinct principal_account_id, ', ' order by principal_account_id)
            || ' without requiring an sts:ExternalId' as title,
        to_json({
            'trusted_accounts': list(distinct principal_account_id order by principal_account_id),
            'statements': list(
                struct_insert(statement_evidence, principal_kind := principal_kind)
                order by statement_index, principal
            )
        })::varchar as evidence
    from trust
    group by role_arn, role_account_id
)

select * from final
