-- stg_policy_documents
-- Every policy document of the snapshot under one key: managed policies (their default
-- version; permission boundaries are managed policies too), inline policies of users, groups
-- and roles, the organization's SCPs/RCPs, and resource-based policies: S3 bucket policies, the
-- regional resource policies (KMS keys, Lambda functions, SQS queues, SNS topics, Secrets Manager
-- secrets) and role trust policies (`resource_arn` names the resource they are attached to).
-- grain: policy_key

with managed as (
    select * from raw_iam_policies
),

inline as (
    select * from raw_iam_inline_policies
),

org_policies as (
    select * from raw_org_policies
),

bucket_policies as (
    select * from raw_s3_bucket_policies
),

resource_policies as (
    select * from raw_resource_policies
),

roles as (
    select * from raw_iam_roles
),

final as (
    select
        account_id || '|' || policy_arn as policy_key,
        'managed' as policy_kind,
        policy_name,
        policy_arn,
        account_id,
        null::varchar as principal_arn,
        null::varchar as resource_arn,
        document
    from managed
    where document is not null

    union all

    select
        principal_arn || '|inline|' || policy_name as policy_key,
        'inline' as policy_kind,
        policy_name,
        null::varchar as policy_arn,
        account_id,
        principal_arn,
        null::varchar as resource_arn,
        document
    from inline
    where document is not null

    union all

    select
        'org|' || policy_id as policy_key,
        case type
            when 'SERVICE_CONTROL_POLICY' then 'scp'
            when 'RESOURCE_CONTROL_POLICY' then 'rcp'
            else lower(type)
        end as policy_kind,
        name as policy_name,
        arn as policy_arn,
        null::varchar as account_id,
        null::varchar as principal_arn,
        null::varchar as resource_arn,
        document
    from org_policies
    where document is not null

    union all

    select
        'resource|arn:aws:s3:::' || bucket as policy_key,
        'resource' as policy_kind,
        bucket as policy_name,
        null::varchar as policy_arn,
        account_id,
        null::varchar as principal_arn,
        'arn:aws:s3:::' || bucket as resource_arn,
        document
    from bucket_policies
    where document is not null

    union all

    select
        'resource|' || resource_arn as policy_key,
        'resource' as policy_kind,
        resource_name as policy_name,
        null::varchar as policy_arn,
        account_id,
        null::varchar as principal_arn,
        resource_arn,
        document
    from resource_policies
    where document is not null

    union all

    select
        'trust|' || arn as policy_key,
        'trust' as policy_kind,
        role_name as policy_name,
        null::varchar as policy_arn,
        account_id,
        null::varchar as principal_arn,
        arn as resource_arn,
        assume_role_policy_document as document
    from roles
    where assume_role_policy_document is not null
)

select * from final
