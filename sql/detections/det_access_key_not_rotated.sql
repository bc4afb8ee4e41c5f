-- det_access_key_not_rotated
-- Rule access-key-not-rotated: an IAM user with an active access key created (or last rotated,
-- the credential report's `access_key_N_last_rotated`) more than `key_rotation_days` days
-- before the end of the as-of date. Root keys are root-access-key-present's. One row per user;
-- the evidence lists the keys due.
-- grain: resource_arn

with keys as (
    select * from int_access_keys where is_active and not is_root
),

params as (
    select *, window_end_at - to_days(key_rotation_days) as rotation_due_at
    from run_params
),

due as (
    select
        k.arn,
        any_value(k.account_id) as account_id,
        any_value(k.user_name) as user_name,
        count(*) as keys_due,
        list({
            'key': 'access_key_' || k.key_slot,
            'created_at': k.created_at,
            'age_days': date_diff('day', k.created_at::date, p.as_of),
            'last_used_at': k.last_used_at
        } order by k.key_slot) as access_keys
    from keys as k
    cross join params as p
    where k.created_at < p.rotation_due_at
    group by k.arn
),

final as (
    select
        'access-key-not-rotated' as rule_id,
        d.arn as resource_arn,
        'iam_user' as resource_type,
        d.account_id,
        d.arn as principal_arn,
        'IAM user ' || d.user_name || ' has '
            || case when d.keys_due = 1 then 'an active access key'
                else d.keys_due || ' active access keys' end
            || ' older than ' || p.key_rotation_days || ' days' as title,
        to_json({
            'key_rotation_days': p.key_rotation_days,
            'as_of': p.as_of,
            'access_keys': d.access_keys
        })::varchar as evidence
    from due as d
    cross join params as p
)

select * from final
