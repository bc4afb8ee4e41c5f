-- det_large_permissions_gap
-- Rule large-permissions-gap: an active user or role (not service-linked, existing for the whole
-- window, at least one successful call in it) that left more than `gap_threshold` (40% by
-- default) of its observable granted actions unused in the window. Unobservable actions are
-- left out of the denominator; the evidence carries the counts and the catalog version.
-- Inactive identities are reported by inactive-identity instead.
-- grain: resource_arn

with identities as (
    select * from int_identities
    where principal_type in ('user', 'role') and not is_service_linked
),

usage_summary as (
    select * from int_principal_usage_summary
),

activity as (
    select * from int_principal_activity
),

used_by_service as (
    select principal_arn, service, list_sort(list(action_name)) as actions
    from permission_insights
    where usage_status = 'used'
    group by principal_arn, service
),

used_actions as (
    select
        principal_arn,
        map_from_entries(list({'k': service, 'v': actions} order by service)) as by_service
    from used_by_service
    group by principal_arn
),

params as (
    select * from run_params
),

final as (
    select
        'large-permissions-gap' as rule_id,
        i.principal_arn as resource_arn,
        'iam_' || i.principal_type as resource_type,
        i.account_id,
        i.principal_arn,
        'IAM ' || i.principal_type || ' ' || i.name || ' left '
            || round(100 * s.gap_ratio)::integer || '% of its permissions unused in '
            || p.window_days || ' days' as title,
        to_json({
            'granted_actions': s.granted_actions,
            'observable_granted_actions': s.observable_granted_actions,
            'used_actions': s.used_actions,
            'unused_actions': s.unused_actions,
            'unobservable_actions': s.unobservable_actions,
            'gap_ratio': round(s.gap_ratio, 4),
            'threshold': p.gap_threshold,
            'window_start': p.window_start,
            'window_end': p.as_of,
            'catalog_version': s.catalog_version,
            'used_actions_by_service': u.by_service
        })::varchar as evidence
    from identities as i
    cross join params as p
    inner join usage_summary as s on s.principal_arn = i.principal_arn
    inner join activity as a on a.principal_arn = i.principal_arn
    left join used_actions as u on u.principal_arn = i.principal_arn
    where i.created_at <= p.window_start_at
        and a.successful_events_in_window > 0
        and s.gap_ratio > p.gap_threshold
)

select * from final
