-- det_unused_role
-- Rule unused-role: a role (not service-linked) nobody used in the `unused_days` days ending on
-- the as-of date: its RoleLastUsed (snapshot) is older or absent and CloudTrail credits it no
-- successful call in that period. A role created inside the period (or of unknown age) is
-- `insufficient_history`, never unused. `AWSReservedSSO_*` roles are managed by IAM Identity
-- Center: the evidence says so and where to fix them.
-- Not judged in an account whose CloudTrail has a gap in the window (int_account_cloudtrail_gaps):
-- no use seen there is no evidence of no use (rule cloudtrail-coverage-gap reports the gap).
-- grain: resource_arn

with roles as (
    select * from int_identities
    where principal_type = 'role' and not is_service_linked
),

activity as (
    select * from int_principal_activity
),

role_details as (
    select arn, role_last_used_region from raw_iam_roles
),

gap_accounts as (
    select account_id from int_account_cloudtrail_gaps
),

params as (
    select * from run_params
),

judged as (
    select
        r.principal_arn,
        r.account_id,
        r.name,
        r.created_at,
        r.is_sso_reserved,
        a.role_last_used_at,
        d.role_last_used_region,
        a.last_event_at,
        greatest(a.role_last_used_at, a.last_event_at) as last_used_at
    from roles as r
    left join activity as a on a.principal_arn = r.principal_arn
    left join role_details as d on d.arn = r.principal_arn
),

final as (
    select
        'unused-role' as rule_id,
        j.principal_arn as resource_arn,
        'iam_role' as resource_type,
        j.account_id,
        j.principal_arn,
        'IAM role ' || j.name || ' '
            || case when j.last_used_at is null then 'has no recorded use'
                else 'has not been used in ' || p.unused_days || ' days' end as title,
        to_json({
            'unused_days': p.unused_days,
            'unused_since': p.unused_since_at::date,
            'as_of': p.as_of,
            'created_at': j.created_at,
            'role_last_used_at': j.role_last_used_at,
            'role_last_used_region': j.role_last_used_region,
            'last_event_at': j.last_event_at,
            'managed_by': case when j.is_sso_reserved then 'iam-identity-center' end,
            'remediation': case
                when j.is_sso_reserved then 'fix it in the IAM Identity Center permission set'
            end
        })::varchar as evidence
    from judged as j
    cross join params as p
    where (j.last_used_at is null or j.last_used_at < p.unused_since_at)
        and j.account_id not in (select account_id from gap_accounts)
        and j.created_at <= p.unused_since_at
)

select * from final
