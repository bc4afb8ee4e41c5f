-- det_trust_outside_organization
-- Rule trust-outside-organization: a role that an AWS account outside the organization (its
-- root or one of its users/roles) may assume with sts:AssumeRole, whatever the conditions (listed
-- in the evidence, with whether an sts:ExternalId is required). The organization's accounts come
-- from the snapshot's organization/list-accounts.json; without it (a standalone account) the rule
-- never fires, as membership cannot be known.
-- grain: resource_arn

with trust as (
    select * from int_role_trust_principals
    where is_outside_organization
),

final as (
    select
        'trust-outside-organization' as rule_id,
        role_arn as resource_arn,
        'iam_role' as resource_type,
        role_account_id as account_id,
        role_arn as principal_arn,
        'IAM role ' || any_value(role_name) || ' trusts account '
            || string_agg(distinct principal_account_id, ', ' order by principal_account_id)
            || ' outside the organization' as title,
        to_json({
            'trusted_accounts': list(distinct principal_account_id order by principal_account_id),
            'statements': list(
                struct_insert(
                    statement_evidence,
                    principal_kind := principal_kind,
                    has_external_id := has_external_id
                )
                order by statement_index, principal
            )
        })::varchar as evidence
    from trust
    group by role_arn, role_account_id
)

select * from final
