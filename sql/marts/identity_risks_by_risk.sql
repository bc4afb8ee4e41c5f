-- identity_risks_by_risk
-- The explorer's "Group by: Identity Risks": one row per rule with open detections, the number
-- of affected resources and up to five of them. `severity` is the most severe of its open
-- detections (the registry's, unless the rule assesses each detection).
-- grain: rule_id
-- materialized: view

with open_detections as (
    select * from detections where status = 'open'
),

rules as (
    select * from ref_detection_rules
),

final as (
    select
        d.rule_id,
        r.title as rule_title,
        arg_min(
            d.severity, list_position(['critical', 'high', 'medium', 'low', 'info'], d.severity)
        ) as severity,
        r.category,
        count(*) as open_detections,
        count(distinct d.resource_arn) as affected_resources,
        list_sort(list(distinct d.account_id)) as account_ids,
        list_slice(list_sort(list(distinct d.resource_arn)), 1, 5) as sample_resources
    from open_detections as d
    inner join rules as r on r.rule_id = d.rule_id
    group by d.rule_id, r.title, r.category
)

select * from final
