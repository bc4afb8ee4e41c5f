-- int_resource_condition_facts
-- For every statement with a Condition of a resource-based or role trust policy (S3 bucket, KMS
-- key, Lambda, SQS, SNS, Secrets Manager, trust) and every user and role of the snapshot its
-- Principal (or NotPrincipal) covers, the snapshot facts its Condition reads, as the JSON the
-- condition evaluator takes (pipelines/lib/warehouse/condition_verdicts.py, as `ciem explain`
-- builds them in pipelines/lib/serve/facts.py): the principal's ARN, name, unique id and tags
-- only when the Condition reads `aws:PrincipalArn`, `aws:username`, `aws:userid` or
-- `aws:PrincipalTag/*` (as a key or a policy variable in a value); its account for `aws:PrincipalAccount`; its
-- organization membership and path for `aws:PrincipalOrgID`/`aws:PrincipalOrgPaths`; its type
-- for `aws:PrincipalType`. Unread facts are blanked, so principals that look the same to a
-- Condition share one `facts_json` and int_resource_condition_fact_verdicts decides it once
-- (a `"Principal": "*"` statement on `aws:PrincipalOrgID` is decided twice: members and
-- the rest). The resource's facts: `aws:ResourceAccount` (the ARN's account, else the bucket's
-- owner from s3/list-buckets.json or its policy's account), `aws:ResourceOrgID`/`OrgPaths`, and
-- `aws:ResourceTag/*` where the snapshot collects its tags (a trust policy's role).
-- `principal_match` is how the Principal covers the principal, as explain reads it: `named`
-- (its ARN; a NotPrincipal statement that does not list it), `session` (a session of the role,
-- or `*` for a role), `wildcard` (`*` for a user), `account` (its account's root or id). A
-- NotPrincipal Deny covers every principal with a permissions boundary
-- (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html).
-- A role's trust statement naming the service principal of compute that runs as the role (a
-- Lambda function of list-functions: `lambda.amazonaws.com`, its execution role; an EC2 instance
-- not terminated: `ec2.amazonaws.com`, its instance profile's role) has a row per such compute:
-- `principal_arn` the function's or instance's ARN, `principal_match` 'service'. The service
-- assumes the role for that compute: aws:PrincipalIsAWSService is true, aws:PrincipalServiceName
-- the service; Lambda sets aws:SourceAccount (the function's account) and aws:SourceArn (the
-- function's ARN) when it assumes the execution role
-- (https://docs.aws.amazon.com/lambda/latest/dg/permissions-managed-policies.html); AWS does
-- not document whether EC2 sets them for an instance profile's role, so they stay open there,
-- as do the principal's other keys (see condition_verdicts.service_facts).
-- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
-- grain: policy_key, statement_index, principal_arn

with conditional as (
    select
        *,
        -- the keys it reads: its condition keys and the policy variables in its values
        list_distinct(list_concat(
            condition_keys,
            list_transform(
                regexp_extract_all(condition_json, '\$\{\s*([^},\s]*)', 1), lambda v: lower(v)
            )
        )) as keys_read
    from stg_policy_statements
    where policy_kind in ('resource', 'trust') and has_condition
),

statements as (
    select
        s.policy_key,
        s.policy_kind,
        s.resource_arn,
        s.statement_index,
        s.effect,
        s.principal_aws,
        s.not_principal_json,
        s.condition_json,
        s.condition_keys,
        list_has_any(s.keys_read, ['aws:principalarn', 'aws:username', 'aws:userid'])
        or len(list_filter(s.keys_read, lambda k: k like 'aws:principaltag/%')) > 0
            as reads_identity,
        list_contains(s.keys_read, 'aws:principalaccount') as reads_account,
        list_has_any(s.keys_read, ['aws:principalorgid', 'aws:principalorgpaths'])
            as reads_org,
        list_contains(s.keys_read, 'aws:principaltype') as reads_type,
        list_contains(s.keys_read, 'aws:sourcearn') as reads_source_arn,
        -- aws:TokenIssueTime: bounded by the run's date, and absent only for a user's own keys
        list_contains(s.keys_read, 'aws:tokenissuetime') as reads_session_time,
        list_transform(coalesce(s.principal_services, []), lambda n: lower(n))
            as principal_services,
        case
            when s.not_principal_json is null or s.not_principal_json = 'null' then null
            when json_type(s.not_principal_json) = 'VARCHAR'
                then [s.not_principal_json ->> '$']
            when json_type(s.not_principal_json, '$.AWS') = 'ARRAY'
                then json_extract_string(s.not_principal_json, '$.AWS[*]')
            when json_type(s.not_principal_json, '$.AWS') = 'VARCHAR'
                then [s.not_principal_json ->> '$.AWS']
            else []::varchar[]
        end as not_principals
    from conditional as s
),

documents as (
    select policy_key, account_id from stg_policy_documents
),

compute as (
    -- the compute that runs as a role, and the service principal that assumes it for it
    select
        function_arn as compute_arn,
        account_id,
        role_arn,
        'lambda.amazonaws.com' as service
    from raw_lambda_functions
    where role_arn is not null
    union
    select
        i.arn,
        i.account_id,
        p.role_arn,
        'ec2.amazonaws.com'
    from raw_ec2_instances as i
    inner join raw_iam_instance_profiles as p on p.arn = i.instance_profile_arn
    where i.state is distinct from 'terminated' and p.role_arn is not null
),

identities as (
    select * from int_identities
    where principal_type in ('user', 'role')
),

organization as (
    select organization_id, management_account_id from raw_org_organization
    limit 1
),

org_accounts as (
    -- the organization's accounts and their paths o-id/r-root/ou-…/ (aws:…OrgPaths)
    select account_id, org_path from int_account_org_paths
),

bucket_owners as (
    -- as explain: s3/list-buckets.json wins over the account whose folder holds the policy
    select
        coalesce(b.bucket, p.bucket) as bucket,
        coalesce(b.account_id, p.account_id) as account_id
    from (select bucket, any_value(account_id) as account_id from raw_s3_buckets group by bucket)
        as b
    full outer join (
        select bucket, any_value(account_id) as account_id
        from raw_s3_bucket_policies group by bucket
    ) as p on p.bucket = b.bucket
),

resources as (
    select
        s.policy_key,
        s.resource_arn,
        coalesce(
            case
                when regexp_full_match(split_part(s.resource_arn, ':', 5), '[0-9]{12}')
                    then split_part(s.resource_arn, ':', 5)
            end,
            b.account_id,
            case when s.resource_arn not like 'arn:%:s3:::%' then d.account_id end
        ) as resource_account
    from (select distinct policy_key, resource_arn from statements) as s
    left join documents as d on d.policy_key = s.policy_key
    left join bucket_owners as b
        on s.resource_arn like 'arn:%:s3:::%'
        and b.bucket = split_part(split_part(s.resource_arn, ':::', 2), '/', 1)
),

resource_facts as (
    select
        r.policy_key,
        r.resource_account,
        r.resource_account in (select account_id from org_accounts) as resource_org_member,
        p.org_path as resource_org_path,
        -- the snapshot collects the tags of IAM users and roles (a trust policy's resource)
        case when t.principal_arn is not null then coalesce(t.tags_json, '[]') end
            as resource_tags_json
    from resources as r
    left join org_accounts as p on p.account_id = r.resource_account
    left join identities as t on t.principal_arn = r.resource_arn
),

matches as (
    select
        s.policy_key,
        s.statement_index,
        i.principal_arn,
        case
            when s.not_principals is not null then
                case
                    when s.effect = 'Deny' and i.boundary_policy_key is not null then 'named'
                    when list_has_any(s.not_principals, [
                        i.principal_arn, 'arn:aws:iam::' || i.account_id || ':root', i.account_id
                    ]) then null
                    else 'named'
                end
            when list_contains(s.principal_aws, i.principal_arn) then 'named'
            when i.principal_type = 'role' and (
                list_contains(s.principal_aws, '*')
                or len(list_filter(s.principal_aws, lambda n: starts_with(
                    n, 'arn:aws:sts::' || i.account_id || ':assumed-role/' || i.name || '/'
                ))) > 0
            ) then 'session'
            when i.principal_type = 'user' and list_contains(s.principal_aws, '*')
                then 'wildcard'
            when list_has_any(
                s.principal_aws, ['arn:aws:iam::' || i.account_id || ':root', i.account_id]
            ) then 'account'
        end as principal_match
    from statements as s
    cross join identities as i
    where s.principal_aws is not null or s.not_principals is not null
),

final as (
    select
        m.policy_key,
        m.statement_index,
        m.principal_arn,
        s.policy_kind,
        s.resource_arn,
        s.effect,
        m.principal_match,
        s.condition_json,
        s.condition_keys,
        to_json({
            'principal_arn': case when s.reads_identity then i.principal_arn else '' end,
            'principal_type':
                case
                    when s.reads_identity or s.reads_type or s.reads_session_time
                        then i.principal_type
                    else 'role'
                end,
            'account_id':
                case when s.reads_identity or s.reads_account then i.account_id else '' end,
            'name': case when s.reads_identity then i.name else '' end,
            'unique_id': case when s.reads_identity then coalesce(u.user_id, r.role_id) end,
            'tags_json': case when s.reads_identity then i.tags_json end,
            'org_id': o.organization_id,
            'org_member': s.reads_org and i.account_id in (select account_id from org_accounts),
            'org_path': case when s.reads_org then p.org_path end,
            'resource_account': f.resource_account,
            'resource_org_member': coalesce(f.resource_org_member, false),
            'resource_org_path': f.resource_org_path,
            'resource_tags_json': f.resource_tags_json,
            'as_of': case when s.reads_session_time then (select as_of from run_params)::varchar end
        })::varchar as facts_json
    from matches as m
    inner join statements as s
        on s.policy_key = m.policy_key
        and s.statement_index = m.statement_index
    inner join identities as i on i.principal_arn = m.principal_arn
    left join raw_iam_users as u on u.arn = i.principal_arn
    left join raw_iam_roles as r on r.arn = i.principal_arn
    left join organization as o on true
    left join org_accounts as p on p.account_id = i.account_id
    left join resource_facts as f on f.policy_key = m.policy_key
    where m.principal_match is not null
),

service_rows as (
    select
        s.policy_key,
        s.statement_index,
        c.compute_arn as principal_arn,
        s.policy_kind,
        s.resource_arn,
        s.effect,
        'service' as principal_match,
        s.condition_json,
        s.condition_keys,
        to_json({
            'principal_type': 'service',
            'service': c.service,
            'source_account': c.account_id,
            'source_arn': case when s.reads_source_arn then c.compute_arn end,
            'org_id': o.organization_id,
            'resource_account': f.resource_account,
            'resource_org_member': coalesce(f.resource_org_member, false),
            'resource_org_path': f.resource_org_path,
            'resource_tags_json': f.resource_tags_json
        })::varchar as facts_json
    from statements as s
    inner join compute as c
        on c.role_arn = s.resource_arn
        and list_contains(s.principal_services, c.service)
    left join organization as o on true
    left join resource_facts as f on f.policy_key = s.policy_key
    where s.policy_kind = 'trust'
)

select * from final
union all
select * from service_rows
