-- int_suppression_matches
-- Which suppression entries (suppressions.yaml, landed as ref_suppressions) match which
-- detection of this run: the entry's rule is the detection's rule or '*', and its resource glob
-- matches the resource ARN (`*` any run of characters, `?` one, `[...]` a class). An entry whose
-- `expires` date is before the as-of date is expired and never applies; of the live entries
-- matching a detection, the first in the file is the one applied.
-- grain: detection_id, entry_index

with current_detections as (
    select * from int_detections_current
),

entries as (
    select * from ref_suppressions
),

params as (
    select * from run_params
),

matched as (
    select
        d.detection_id,
        s.entry_index,
        s.rule_id,
        s.resource_pattern,
        s.reason,
        s.expires_at,
        coalesce(s.expires_at < p.as_of, false) as is_expired
    from current_detections as d
    inner join entries as s
        on (s.rule_id = '*' or s.rule_id = d.rule_id)
        and d.resource_arn glob s.resource_pattern
    cross join params as p
),

final as (
    select
        *,
        not is_expired
        and row_number() over (
            partition by detection_id, is_expired order by entry_index
        ) = 1 as is_applied
    from matched
)

select * from final
