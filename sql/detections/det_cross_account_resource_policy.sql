-- det_cross_account_resource_policy
-- Rule cross-account-resource-policy: an S3 bucket, KMS key, SQS queue, SNS topic, Lambda
-- function or Secrets Manager secret whose resource policy allows a principal or account other
-- than the resource's own account (by account id, root ARN or a user/role ARN of that account;
-- grants to anyone are the public rule's). Conditional grants count (the evidence keeps their
-- condition keys); grants an unconditional Deny of the same policy takes back do not. The
-- evidence lists each external account, whether it is in the organization (raw_org_accounts),
-- the perimeter Deny statements of the policy that also restrict its grants
-- (`perimeter_deny_statements`, `restricted_by_deny` of int_resource_policy_grants: the account's
-- callers get through only if those Denies' conditions name them), and its severity (column and
-- `assessed_severity`): `high` when an account outside the organization is granted, else
-- `medium`.
-- grain: resource_arn

with grants as (
    select * from int_resource_policy_grants
    where policy_kind = 'resource'
        and effect = 'Allow'
        and is_cross_account
        and not denied_unconditionally
        and resource_type in (
            's3_bucket', 'kms_key', 'sqs_queue', 'sns_topic', 'lambda_function',
            'secretsmanager_secret'
        )
),

per_account as (
    select
        resource_arn,
        principal_account_id,
        any_value(principal_in_organization) as in_organization,
        list(distinct principal order by principal) as principals,
        list(distinct statement_index order by statement_index) as statements,
        list(distinct action order by action) as actions,
        bool_and(is_conditional) as conditional,
        list_sort(list_distinct(flatten(list(condition_keys)))) as condition_keys,
        list_sort(list_distinct(flatten(list(
            list_transform(restricted_by_deny, lambda d: d.statement)
        )))) as perimeter_deny_statements
    from grants
    group by resource_arn, principal_account_id
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
            'account_id': principal_account_id,
            'in_organization': in_organization,
            'principals': principals,
            'statements': statements,
            'actions': actions,
            'action_count': len(actions),
            'conditional': conditional,
            'condition_keys': condition_keys,
            'perimeter_deny_statements': perimeter_deny_statements
        } order by principal_account_id) as external_accounts,
        list(principal_account_id order by principal_account_id)
            filter (where not in_organization) as outside_organization,
        count(*) as account_count
    from per_account
    group by resource_arn
),

final as (
    select
        'cross-account-resource-policy' as rule_id,
        r.resource_arn,
        r.resource_type,
        r.account_id,
        null::varchar as principal_arn,
        case
            when len(coalesce(a.outside_organization, [])) > 0 then 'high' else 'medium'
        end as severity,
        r.resource_label || ' ' || r.resource_name || ' grants access to ' || a.account_count
        || ' other account(s)'
        || case
            when len(coalesce(a.outside_organization, [])) > 0
                then ', ' || len(a.outside_organization) || ' outside the organization'
            else ''
        end as title,
        to_json({
            'resource_name': r.resource_name,
            'region': r.region,
            'assessed_severity': case
                when len(coalesce(a.outside_organization, [])) > 0 then 'high' else 'medium'
            end,
            'outside_organization_accounts': coalesce(a.outside_organization, []),
            'external_accounts': a.external_accounts
        })::varchar as evidence
    from per_resource as r
    inner join accounts as a on a.resource_arn = r.resource_arn
)

select * from final
