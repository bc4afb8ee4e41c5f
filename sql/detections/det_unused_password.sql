-- det_unused_password
-- Rule unused-password: an IAM user with a console password (credential report
-- `password_enabled`) that nobody signed in with in the `unused_days` days ending on the as-of
-- date: the report's `password_last_used` is older or absent ('no_information': never used, or
-- not since October 2014) and CloudTrail shows no successful ConsoleLogin in that period. A
-- password set (user created, or password last changed) inside the period that was not used
-- since is `insufficient_history`, never unused.
-- Not judged in an account whose CloudTrail has a gap in the window (int_account_cloudtrail_gaps):
-- no use seen there is no evidence of no use (rule cloudtrail-coverage-gap reports the gap).
-- grain: resource_arn

with credentials as (
    select * from raw_credential_report
    where user != '<root_account>' and password_enabled
),

sign_ins as (
    select * from int_credential_usage
    where credential_type = 'password' and principal_type = 'user'
),

gap_accounts as (
    select account_id from int_account_cloudtrail_gaps
),

params as (
    select * from run_params
),

judged as (
    select
        c.account_id,
        c.user as user_name,
        c.arn,
        c.user_creation_time,
        c.password_last_changed,
        c.password_last_used,
        s.last_used_at as last_console_login_at,
        greatest(c.user_creation_time, c.password_last_changed) as password_set_at,
        greatest(c.password_last_used, s.last_used_at) as last_used_at
    from credentials as c
    left join sign_ins as s on s.principal_arn = c.arn
),

final as (
    select
        'unused-password' as rule_id,
        j.arn as resource_arn,
        'iam_user' as resource_type,
        j.account_id,
        j.arn as principal_arn,
        'IAM user ' || j.user_name || ' has a console password '
            || case when j.last_used_at is null then 'that was never used'
                else 'not used in ' || p.unused_days || ' days' end as title,
        to_json({
            'unused_days': p.unused_days,
            'unused_since': p.unused_since_at::date,
            'as_of': p.as_of,
            'user_created_at': j.user_creation_time,
            'password_last_changed': j.password_last_changed,
            'password_last_used': j.password_last_used,
            'last_console_login_at': j.last_console_login_at
        })::varchar as evidence
    from judged as j
    cross join params as p
    where (j.last_used_at is null or j.last_used_at < p.unused_since_at)
        and j.account_id not in (select account_id from gap_accounts)
        and j.password_set_at <= p.unused_since_at
)

select * from final
