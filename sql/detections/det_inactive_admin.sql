-- det_inactive_admin
-- Rule inactive-admin: an administrator (int_admin_identities) that is also inactive: a user
-- or role that rule inactive-identity reports (no sign of use in the window, existed for all of
-- it, not service-linked). Groups are not judged: a group does nothing itself, its members do.
-- The evidence joins both: the inactivity and the policies that make it an admin
-- (`AWSReservedSSO_*` roles: fix it in the IAM Identity Center permission set).
-- grain: resource_arn

with admins as (
    select * from int_admin_identities where principal_type in ('user', 'role')
),

inactive as (
    select * from det_inactive_identity
),

identities as (
    select principal_arn, name, is_sso_reserved from int_identities
),

params as (
    select * from run_params
),

final as (
    select
        'inactive-admin' as rule_id,
        i.resource_arn,
        i.resource_type,
        i.account_id,
        i.principal_arn,
        'Administrator IAM ' || a.principal_type || ' ' || n.name || ' has not been used in '
            || p.window_days || ' days' as title,
        json_merge_patch(
            i.evidence,
            to_json({
                'granting_policies': a.granting_policies,
                'scp_denied_actions': a.scp_denied_actions,
                -- A null member leaves the key out (JSON merge patch).
                'managed_by': case when n.is_sso_reserved then 'iam-identity-center' end,
                'remediation': case
                    when n.is_sso_reserved then 'fix it in the IAM Identity Center permission set'
                end
            })
        )::varchar as evidence
    from inactive as i
    inner join admins as a on a.principal_arn = i.resource_arn
    inner join identities as n on n.principal_arn = i.resource_arn
    cross join params as p
)

select * from final
