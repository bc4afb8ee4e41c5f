-- det_large_permissions_gap
-- Rule large-permissions-gap: an active user or role (not service-linked, existing for the whole
-- window — `usage_history` complete —, at least one successful call in it) that left more than
-- `gap_threshold` (40% by default) of its observable granted actions unused in the window
-- (`window_days`, 15 by default). Unobservable actions are left out of the denominator; the
-- title and the evidence carry the counts, the denominator and the catalog version. Inactive
-- identities are reported by inactive-identity instead. Each detection carries the suggested
-- least-privilege policy (int_suggested_policies) and the result of replaying the window's
-- successful calls through it (int_suggested_policy_verification). AWSReservedSSO_* roles are
-- managed by IAM Identity Center: the evidence says to fix the permission set instead.
-- Not judged in an account whose CloudTrail has a gap in the window (int_account_cloudtrail_gaps):
-- no use seen there is no evidence of no use (rule cloudtrail-coverage-gap reports the gap).
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

suggestions as (
    select * from int_suggested_policies
),

verifications as (
    select * from int_suggested_policy_verification
),

gap_accounts as (
    select account_id from int_account_cloudtrail_gaps
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
        'IAM ' || i.principal_type || ' ' || i.name || ' left ' || s.unused_actions || ' of its '
            || s.observable_granted_actions || ' observable permissions ('
            || round(100 * s.gap_ratio)::integer || '%) unused in ' || p.window_days
            || ' days' as title,
        json_merge_patch(
            to_json({
                'granted_actions': s.granted_actions,
                'observable_granted_actions': s.observable_granted_actions,
                'used_actions': s.used_actions,
                'unused_actions': s.unused_actions,
                'unobservable_actions': s.unobservable_actions,
                'gap_ratio': round(s.gap_ratio, 4),
                'gap_denominator': 'observable_granted_actions',
                'threshold': p.gap_threshold,
                'window_days': p.window_days,
                'window_start': p.window_start,
                'window_end': p.as_of,
                'usage_history': a.usage_history,
                'catalog_version': s.catalog_version,
                'used_actions_by_service': u.by_service,
                'not_in_suggested_policy': {
                    'unobservable_actions': g.unobservable_actions,
                    'conditional_used_actions': g.conditional_used_actions,
                    'note': 'CloudTrail cannot show the unobservable actions (iam:PassRole, '
                        || 'unrecorded data events): add back those the workload needs, on the '
                        || 'narrowest resources. Conditional grants are suggested without '
                        || 'their Condition: copy it from the granting statement.'
                }
            }),
            case
                when i.is_sso_reserved then to_json({
                    'managed_by': 'iam-identity-center',
                    'remediation': 'fix it in the IAM Identity Center permission set'
                })
                else '{}'::json
            end
        )::varchar as evidence,
        g.suggested_policy,
        v.verification as suggested_policy_verification
    from identities as i
    cross join params as p
    inner join usage_summary as s on s.principal_arn = i.principal_arn
    inner join activity as a on a.principal_arn = i.principal_arn
    left join used_actions as u on u.principal_arn = i.principal_arn
    left join suggestions as g on g.principal_arn = i.principal_arn
    left join verifications as v on v.principal_arn = i.principal_arn
    where a.usage_history = 'complete'
        and i.account_id not in (select account_id from gap_accounts)
        and a.successful_events_in_window > 0
        and s.gap_ratio > p.gap_threshold
)

select * from final
