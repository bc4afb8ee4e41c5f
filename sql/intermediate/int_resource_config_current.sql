-- int_resource_config_current
-- The configuration of this run's snapshot that explains detections, one row per (resource,
-- configuration item) with a fingerprint that changes when the item changes: the resource itself
-- (`exists`), attached managed policies (fingerprint: default version and document), inline
-- policies, a role's trust policy, permission boundaries, group memberships (on the user),
-- access keys (one item per key, from the credential report; fingerprint: active or not) and the
-- role a compute resource runs as. The `resource_config_history` asset appends it to the lake per
-- as-of date; `detection_timeline` compares consecutive runs.
-- grain: resource_arn, config_type, config_key

with users as (
    select * from raw_iam_users
),

groups as (
    select * from raw_iam_groups
),

roles as (
    select * from raw_iam_roles
),

attachments as (
    select * from raw_iam_policy_attachments
),

inline_policies as (
    select * from raw_iam_inline_policies
),

policies as (
    select
        policy_arn,
        any_value(policy_name) as policy_name,
        max(coalesce(default_version_id, '') || ':' || md5(coalesce(document, ''))) as version
    from raw_iam_policies
    group by policy_arn
),

memberships as (
    select * from raw_iam_group_memberships
),

credential_report as (
    select * from raw_credential_report
),

instances as (
    select * from raw_ec2_instances
    where coalesce(state, '') not in ('terminated', 'shutting-down')
),

instance_profiles as (
    select * from raw_iam_instance_profiles
),

functions as (
    select * from raw_lambda_functions
),

iam_principals as (
    select arn, 'iam_user' as resource_type, account_id, permissions_boundary_arn from users
    union all
    select arn, 'iam_role', account_id, permissions_boundary_arn from roles
    union all
    select arn, 'iam_group', account_id, null from groups
),

principal_types as (
    select arn, resource_type from iam_principals
),

existing as (
    select
        arn as resource_arn, resource_type, account_id, 'exists' as config_type,
        '' as config_key, 'exists' as fingerprint, null::varchar as details
    from iam_principals
    union all
    select
        arn, 'ec2_instance', account_id, 'exists', '', 'exists',
        to_json({'instance_id': instance_id, 'region': region})::varchar
    from instances
    union all
    select
        function_arn, 'lambda_function', account_id, 'exists', '', 'exists',
        to_json({'function_name': function_name, 'region': region})::varchar
    from functions
),

managed as (
    select
        a.principal_arn as resource_arn,
        t.resource_type,
        a.account_id,
        'managed_policy' as config_type,
        a.policy_arn as config_key,
        coalesce(p.version, '') as fingerprint,
        to_json({
            'kind': 'managed',
            'policy_arn': a.policy_arn,
            'policy_name': coalesce(p.policy_name, split_part(a.policy_arn, '/', -1)),
            'version': p.version
        })::varchar as details
    from attachments as a
    inner join principal_types as t on t.arn = a.principal_arn
    left join policies as p on p.policy_arn = a.policy_arn
),

inline as (
    select
        i.principal_arn,
        t.resource_type,
        i.account_id,
        'inline_policy',
        i.policy_name,
        md5(i.document),
        to_json({'kind': 'inline', 'policy_name': i.policy_name})::varchar
    from inline_policies as i
    inner join principal_types as t on t.arn = i.principal_arn
),

trust as (
    select
        arn, 'iam_role', account_id, 'trust_policy', '',
        md5(coalesce(assume_role_policy_document, '')),
        to_json({'document': assume_role_policy_document})::varchar
    from roles
),

boundaries as (
    select
        arn, resource_type, account_id, 'permissions_boundary', '', permissions_boundary_arn,
        to_json({'policy_arn': permissions_boundary_arn})::varchar
    from iam_principals
    where permissions_boundary_arn is not null
),

group_memberships as (
    select
        m.user_arn, 'iam_user', m.account_id, 'group_membership', m.group_arn, 'member',
        to_json({'group_arn': m.group_arn, 'group_name': split_part(m.group_arn, '/', -1)})::varchar
    from memberships as m
),

access_keys as (
    -- A key is identified by its creation (last_rotated) time: a new key is a new item.
    select
        c.arn,
        case when c.user = '<root_account>' then 'aws_account' else 'iam_user' end,
        c.account_id,
        'access_key',
        'access_key_' || k.slot || '@' || strftime(k.created_at, '%Y-%m-%dT%H:%M:%SZ'),
        case when k.active then 'active' else 'inactive' end,
        to_json({
            'slot': k.slot,
            'created_at': strftime(k.created_at, '%Y-%m-%dT%H:%M:%SZ'),
            'active': k.active
        })::varchar
    from credential_report as c
    cross join lateral (
        select 1 as slot, c.access_key_1_last_rotated as created_at,
            coalesce(c.access_key_1_active, false) as active
        union all
        select 2, c.access_key_2_last_rotated, coalesce(c.access_key_2_active, false)
    ) as k
    where k.created_at is not null
),

compute_roles as (
    select
        i.arn, 'ec2_instance', i.account_id, 'compute_role', '',
        coalesce(p.role_arn, i.instance_profile_arn),
        to_json({'instance_profile_arn': i.instance_profile_arn, 'role_arn': p.role_arn})::varchar
    from instances as i
    left join instance_profiles as p on p.arn = i.instance_profile_arn
    where i.instance_profile_arn is not null
    union all
    select
        function_arn, 'lambda_function', account_id, 'compute_role', '', role_arn,
        to_json({'role_arn': role_arn})::varchar
    from functions
    where role_arn is not null
),

final as (
    select * from existing
    union all select * from managed
    union all select * from inline
    union all select * from trust
    union all select * from boundaries
    union all select * from group_memberships
    union all select * from access_keys
    union all select * from compute_roles
)

select distinct * from final
