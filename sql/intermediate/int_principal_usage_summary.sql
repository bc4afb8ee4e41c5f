-- int_principal_usage_summary
-- Per user and role: how many actions are granted, used, unused and unobservable in the
-- window, and the gap (unused share of the observable granted actions) with its denominator.
-- grain: principal_arn

with insights as (
    select * from permission_insights
),

final as (
    select
        principal_arn,
        count(*) as granted_actions,
        count(*) filter (where usage_status = 'used') as used_actions,
        count(*) filter (where usage_status = 'unused') as unused_actions,
        count(*) filter (where usage_status = 'unobservable') as unobservable_actions,
        count(*) filter (where usage_status != 'unobservable') as observable_granted_actions,
        count(*) filter (where usage_status = 'unused')::double
            / nullif(count(*) filter (where usage_status != 'unobservable'), 0) as gap_ratio,
        any_value(catalog_version) as catalog_version
    from insights
    group by principal_arn
)

select * from final
