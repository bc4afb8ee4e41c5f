-- det_inactive_identity
-- Rule inactive-identity: a user or role (not service-linked) that existed for the whole window
-- and shows no sign of use in it: no successful CloudTrail call credited to it, and no console
-- sign-in, access-key use or RoleLastUsed inside the window either.
-- grain: resource_arn

with identities as (
    select * from int_identities
    where principal_type in ('user', 'role') and not is_service_linked
),

activity as (
    select * from int_principal_activity
),

params as (
    select * from run_params
),

final as (
    select
        'inactive-identity' as rule_id,
        i.principal_arn as resource_arn,
        'iam_' || i.principal_type as resource_type,
        i.account_id,
        i.principal_arn,
        'IAM ' || i.principal_type || ' ' || i.name || ' has not been used in '
            || p.window_days || ' days' as title,
        to_json({
            'window_start': p.window_start,
            'window_end': p.as_of,
            'created_at': i.created_at,
            'last_activity_at': a.last_activity_at,
            'last_event_at': a.last_event_at,
            'password_last_used': a.password_last_used,
            'access_key_last_used': a.access_key_last_used,
            'role_last_used_at': a.role_last_used_at
        })::varchar as evidence
    from identities as i
    cross join params as p
    inner join activity as a on a.principal_arn = i.principal_arn
    where i.created_at <= p.window_start_at
        and a.successful_events_in_window = 0
        and (a.password_last_used is null or a.password_last_used < p.window_start_at)
        and (a.access_key_last_used is null or a.access_key_last_used < p.window_start_at)
        and (a.role_last_used_at is null or a.role_last_used_at < p.window_start_at)
)

select * from final
