-- usage_daily
-- What each principal did, per UTC day of the events and IAM action, in one CloudTrail
-- delivery-day partition: successful calls (use), denied attempts, throttled calls, other
-- errors (raised after authorization), first and last seen, last successful use. Calls by AWS
-- services on their own and by identities that are not IAM principals credit nobody and are
-- left out. Events exercising no IAM action (sign-in, GetCallerIdentity) or that the map cannot
-- resolve keep `action` null: they still show that the principal was active. Events delivered
-- after midnight land in the next day's partition, so sum across partitions. Each eventID
-- counts once: `day_events` holds it once, and not if the previous partition has it (a
-- redelivery; see pipelines/lib/warehouse/daily.py).
-- grain: day, account_id, principal_arn, action (within one partition)

with events as (
    select * from day_events where principal_arn is not null
),

codes as (
    select * from ref_error_codes
),

action_map as (
    -- Primary actions are exercised by every call. A secondary action is credited only when the
    -- call shows it was needed: DynamoDB's ExecuteStatement needs the PartiQL action its
    -- statement names. iam:PassRole inside RunInstances/CreateFunction is not credited (it
    -- stays unobservable: the event does not prove which role, if any, was passed).
    select
        event_source,
        event_name,
        iam_action,
        is_primary,
        regexp_extract(note, 'IContains ''([^'']+)''', 1) as statement_contains
    from ref_event_action_map
    where iam_action is not null
),

classified as (
    select
        e.event_time,
        e.recipient_account_id as account_id,
        e.principal_arn,
        e.request_parameters,
        e.event_source,
        -- The map is keyed on the name without CloudTrail's API-version suffix.
        regexp_replace(
            e.event_name, '([0-9]{8}(v[0-9]+)?|[0-9]{4}_[0-9]{2}_[0-9]{2})$', ''
        ) as event_name_base,
        case
            -- A failed console sign-in has no errorCode: its response says "Failure".
            when e.event_name = 'ConsoleLogin'
                and json_extract_string(e.response_elements, '$.ConsoleLogin') = 'Failure'
                then 'denied'
            when e.error_code is null then 'success'
            when c.outcome is not null then c.outcome
            when e.error_code ilike '%accessdenied%'
                or e.error_code ilike '%unauthorized%'
                or e.error_code ilike '%forbidden%' then 'denied'
            when e.error_code ilike '%throttl%' then 'throttled'
            else 'other_error'
        end as outcome
    from events as e
    left join codes as c on c.error_code = e.error_code
),

mapped as (
    select c.*, m.iam_action as action
    from classified as c
    left join action_map as m
        on m.event_source = c.event_source
        and m.event_name = c.event_name_base
        and (
            m.is_primary
            or (
                m.statement_contains != ''
                and (c.request_parameters ->> '$.statement') ilike '%' || m.statement_contains || '%'
            )
        )
),

final as (
    select
        event_time::date as day,
        account_id,
        principal_arn,
        action,
        count(*) filter (where outcome = 'success') as successful_calls,
        count(*) filter (where outcome = 'denied') as denied_attempts,
        count(*) filter (where outcome = 'throttled') as throttled_calls,
        count(*) filter (where outcome = 'other_error') as other_errors,
        min(event_time) as first_seen_at,
        max(event_time) as last_seen_at,
        max(event_time) filter (where outcome = 'success') as last_used_at
    from mapped
    group by all
    order by all
)

select * from final
