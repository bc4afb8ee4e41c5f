-- event_counts_daily
-- Events per UTC day, account, eventSource, eventName and category in one CloudTrail
-- delivery-day partition, with how the event->IAM action map resolves them: `mapped`,
-- `no_iam_action` (authentication events) or `unmapped` (reported; a check warns above 1%).
-- Data-event counts tell which accounts record data events (observability).
-- `unattributed_events`: events credited to no principal that are not explained as an AWS
-- service, an identity-provider user or another account (no userIdentity, or an unknown type):
-- counted here, never credited to anyone. Each eventID counts once (see usage_daily).
-- grain: day, account_id, event_source, event_name, event_category (within one partition)

with events as (
    select * from day_events
),

action_map as (
    select
        event_source,
        event_name,
        case
            when bool_or(iam_action is not null) then 'mapped'
            when bool_or(mapping_source = 'no_iam_action') then 'no_iam_action'
            else 'unmapped'
        end as mapping
    from ref_event_action_map
    group by event_source, event_name
),

final as (
    select
        e.event_time::date as day,
        e.recipient_account_id as account_id,
        e.event_source,
        e.event_name,
        coalesce(e.event_category, 'Management') as event_category,
        coalesce(m.mapping, 'unmapped') as mapping,
        count(*) as events,
        count(*) filter (
            where e.error_code is null
                -- A failed console sign-in has no errorCode: its response says "Failure".
                and coalesce(json_extract_string(e.response_elements, '$.ConsoleLogin'), '')
                != 'Failure'
        ) as successful_events,
        count(*) filter (where e.principal_arn is not null) as principal_events,
        count(*) filter (where e.principal_type = 'unknown') as unattributed_events
    from events as e
    left join action_map as m
        on m.event_source = e.event_source
        -- The map is keyed on the name without CloudTrail's API-version suffix.
        and m.event_name = regexp_replace(
            e.event_name, '([0-9]{8}(v[0-9]+)?|[0-9]{4}_[0-9]{2}_[0-9]{2})$', ''
        )
    group by all
    order by all
)

select * from final
