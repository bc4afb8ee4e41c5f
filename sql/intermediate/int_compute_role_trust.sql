-- int_compute_role_trust
-- Whether the compute that runs as a role can get the role's credentials: for every Lambda
-- function (its execution role, `lambda.amazonaws.com`) and EC2 instance not terminated (its
-- instance profile's role, `ec2.amazonaws.com`), what the role's trust policy says of that
-- service assuming the role for that compute. `trust_verdict`: 'true' (an Allow statement naming
-- the service for sts:AssumeRole holds: without a Condition, or with one decided true for this
-- compute in int_resource_condition_verdicts, e.g. `aws:SourceArn` matching the function),
-- 'unknown' (none holds, one is open: `condition_keys` the request keys it needs), 'false'
-- (every such statement's Condition is decided false for this compute: an `aws:SourceAccount`
-- or `aws:SourceArn` naming other resources, `aws:PrincipalIsAWSService` false; it cannot assume
-- the role), null (no Allow statement names the service, or the role's trust policy is not in
-- the snapshot: left as before, not decided here). Deny statements are not read.
-- https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html
-- https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/iam-roles-for-amazon-ec2.html
-- grain: compute_arn

with compute as (
    select
        function_arn as compute_arn,
        'lambda_function' as compute_type,
        account_id,
        role_arn,
        'lambda.amazonaws.com' as service
    from raw_lambda_functions
    where role_arn is not null
    union
    select
        i.arn,
        'ec2_instance',
        i.account_id,
        p.role_arn,
        'ec2.amazonaws.com'
    from raw_ec2_instances as i
    inner join raw_iam_instance_profiles as p on p.arn = i.instance_profile_arn
    where i.state is distinct from 'terminated' and p.role_arn is not null
),

trust_allows as (
    -- Allow statements of trust policies naming a service principal for sts:AssumeRole
    select
        resource_arn as role_arn,
        policy_key,
        statement_index,
        has_condition,
        list_transform(principal_services, lambda n: lower(n)) as services
    from stg_policy_statements
    where policy_kind = 'trust'
        and effect = 'Allow'
        and principal_services is not null
        and case
            when actions is not null then len(list_filter(
                actions,
                lambda a: 'sts:assumerole' like replace(replace(a, '*', '%'), '?', '_')
            )) > 0
            when not_actions is not null then len(list_filter(
                not_actions,
                lambda a: 'sts:assumerole' like replace(replace(a, '*', '%'), '?', '_')
            )) = 0
            else false
        end
),

statement_verdicts as (
    select
        c.compute_arn,
        case
            when not t.has_condition then 'true'
            else coalesce(v.verdict, 'unknown')
        end as verdict,
        case when t.has_condition then coalesce(v.condition_keys, []) else [] end
            as condition_keys
    from compute as c
    inner join trust_allows as t
        on t.role_arn = c.role_arn
        and list_contains(t.services, c.service)
    left join int_resource_condition_verdicts as v
        on v.policy_key = t.policy_key
        and v.statement_index = t.statement_index
        and v.principal_arn = c.compute_arn
),

decided as (
    select
        compute_arn,
        case
            when bool_or(verdict = 'true') then 'true'
            when bool_or(verdict = 'unknown') then 'unknown'
            else 'false'
        end as trust_verdict,
        case
            when bool_or(verdict = 'true') then []::varchar[]
            else list_sort(list_distinct(flatten(list(condition_keys))))
        end as condition_keys
    from statement_verdicts
    group by compute_arn
),

final as (
    select
        c.compute_arn,
        c.compute_type,
        c.account_id,
        c.role_arn,
        c.service,
        d.trust_verdict,
        coalesce(d.condition_keys, []::varchar[]) as condition_keys
    from compute as c
    left join decided as d on d.compute_arn = c.compute_arn
)

select * from final
