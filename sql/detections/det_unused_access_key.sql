-- det_unused_access_key
-- Rule unused-access-key: an IAM user with an active access key that no one used in the
-- `unused_days` days ending on the as-of date: the credential report's last use is older (or
-- 'N/A': never used) and CloudTrail shows no call signed with it. Keys created inside that
-- period are `insufficient_history`, never unused. The report does not name key ids, so
-- CloudTrail use is matched by count: when the user's calls show more distinct long-term key
-- ids than the report has keys used in the period, any of its keys may have made them and none
-- is reported. Root keys are root-access-key-present's. One row per user; the evidence lists
-- every active key.
-- Not judged in an account whose CloudTrail has a gap in the window (int_account_cloudtrail_gaps):
-- no use seen there is no evidence of no use (rule cloudtrail-coverage-gap reports the gap).
-- grain: resource_arn

with keys as (
    select * from int_access_keys where is_active and not is_root
),

key_calls as (
    select * from int_credential_usage
    where credential_type = 'access_key' and principal_type = 'user'
),

gap_accounts as (
    select account_id from int_account_cloudtrail_gaps
),

params as (
    select * from run_params
),

keys_judged as (
    select
        k.*,
        case
            when k.last_used_at >= p.unused_since_at then 'used'
            when coalesce(k.created_at, k.user_created_at) is null
                or coalesce(k.created_at, k.user_created_at) > p.unused_since_at
                then 'insufficient_history'
            else 'unused'
        end as status
    from keys as k
    cross join params as p
),

cloudtrail_keys as (
    select
        c.principal_arn,
        count(*) as key_ids,
        list({
            'access_key_id': c.access_key_id,
            'successful_calls': c.successful_calls,
            'last_used_at': c.last_used_at
        } order by c.access_key_id) as access_keys
    from key_calls as c
    cross join params as p
    where c.last_used_at >= p.unused_since_at
    group by c.principal_arn
),

per_user as (
    select
        arn,
        any_value(account_id) as account_id,
        any_value(user_name) as user_name,
        count(*) filter (where status = 'used') as keys_used,
        count(*) filter (where status = 'unused') as keys_unused,
        list({
            'key': 'access_key_' || key_slot,
            'created_at': created_at,
            'last_used_at': last_used_at,
            'last_used_service': last_used_service,
            'last_used_region': last_used_region,
            'status': status
        } order by key_slot) as access_keys
    from keys_judged
    group by arn
),

final as (
    select
        'unused-access-key' as rule_id,
        u.arn as resource_arn,
        'iam_user' as resource_type,
        u.account_id,
        u.arn as principal_arn,
        'IAM user ' || u.user_name || ' has '
            || case when u.keys_unused = 1 then 'an active access key'
                else u.keys_unused || ' active access keys' end
            || ' not used in ' || p.unused_days || ' days' as title,
        to_json({
            'unused_days': p.unused_days,
            'unused_since': p.unused_since_at::date,
            'as_of': p.as_of,
            'access_keys': u.access_keys,
            'cloudtrail_access_keys': coalesce(c.access_keys, [])
        })::varchar as evidence
    from per_user as u
    cross join params as p
    left join cloudtrail_keys as c on c.principal_arn = u.arn
    where u.keys_unused > 0
        and u.account_id not in (select account_id from gap_accounts)
        and coalesce(c.key_ids, 0) <= u.keys_used
)

select * from final
