-- suppressions
-- Every entry of the suppressions file with its state as of this run: `active` (applies until
-- `expires_at`, inclusive, or forever) or `expired` (its date has passed: it no longer applies and
-- the detections it covered are open again). `matched_detections` counts this run's detections
-- the entry matches, `applied_detections` those it actually suppresses (the first live entry
-- matching a detection wins).
-- grain: entry_index

with suppressions as (
    select * from ref_suppressions
),

matches as (
    select * from int_suppression_matches
),

params as (
    select * from run_params
),

counts as (
    select
        entry_index,
        count(*) as matched_detections,
        count(*) filter (where is_applied) as applied_detections
    from matches
    group by entry_index
),

final as (
    select
        s.entry_index,
        s.rule_id,
        s.resource_pattern,
        s.reason,
        s.expires_at,
        case when s.expires_at < p.as_of then 'expired' else 'active' end as status,
        coalesce(c.matched_detections, 0) as matched_detections,
        coalesce(c.applied_detections, 0) as applied_detections,
        s.source_file
    from suppressions as s
    cross join params as p
    left join counts as c on c.entry_index = s.entry_index
)

select * from final
