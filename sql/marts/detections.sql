-- detections
-- Every identity risk found by this run or an earlier one (up to the as-of date): `open` when
-- this run found it, `resolved` when an earlier run did and this one did not. First/last seen
-- are the as-of dates of the first and last run that found it; evidence is from the latest.
-- grain: detection_id

with history as (
    select h.*
    from detection_history as h
    cross join run_params as p
    where h.as_of <= p.as_of
),

rules as (
    select * from ref_detection_rules
),

params as (
    select * from run_params
),

latest as (
    select *
    from history
    qualify row_number() over (partition by detection_id order by as_of desc) = 1
),

seen as (
    select detection_id, min(as_of) as first_seen_at, max(as_of) as last_seen_at
    from history
    group by detection_id
),

final as (
    select
        l.detection_id,
        l.rule_id,
        l.severity,
        l.resource_arn,
        l.resource_type,
        l.account_id,
        l.title,
        s.first_seen_at,
        s.last_seen_at,
        case when s.last_seen_at = p.as_of then 'open' else 'resolved' end as status,
        l.evidence,
        r.category,
        r.description,
        r.remediation,
        r."references" as reference_url
    from latest as l
    inner join seen as s on s.detection_id = l.detection_id
    cross join params as p
    left join rules as r on r.rule_id = l.rule_id
)

select * from final
