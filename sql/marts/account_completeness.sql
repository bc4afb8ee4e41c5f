-- account_completeness
-- One row per account this run knows of (organization accounts, accounts with principals, and
-- those the previous run had): whether all of its snapshot input could be read. An incomplete
-- account (`is_incomplete`, `incomplete_reason`: see int_account_completeness) is not judged on
-- what could be read: its previous detections, and other accounts' escalation paths that ran
-- through it, are held open (`held_open_detections` counts both), none is resolved, and its permissions are flagged `account_incomplete` in effective_permissions and
-- permission_insights.
-- grain: account_id

with completeness as (
    select * from int_account_completeness
),

current_detections as (
    select * from int_detections_current
),

held as (
    -- Counted for the incomplete account that holds them (an escalation path of another
    -- account that ran through it counts here, not there); usage detections held over a
    -- CloudTrail gap (cloudtrail_coverage) are not about incomplete input.
    select
        coalesce(json_extract_string(evidence, '$.held_open.account_id'), account_id)
            as account_id,
        count(*) as held_open_detections
    from current_detections
    where json_extract(evidence, '$.held_open') is not null
        and json_extract_string(evidence, '$.held_open.reason') <> 'cloudtrail_gap'
    group by all
),

final as (
    select
        c.account_id,
        c.is_incomplete,
        c.incomplete_reason,
        c.previous_as_of,
        coalesce(h.held_open_detections, 0) as held_open_detections
    from completeness as c
    left join held as h on h.account_id = c.account_id
)

select * from final
