-- principals
-- Every IAM user, role and group of the snapshot, with its attributes, activity and
-- granted/used figures for the run's window. `usage_history` (users and roles) is `complete`
-- when the identity existed for the whole window, else `insufficient_history`: its gap ratio is
-- then null (too young to judge what it did not use).
-- grain: principal_arn

with identities as (
    select * from int_identities
),

activity as (
    select * from int_principal_activity
),

usage_summary as (
    select * from int_principal_usage_summary
),

credentials as (
    select * from raw_credential_report
),

final as (
    select
        i.principal_arn,
        i.principal_type,
        i.account_id,
        i.name,
        i.path,
        i.created_at,
        i.permissions_boundary_arn,
        i.is_service_linked,
        i.is_sso_reserved,
        i.is_management_account,
        i.scp_applies,
        c.password_enabled,
        c.mfa_active,
        coalesce(c.access_key_1_active, false) or coalesce(c.access_key_2_active, false)
            as has_active_access_key,
        a.last_activity_at,
        a.successful_events_in_window,
        a.usage_history,
        coalesce(s.granted_actions, 0) as granted_actions,
        coalesce(s.used_actions, 0) as used_actions,
        coalesce(s.unused_actions, 0) as unused_actions,
        coalesce(s.unobservable_actions, 0) as unobservable_actions,
        case when a.usage_history = 'complete' then s.gap_ratio end as gap_ratio,
        i.tags_json
    from identities as i
    left join activity as a on a.principal_arn = i.principal_arn
    left join usage_summary as s on s.principal_arn = i.principal_arn
    left join credentials as c on c.arn = i.principal_arn
)

select * from final
