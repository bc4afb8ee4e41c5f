-- int_principal_activity
-- Every sign that an identity was used: successful CloudTrail calls (any event, sign-ins
-- included, from the daily aggregates), the credential report (password and access keys) and
-- RoleLastUsed. `usage_history` is `complete` when the identity existed for the whole window
-- (created at or before its first instant), else `insufficient_history` (younger, or of unknown
-- age): too young to call anything it did not do "unused".
-- grain: principal_arn

with identities as (
    select * from int_identities where principal_type in ('user', 'role')
),

usage as (
    select * from usage_daily
),

credentials as (
    select * from raw_credential_report
),

roles as (
    select * from raw_iam_roles
),

params as (
    select * from run_params
),

event_activity as (
    select
        u.principal_arn,
        (sum(u.successful_calls) filter (where u.day >= p.window_start and u.day <= p.as_of))
            ::bigint as successful_events_in_window,
        max(u.last_used_at) filter (where u.day <= p.as_of) as last_event_at
    from usage as u
    cross join params as p
    group by u.principal_arn
),

final as (
    select
        i.principal_arn,
        i.principal_type,
        i.created_at,
        case
            when i.created_at <= p.window_start_at then 'complete'
            else 'insufficient_history'
        end as usage_history,
        coalesce(a.successful_events_in_window, 0) as successful_events_in_window,
        a.last_event_at,
        c.password_last_used,
        greatest(c.access_key_1_last_used_date, c.access_key_2_last_used_date)
            as access_key_last_used,
        r.role_last_used_at,
        greatest(
            a.last_event_at, c.password_last_used, c.access_key_1_last_used_date,
            c.access_key_2_last_used_date, r.role_last_used_at
        ) as last_activity_at
    from identities as i
    cross join params as p
    left join event_activity as a on a.principal_arn = i.principal_arn
    left join credentials as c on c.arn = i.principal_arn
    left join roles as r on r.arn = i.principal_arn
)

select * from final
