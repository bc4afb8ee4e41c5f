-- det_root_account_used
-- Rule root-account-used: the account's root user was used in the run's window: a successful
-- CloudTrail call by userIdentity type Root (console sign-in, session or access key; not an AWS
-- service acting as root: `invokedBy`, AwsServiceEvent), or the
-- credential report's `<root_account>` row shows its password or an access key used inside the
-- window.
-- grain: resource_arn

with credentials as (
    select * from raw_credential_report where user = '<root_account>'
),

root_keys as (
    select * from int_access_keys where is_root
),

root_calls as (
    select * from int_credential_usage where principal_type = 'root'
),

params as (
    select * from run_params
),

report_use as (
    select
        c.arn,
        c.account_id,
        c.password_last_used,
        max(k.last_used_at) as access_key_last_used,
        -- Each key on its own: one may be used in the window and another after it.
        coalesce(bool_or(
            k.last_used_at >= p.window_start_at and k.last_used_at < p.window_end_at
        ), false) as access_key_used_in_window
    from credentials as c
    cross join params as p
    left join root_keys as k on k.arn = c.arn
    group by c.arn, c.account_id, c.password_last_used
),

cloudtrail_use as (
    select
        principal_arn as arn,
        split_part(principal_arn, ':', 5) as account_id,
        sum(successful_calls_in_window)::bigint as successful_calls_in_window,
        max(last_used_at) as last_event_at,
        list_sort(list_distinct(flatten(list(event_names))))[1:10] as event_names,
        list_sort(list(credential_type)) as credential_types
    from root_calls
    group by principal_arn
),

roots as (
    select
        coalesce(r.arn, c.arn) as arn,
        coalesce(r.account_id, c.account_id) as account_id,
        r.password_last_used,
        r.access_key_last_used,
        coalesce(r.access_key_used_in_window, false) as access_key_used_in_window,
        coalesce(c.successful_calls_in_window, 0) as successful_calls_in_window,
        c.last_event_at,
        c.event_names,
        c.credential_types
    from report_use as r
    full outer join cloudtrail_use as c on c.arn = r.arn
),

final as (
    select
        'root-account-used' as rule_id,
        r.arn as resource_arn,
        'aws_account' as resource_type,
        r.account_id,
        r.arn as principal_arn,
        'The root user of account ' || r.account_id || ' was used in the last '
            || p.window_days || ' days' as title,
        to_json({
            'window_start': p.window_start,
            'window_end': p.as_of,
            'password_last_used': r.password_last_used,
            'access_key_last_used': r.access_key_last_used,
            'successful_calls_in_window': r.successful_calls_in_window,
            'last_event_at': r.last_event_at,
            'event_names': r.event_names,
            'credential_types': r.credential_types
        })::varchar as evidence
    from roots as r
    cross join params as p
    where r.successful_calls_in_window > 0
        or (r.password_last_used >= p.window_start_at and r.password_last_used < p.window_end_at)
        or r.access_key_used_in_window
)

select * from final
