-- permission_insights
-- Granted versus used, per principal and effective action, for the run's window: `used` (a
-- successful call in the window), `unobservable` (CloudTrail cannot show it: iam:PassRole, or a
-- data-event action in an account whose trail recorded no data events; or the account's
-- CloudTrail has a gap in the window, `unobservable_reason` `cloudtrail_gap`: see
-- int_account_cloudtrail_gaps) or `unused`.
-- `usage_history` says whether the identity existed for the whole window (`complete`); for an
-- `insufficient_history` identity, `unused` only means "not used since it was created" and no
-- usage rule reports it. `account_incomplete` as in effective_permissions.
-- grain: principal_arn, action
-- partition: principal_bucket

with effective as not materialized (
    -- read twice: as a materialized CTE the bucket would be held whole, every `granted_by` with
    -- it (about 1 GB of DuckDB memory for one bucket of an adversarial account)
    select * from effective_permissions
),

usage as (
    select * from int_usage_in_window
),

unobservable as (
    select * from ref_unobservable_actions
),

data_event_accounts as (
    select account_id from int_account_observability where has_data_events
),

activity as (
    select * from int_principal_activity
),

gap_accounts as (
    select account_id from int_account_cloudtrail_gaps
),

params as (
    select * from run_params
),

effective_actions as (
    select distinct account_id, action from effective
),

-- Per (account, action), not per principal: the glob join runs over the distinct actions only.
unobservable_reasons as (
    select
        e.account_id,
        e.action,
        min(u.reason) as reason
    from effective_actions as e
    inner join unobservable as u on e.action glob u.action_pattern
    where u.observable_when = 'never'
        or (
            u.observable_when = 'data_events'
            and e.account_id not in (select account_id from data_event_accounts)
        )
    group by e.account_id, e.action
),

final as (
    select
        e.principal_arn,
        e.principal_type,
        e.account_id,
        e.action,
        e.action_name,
        e.service,
        e.access_level,
        e.is_conditional,
        e.resource_scope,
        e.granted_by,
        case
            when coalesce(u.successful_calls, 0) > 0 then 'used'
            when r.reason is not null then 'unobservable'
            when g.account_id is not null then 'unobservable'
            else 'unused'
        end as usage_status,
        case
            when coalesce(u.successful_calls, 0) = 0
                then coalesce(r.reason, case when g.account_id is not null then 'cloudtrail_gap' end)
        end as unobservable_reason,
        u.last_used_at,
        coalesce(u.successful_calls, 0) as calls_in_window,
        coalesce(u.denied_attempts, 0) as denied_attempts_in_window,
        a.usage_history,
        p.window_start,
        p.as_of as window_end,
        e.catalog_version,
        e.account_incomplete
    from effective as e
    cross join params as p
    left join activity as a on a.principal_arn = e.principal_arn
    left join usage as u
        on u.principal_arn = e.principal_arn
        and u.action = e.action
    left join unobservable_reasons as r
        on r.account_id = e.account_id
        and r.action = e.action
    left join gap_accounts as g on g.account_id = e.account_id
)

select * from final
