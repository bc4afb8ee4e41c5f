-- int_usage_daily
-- What each principal did per UTC day and IAM action: successful calls (use), denied attempts,
-- throttled calls and other errors. Calls by AWS services acting on their own, and by identities
-- that are not principals of these accounts, credit nobody and are left out.
-- grain: day, account_id, principal_arn, action

with events as (
    select * from stg_cloudtrail_events
    where principal_arn is not null
),

action_map as (
    select * from int_event_action_map
    where iam_action is not null
),

final as (
    select
        e.event_time::date as day,
        e.account_id,
        e.principal_arn,
        m.iam_action as action,
        count(*) filter (where e.outcome = 'success') as successful_calls,
        count(*) filter (where e.outcome = 'denied') as denied_attempts,
        count(*) filter (where e.outcome = 'throttled') as throttled_calls,
        count(*) filter (where e.outcome = 'other_error') as other_errors,
        min(e.event_time) as first_seen_at,
        max(e.event_time) as last_seen_at,
        max(e.event_time) filter (where e.outcome = 'success') as last_used_at
    from events as e
    inner join action_map as m
        on m.event_source = e.event_source
        and m.event_name = e.event_name
    group by all
)

select * from final
