-- int_detections_current
-- The detections of this run: every rule's rows (one model per rule under sql/detections/),
-- with the rule's severity from the registry and a stable id per (rule, resource).
-- To add a rule: add its model and its row in data/reference/detection_rules.csv, then list it
-- here (a test fails until all three agree).
-- grain: detection_id

with fired as (
    select * from det_admin_iam_user
    union all by name
    select * from det_admin_iam_role
    union all by name
    select * from det_admin_iam_group
    union all by name
    select * from det_admin_ec2_instance
    union all by name
    select * from det_admin_lambda_function
    union all by name
    select * from det_inactive_identity
    union all by name
    select * from det_large_permissions_gap
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
