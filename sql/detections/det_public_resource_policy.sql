-- det_public_resource_policy
-- Rule public-resource-policy: an S3 bucket, KMS key, SQS queue, SNS topic, Lambda function or
-- Secrets Manager secret whose resource policy allows anyone (`"Principal": "*"` or
-- `{"AWS": "*"}`) without a condition that restricts the caller (see int_resource_policy_grants
-- for the keys), no perimeter Deny of the same policy restricts the grant to named callers
-- (`restricted_by_deny`: a Deny to anyone with e.g. `StringNotEqualsIfExists
-- aws:PrincipalOrgID`, per action) and no unconditional Deny takes it back. The evidence names
-- the statements and the public actions; `perimeter_denies` lists the perimeter Deny statements
-- that restrict others of the resource's grants to anyone, with those actions (empty when none).
-- Severity (column and `assessed_severity`): `critical` when anyone may write or manage
-- permissions (access level Write or Permissions management), else `high`.
-- grain: resource_arn

with grants as (
    select * from int_resource_policy_grants
    where policy_kind = 'resource'
        and is_public
        and not denied_unconditionally
        and resource_type in (
            's3_bucket', 'kms_key', 'sqs_queue', 'sns_topic', 'lambda_function',
            'secretsmanager_secret'
        )
),

statements as (
    select * from stg_policy_statements
),

perimeter_grants as (
    -- Grants to anyone that only a perimeter Deny restricts.
    select g.resource_arn, g.action, u.d
    from int_resource_policy_grants as g,
        unnest(g.restricted_by_deny) as u(d)
    where g.policy_kind = 'resource'
        and g.effect = 'Allow'
        and g.principal_scope = 'anyone'
        and len(g.restricting_condition_keys) = 0
        and not g.denied_unconditionally
),

perimeter as (
    select
        resource_arn,
        list({
            'statement': statement,
            'sid': sid,
            'condition_keys': condition_keys,
            'exempts_aws_services': exempts_aws_services,
            'restricted_actions': actions
        } order by statement) as perimeter_denies
    from (
        select
            resource_arn,
            d.statement as statement,
            d.sid as sid,
            d.condition_keys as condition_keys,
            d.exempts_aws_services as exempts_aws_services,
            list(distinct action order by action) as actions
        from perimeter_grants
        group by all
    )
    group by resource_arn
),

granting_statements as (
    select
        g.resource_arn,
        list({
            'statement': s.statement_index,
            'sid': s.sid,
            'action': s.actions,
            'not_action': s.not_actions,
            'resource': s.resources,
            'not_resource': s.not_resources,
            'condition_keys': s.condition_keys
        } order by s.statement_index) as statements
    from (select distinct resource_arn, policy_key, statement_index from grants) as g
    inner join statements as s
        on s.policy_key = g.policy_key
        and s.statement_index = g.statement_index
    group by g.resource_arn
),

per_resource as (
    select
        resource_arn,
        any_value(resource_type) as resource_type,
        any_value(resource_label) as resource_label,
        any_value(resource_name) as resource_name,
        any_value(resource_account_id) as account_id,
        any_value(region) as region,
        list(distinct action order by action) as actions,
        list(distinct access_level order by access_level)
            filter (where access_level is not null) as access_levels,
        bool_or(access_level in ('Write', 'Permissions management')) as grants_write
    from grants
    group by resource_arn
),

final as (
    select
        'public-resource-policy' as rule_id,
        r.resource_arn,
        r.resource_type,
        r.account_id,
        null::varchar as principal_arn,
        case when r.grants_write then 'critical' else 'high' end as severity,
        r.resource_label || ' ' || r.resource_name
        || ' is public: its resource policy lets anyone call ' || len(r.actions) || ' action(s)'
        || case when r.grants_write then ', including write actions' else '' end
            as title,
        to_json({
            'resource_name': r.resource_name,
            'region': r.region,
            'assessed_severity': case when r.grants_write then 'critical' else 'high' end,
            'access_levels': r.access_levels,
            'public_actions': r.actions,
            'public_action_count': len(r.actions),
            'statements': s.statements,
            'perimeter_denies': coalesce(p.perimeter_denies, [])
        })::varchar as evidence
    from per_resource as r
    inner join granting_statements as s on s.resource_arn = r.resource_arn
    left join perimeter as p on p.resource_arn = r.resource_arn
)

select * from final
