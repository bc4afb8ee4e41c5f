-- stg_cloudtrail_events
-- CloudTrail records with their outcome: success (used), denied (an attempt, refused by
-- authorization), throttled (refused before authorization), or other_error (raised after
-- authorization succeeded, e.g. NoSuchEntity). Event names lose their API-version date
-- suffix (CreateFunction20150331 -> CreateFunction).
-- grain: day, source_file, record_index
-- materialized: view

with events as (
    select * from raw_cloudtrail_events
),

final as (
    select
        day,
        event_id,
        event_time,
        event_source,
        event_name,
        regexp_replace(event_name, '[0-9]{8}(v[0-9]+)?$', '') as event_name_base,
        event_type,
        event_category,
        aws_region,
        recipient_account_id as account_id,
        identity_type,
        principal_arn,
        principal_type,
        session_name,
        invoked_by,
        error_code,
        case
            when error_code is null then 'success'
            when error_code ilike '%accessdenied%'
                or error_code ilike '%unauthorized%'
                or error_code ilike '%forbidden%' then 'denied'
            when error_code ilike '%throttl%'
                or error_code in ('RequestLimitExceeded', 'TooManyRequestsException', 'SlowDown')
                then 'throttled'
            else 'other_error'
        end as outcome,
        read_only,
        source_file,
        record_index
    from events
)

select * from final
