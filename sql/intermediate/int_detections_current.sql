-- int_detections_current
-- The detections of this run: every rule's rows (one model per rule under sql/detections/),
-- with the rule's severity from the registry and a stable id per (rule, resource).
-- To add a rule: add its model under sql/detections/ and its row in
-- data/reference/detection_rules.csv (a test fails until both agree); the union below expands to
-- every rule model.
-- grain: detection_id

with fired as (
    {{ detection_rules }}
),

rules as (
    select * from ref_detection_rules
),

params as (
    select * from run_params
),

final as (
    select
        substr(md5(f.rule_id || '|' || f.resource_arn), 1, 16) as detection_id,
        f.rule_id,
        r.severity,
        f.resource_arn,
        f.resource_type,
        f.account_id,
        f.principal_arn,
        f.title,
        f.evidence,
        p.as_of
    from fired as f
    inner join rules as r on r.rule_id = f.rule_id
    cross join params as p
)

select * from final
