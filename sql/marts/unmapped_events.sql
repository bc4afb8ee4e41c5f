-- unmapped_events
-- CloudTrail events in the window that the event->IAM action map cannot resolve, per
-- eventSource and eventName, with their share of all events (a check warns above 1%).
-- Their calls count for nobody's usage until the map learns them.
-- grain: event_source, event_name

with counts as (
    select * from int_event_counts_in_window
),

total as (
    select sum(events) as events from counts
),

final as (
    select
        c.event_source,
        c.event_name,
        sum(c.events)::bigint as events,
        sum(c.events) / any_value(t.events) as share_of_events,
        list_sort(list(distinct c.account_id)) as account_ids
    from counts as c
    cross join total as t
    where c.mapping = 'unmapped'
    group by c.event_source, c.event_name
)

select * from final
