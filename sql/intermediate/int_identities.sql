-- int_identities
-- Users, roles and groups of every account in one shape, with the facts the evaluation and
-- the rules need (boundary, service-linked, SSO-reserved, whether SCPs restrict it).
-- grain: principal_arn

with users as (
    select * from raw_iam_users
),

roles as (
    select * from raw_iam_roles
),

groups as (
    select * from raw_iam_groups
),

org as (
    select management_account_id from raw_org_organization
),

governed_accounts as (
    select distinct account_id from int_account_scp_levels
),

identities as (
    select
        arn as principal_arn,
        'user' as principal_type,
        account_id,
        user_name as name,
        path,
        create_date as created_at,
        permissions_boundary_arn,
        false as is_service_linked,
        false as is_sso_reserved,
        tags_json
    from users

    union all

    select
        arn as principal_arn,
        'role' as principal_type,
        account_id,
        role_name as name,
        path,
        create_date as created_at,
        permissions_boundary_arn,
        is_service_linked,
        starts_with(role_name, 'AWSReservedSSO_') as is_sso_reserved,
        tags_json
    from roles

    union all

    select
        arn as principal_arn,
        'group' as principal_type,
        account_id,
        group_name as name,
        path,
        create_date as created_at,
        null::varchar as permissions_boundary_arn,
        false as is_service_linked,
        false as is_sso_reserved,
        null::varchar as tags_json
    from groups
),

final as (
    select
        i.*,
        case
            when i.permissions_boundary_arn is null then null
            else i.account_id || '|' || i.permissions_boundary_arn
        end as boundary_policy_key,
        i.account_id in (select management_account_id from org) as is_management_account,
        -- SCPs restrict every principal of a member account except service-linked roles.
        i.account_id in (select account_id from governed_accounts)
            and not i.is_service_linked as scp_applies
    from identities as i
)

select * from final
