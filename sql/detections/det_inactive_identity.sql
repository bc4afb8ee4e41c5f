-- det_inactive_identity
-- Rule inactive-identity: a user or role (not service-linked) that existed for the whole window
-- and shows no sign of use in it: no successful CloudTrail call credited to it, and no console
-- sign-in, access-key use or RoleLastUsed inside the window either. Identities younger than the
-- window (`usage_history` insufficient_history) are not judged. AWSReservedSSO_* roles are
-- managed by IAM Identity Center: the evidence says to fix the permission set instead.
-- Not judged in an account whose CloudTrail has a gap in the window (int_account_cloudtrail_gaps):
-- no use seen there is no evidence of no use (rule cloudtrail-coverage-gap reports the gap).
-- grain: resource_arn

with identities as (
    select * from int_identities
    where principal_type in ('user', 'role') and not is_service_linked
),

activity as (
    select * from int_principal_activity
),

gap_accounts as (
    select account_id from int_account_cloudtrail_gaps
),

params as (
    select * from run_params
),

final as (
    select
        'inactive-identity' as rule_id,
        i.principal_arn as resource_arn,
        'iam_' || i.principal_type as resource_type,
        i.account_id,
        i.principal_arn,
        'IAM ' || i.principal_type || ' ' || i.name || ' has not been used in '
            || p.window_days || ' days' as title,
        json_merge_patch(
            to_json({
                'window_days': p.window_days,
                'window_start': p.window_start,
                'window_end': p.as_of,
                'created_at': i.created_at,
                'usage_history': a.usage_history,
                'last_activity_at': a.last_activity_at,
                'last_event_at': a.last_event_at,
                'password_last_used': a.password_last_used,
                'access_key_last_used': a.access_key_last_used,
                'role_last_used_at': a.role_last_used_at
            }),
            case
                when i.is_sso_reserved then to_json({
                    'managed_by': 'iam-identity-center',
                    'remediation': 'fix it in the IAM Identity Center permission set'
                })
                else '{}'::json
            end
        )::varchar as evidence
    from identities as i
    cross join params as p
    inner join activity as a on a.principal_arn = i.principal_arn
    where a.usage_history = 'complete'
        and i.account_id not in (select account_id from gap_accounts)
        and a.successful_events_in_window = 0
        and (a.password_last_used is null or a.password_last_used < p.window_start_at)
        and (a.access_key_last_used is null or a.access_key_last_used < p.window_start_at)
        and (a.role_last_used_at is null or a.role_last_used_at < p.window_start_at)
)

select * from final
