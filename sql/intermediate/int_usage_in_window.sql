-- int_usage_in_window
-- Usage per principal and IAM action inside the run's window (window_days UTC days ending on
-- the as-of date, inclusive), read from the daily aggregates, plus the last successful use
-- seen in the lake up to the as-of date.
-- grain: principal_arn, action

with daily as (
    select * from usage_daily where action is not null
),

params as (
    select * from run_params
),

final as (
    select
        d.principal_arn,
        d.action,
        (sum(d.successful_calls) filter (where d.day >= p.window_start))::bigint
            as successful_calls,
        (sum(d.denied_attempts) filter (where d.day >= p.window_start))::bigint
            as denied_attempts,
        max(d.last_used_at) filter (where d.day >= p.window_start) as last_used_in_window_at,
        max(d.last_used_at) as last_used_at
    from daily as d
    cross join params as p
    where d.day <= p.as_of
    group by d.principal_arn, d.action
)

select * from final
