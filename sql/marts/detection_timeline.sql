-- detection_timeline
-- The history of each detection across runs: `opened` the first time a run finds it,
-- `resolved` when a run no longer finds what the previous run found, `reopened` when it comes
-- back. One row per change, dated by the run's as-of date.
-- grain: detection_id, event_at

with history as (
    select h.*
    from detection_history as h
    cross join run_params as p
    where h.as_of <= p.as_of
),

runs as (
    select as_of, lag(as_of) over (order by as_of) as previous_as_of
    from (select distinct as_of from history)
),

latest_detections as (
    select detection_id, as_of, rule_id, severity, resource_arn, resource_type, account_id, title
    from history
    qualify row_number() over (partition by detection_id order by as_of desc) = 1
),

presence as (
    select
        d.detection_id,
        r.as_of,
        exists (
            select 1 from history as h
            where h.detection_id = d.detection_id and h.as_of = r.as_of
        ) as present,
        exists (
            select 1 from history as h
            where h.detection_id = d.detection_id and h.as_of = r.previous_as_of
        ) as present_before,
        exists (
            select 1 from history as h
            where h.detection_id = d.detection_id and h.as_of < r.as_of
        ) as seen_before
    from latest_detections as d
    cross join runs as r
),

changes as (
    select
        detection_id,
        as_of as event_at,
        case
            when present and not seen_before then 'opened'
            when present and not present_before then 'reopened'
            when not present and present_before then 'resolved'
        end as event_type
    from presence
),

final as (
    select
        c.detection_id,
        c.event_at,
        c.event_type,
        d.rule_id,
        d.severity,
        d.resource_arn,
        d.resource_type,
        d.account_id,
        d.title
    from changes as c
    inner join latest_detections as d on d.detection_id = c.detection_id
    where c.event_type is not null
)

select * from final
