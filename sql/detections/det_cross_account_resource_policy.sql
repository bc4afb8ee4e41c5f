-- det_cross_account_resource_policy
-- Rule cross-account-resource-policy: an S3 bucket, KMS key, SQS queue, SNS topic, Lambda
-- function or Secrets Manager secret whose resource policy allows a principal or account other
-- than the resource's own account (by account id, root ARN or a user/role ARN of that account;
-- grants to anyone are the public rule's), or an Allow to anyone whose restricting condition
-- names another account (`via: condition:<key>`) or another organization
-- (`external_organizations`; high). Conditional grants count (the evidence keeps their
-- condition keys); grants an unconditional Deny of the same policy takes back do not. The
-- evidence lists each external account, whether it is in the organization (raw_org_accounts),
-- the perimeter Deny statements of the policy that also restrict its grants
-- (`perimeter_deny_statements`, `restricted_by_deny` of int_resource_policy_grants: the account's
-- callers get through only if those Denies' conditions name them), and its severity (column and
-- `assessed_severity`): `high` when an account outside the organization or another
-- organization is granted, else `medium`.
-- grain: resource_arn

with grants as (
    select * from int_resource_policy_grants
    where policy_kind = 'resource'
        and effect = 'Allow'
        and not denied_unconditionally
        and resource_type in (
            's3_bucket', 'kms_key', 'sqs_queue', 'sns_topic', 'lambda_function',
            'secretsmanager_secret'
        )
),

account_grants as (
    -- Accounts a principal names...
    select
        resource_arn,
        principal_account_id as account_id,
        principal_in_organization as in_organization,
        principal,
        'principal' as via,
        statement_index,
        action,
        is_conditional,
        condition_keys,
        restricted_by_deny
    from grants
    where is_cross_account

    union all

    -- ...and accounts a restricting condition of an Allow to anyone names.
    select
        g.resource_arn,
        c.account_id,
        c.in_organization,
        g.principal,
        'condition:' || c.condition_key as via,
        g.statement_index,
        g.action,
        g.is_conditional,
        g.condition_keys,
        g.restricted_by_deny
    from grants as g, unnest(g.condition_accounts) as u(c)
    where c.account_id <> g.resource_account_id
),

organization_grants as (
    -- Other organizations a restricting condition of an Allow to anyone names.
    select
        g.resource_arn,
        c.organization_id,
        'condition:' || c.condition_key as via,
        g.statement_index,
        g.action,
        g.condition_keys,
        g.restricted_by_deny
    from grants as g, unnest(g.condition_organizations) as u(c)
    where not c.is_own_organization
),

per_account as (
    select
        resource_arn,
        account_id,
        any_value(in_organization) as in_organization,
        list(distinct principal order by principal) as principals,
        list(distinct via order by via) as via,
        list(distinct statement_index order by statement_index) as statements,
        list(distinct action order by action) as actions,
        bool_and(is_conditional) as conditional,
        list_sort(list_distinct(flatten(list(condition_keys)))) as condition_keys,
        list_sort(list_distinct(flatten(list(
            list_transform(restricted_by_deny, lambda d: d.statement)
        )))) as perimeter_deny_statements
    from account_grants
    group by resource_arn, account_id
),

per_organization as (
    select
        resource_arn,
        organization_id,
        list(distinct via order by via) as via,
        list(distinct statement_index order by statement_index) as statements,
        list(distinct action order by action) as actions,
        list_sort(list_distinct(flatten(list(condition_keys)))) as condition_keys,
        list_sort(list_distinct(flatten(list(
            list_transform(restricted_by_deny, lambda d: d.statement)
        )))) as perimeter_deny_statements
    from organization_grants
    group by resource_arn, organization_id
),

per_resource as (
    select
        g.resource_arn,
        any_value(g.resource_type) as resource_type,
        any_value(g.resource_label) as resource_label,
        any_value(g.resource_name) as resource_name,
        any_value(g.resource_account_id) as account_id,
        any_value(g.region) as region
    from grants as g
    group by g.resource_arn
),

accounts as (
    select
        resource_arn,
        list({
            'account_id': account_id,
            'in_organization': in_organization,
            'principals': principals,
            'via': via,
            'statements': statements,
            'actions': actions,
            'action_count': len(actions),
            'conditional': conditional,
            'condition_keys': condition_keys,
            'perimeter_deny_statements': perimeter_deny_statements
        } order by account_id) as external_accounts,
        list(account_id order by account_id)
            filter (where not in_organization) as outside_organization,
        count(*) as account_count
    from per_account
    group by resource_arn
),

organizations as (
    select
        resource_arn,
        list({
            'organization_id': organization_id,
            'via': via,
            'statements': statements,
            'actions': actions,
            'action_count': len(actions),
            'condition_keys': condition_keys,
            'perimeter_deny_statements': perimeter_deny_statements
        } order by organization_id) as external_organizations,
        count(*) as organization_count
    from per_organization
    group by resource_arn
),

granted as (
    select
        r.*,
        coalesce(a.external_accounts, []) as external_accounts,
        coalesce(a.outside_organization, []) as outside_organization,
        coalesce(a.account_count, 0) as account_count,
        coalesce(o.external_organizations, []) as external_organizations,
        coalesce(o.organization_count, 0) as organization_count,
        case
            when len(coalesce(a.outside_organization, [])) > 0 or o.organization_count > 0
                then 'high'
            else 'medium'
        end as assessed_severity
    from per_resource as r
    left join accounts as a on a.resource_arn = r.resource_arn
    left join organizations as o on o.resource_arn = r.resource_arn
    where a.resource_arn is not null or o.resource_arn is not null
),

final as (
    select
        'cross-account-resource-policy' as rule_id,
        resource_arn,
        resource_type,
        account_id,
        null::varchar as principal_arn,
        assessed_severity as severity,
        resource_label || ' ' || resource_name || ' grants access to '
        || case
            when account_count > 0
                then account_count || ' other account(s)'
                || case
                    when len(outside_organization) > 0
                        then ', ' || len(outside_organization) || ' outside the organization'
                    else ''
                end
            else ''
        end
        || case when account_count > 0 and organization_count > 0 then ' and ' else '' end
        || case
            when organization_count > 0 then organization_count || ' other organization(s)'
            else ''
        end as title,
        to_json({
            'resource_name': resource_name,
            'region': region,
            'assessed_severity': assessed_severity,
            'outside_organization_accounts': outside_organization,
            'external_accounts': external_accounts,
            'external_organizations': external_organizations
        })::varchar as evidence
    from granted
)

select * from final
