-- int_detections_current
-- The detections of this run: every rule's rows (one model per rule under sql/detections/),
-- with the rule's severity from the registry and a stable id per (rule, resource).
-- To add a rule: add its model under sql/detections/ and its row in
-- data/reference/detection_rules.csv (a test fails until both agree); the union below expands to
-- every rule model. Optional rule columns are null for the rules that do not return them:
-- `severity` (a per-detection severity; else the registry's), `suggested_policy`,
-- `suggested_policy_verification`.
-- grain: detection_id

with optional_columns as (
    -- No rows: only makes the optional columns exist whichever rules return them.
    select
        null::varchar as rule_id,
        null::varchar as resource_arn,
        null::varchar as principal_arn,
        null::varchar as severity,
        null::varchar as suggested_policy,
        null::varchar as suggested_policy_verification
    where false
),

fired as (
    {{ detection_rules }}
    union all by name
    select * from optional_columns
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
        coalesce(f.severity, r.severity) as severity,
        f.resource_arn,
        f.resource_type,
        f.account_id,
        f.principal_arn,
        f.title,
        f.evidence,
        f.suggested_policy::varchar as suggested_policy,
        f.suggested_policy_verification::varchar as suggested_policy_verification,
        p.as_of
    from fired as f
    inner join rules as r on r.rule_id = f.rule_id
    cross join params as p
)

select * from final
