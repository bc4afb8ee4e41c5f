-- int_account_observability
-- What each account's CloudTrail lets us judge in the window: whether data events were
-- recorded (else data-event actions are unobservable, never "unused"), and how many events the
-- event->IAM action map could not resolve.
-- grain: account_id

with counts as (
    select * from int_event_counts_in_window
),

final as (
    select
        account_id,
        sum(events)::bigint as events_in_window,
        (sum(events) filter (where event_category = 'Data'))::bigint as data_events_in_window,
        coalesce(sum(events) filter (where event_category = 'Data'), 0) > 0 as has_data_events,
        (sum(events) filter (where mapping = 'unmapped'))::bigint as unmapped_events_in_window
    from counts
    group by account_id
)

select * from final
