-- int_credential_usage
-- Which long-term credential of an IAM user or a root user CloudTrail shows in use, over the
-- `unused_days` days ending on the as-of date (or the window, if longer): console sign-ins
-- (`password`: a ConsoleLogin whose response is not `Failure`; a failed sign-in carries no
-- errorCode), calls signed with an access key (`access_key`: long-term key ids start with AKIA;
-- console and role sessions use temporary ASIA ids) and every other successful call (`session`),
-- with the calls of the whole period and of the run's window. A Root identity with `invokedBy`
-- (or an AwsServiceEvent) is an AWS service acting with the account's root identity (Elastic
-- Load Balancing, Auto Scaling…), not the root user: it is left out, as in the CIS root-usage
-- filter. https://repost.aws/knowledge-center/cloudtrail-root-action-logs
-- The credential report does not name key ids, so the rules match them by count (see
-- det_unused_access_key).
-- The period reads the CloudTrail days the lake has landed: `ciem run` lands the window, so
-- older days of the period count only if an earlier run or a backfill landed them (README,
-- "The look-back of unused_days").
-- grain: principal_arn, credential_type, access_key_id

with user_events as not materialized (
    select
        day,
        source_file,
        record_index,
        event_id,
        principal_arn,
        principal_type,
        event_source,
        event_name,
        event_time,
        access_key_id,
        error_code,
        invoked_by,
        event_type,
        -- A failed console sign-in has no errorCode: its response says "Failure". (The JSON is
        -- parsed only if its text may name the key: plainly, or behind an escape.)
        response_elements is null
        or not (contains(response_elements, 'ConsoleLogin') or contains(response_elements, '\u'))
        or coalesce(response_elements ->> '$.ConsoleLogin', 'Success') != 'Failure'
            as not_failure
    from raw_cloudtrail_events
    -- `day` is the delivery partition: an event lands on its day or later, at most one day
    -- early (clock skew), so no copy of an event of the period lands before `since_at` - 1 day.
    where principal_type in ('user', 'root') and principal_arn is not null
        and day >= (select least(unused_since_at, window_start_at)::date - 1 from run_params)
),

repeated as (
    -- Hashes of the eventIDs with more than one copy (a redelivery in a later day's partition):
    -- few, so only their copies are ranked (by eventID itself: a hash shared by two eventIDs
    -- only ranks a few more rows), and grouping holds 8 bytes per event, not the eventID.
    select hash(event_id) as id_hash from user_events
    where event_id is not null
    group by id_hash
    having count(*) > 1
),

events as (
    -- Each eventID counts once: its first copy by day, file and record (landing keeps an
    -- eventID once per day; events without one are all kept).
    select e.* from user_events as e
    anti join repeated as r on r.id_hash = hash(e.event_id)
    union all
    select e.* from user_events as e
    semi join repeated as r on r.id_hash = hash(e.event_id)
    qualify e.event_id is null
        or row_number() over (
            partition by e.event_id order by e.day, e.source_file, e.record_index
        ) = 1
),

params as (
    select
        as_of,
        window_start_at,
        window_end_at,
        least(unused_since_at, window_start_at) as since_at
    from run_params
),

credentialed as (
    select
        e.principal_arn,
        e.principal_type,
        e.event_name,
        e.event_time,
        e.event_time >= p.window_start_at as in_window,
        case
            when e.event_source = 'signin.amazonaws.com' and e.event_name = 'ConsoleLogin'
                then 'password'
            when e.access_key_id like 'AKIA%' then 'access_key'
            else 'session'
        end as credential_type,
        case when e.access_key_id like 'AKIA%' then e.access_key_id end as access_key_id
    from events as e
    cross join params as p
    -- `day` is the delivery partition: an event of day D lands in D or later.
    where e.day >= p.since_at::date
        and e.event_time >= p.since_at
        and e.event_time < p.window_end_at
        and e.error_code is null
        and e.not_failure
        and not (
            e.principal_type = 'root'
            and (e.invoked_by is not null or e.event_type is not distinct from 'AwsServiceEvent')
        )
),

final as (
    select
        principal_arn,
        any_value(principal_type) as principal_type,
        credential_type,
        access_key_id,
        count(*) as successful_calls,
        count(*) filter (where in_window) as successful_calls_in_window,
        min(event_time) as first_used_at,
        max(event_time) as last_used_at,
        list_sort(list(distinct event_name))[1:10] as event_names
    from credentialed
    group by principal_arn, credential_type, access_key_id
)

select * from final
