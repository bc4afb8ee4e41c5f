-- identity_risks_by_resource
-- The explorer's "Group by: Resources": one row per resource with open detections, its rules
-- and its highest severity.
-- grain: resource_arn
-- materialized: view

with open_detections as (
    select * from detections where status = 'open'
),

final as (
    select
        resource_arn,
        any_value(resource_type) as resource_type,
        any_value(account_id) as account_id,
        count(*) as open_detections,
        list_sort(list(rule_id)) as rule_ids,
        case min(
            case severity
                when 'critical' then 1
                when 'high' then 2
                when 'medium' then 3
                when 'low' then 4
                else 5
            end
        )
            when 1 then 'critical'
            when 2 then 'high'
            when 3 then 'medium'
            when 4 then 'low'
            else 'info'
        end as max_severity
    from open_detections
    group by resource_arn
)

select * from final
