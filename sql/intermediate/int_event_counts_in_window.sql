-- int_event_counts_in_window
-- The daily event counts (event_counts_daily) of the run's window only.
-- grain: day, account_id, event_source, event_name, event_category (per delivery partition)

with counts as (
    select * from event_counts_daily
),

params as (
    select * from run_params
),

final as (
    select c.*
    from counts as c
    cross join params as p
    where c.day between p.window_start and p.as_of
)

select * from final
