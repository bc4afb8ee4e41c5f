-- int_resource_config_current
-- The configuration of this run's snapshot that explains detections, one row per (resource,
-- configuration item) with a fingerprint that changes when the item changes: the resource itself
-- (`exists`), attached managed policies (fingerprint: default version and document), inline
-- policies, a role's trust policy, permission boundaries, group memberships (on the user),
-- access keys (one item per key, from the credential report; fingerprint: active or not) and the
-- role a compute resource runs as. The `resource_config_history` asset appends it to the lake per
-- as-of date; `detection_timeline` compares consecutive runs.
-- A policy's fingerprint (managed, inline, trust) is that of its canonical form, so the same
-- policy in AWS's equivalent spellings has the same fingerprint: Statement an object or a list,
-- a string or a one-element list, object keys and list items in any order, actions and condition
-- keys in any case, an account root as its ARN or its bare id. It is written
-- `c1:<canonical md5>;<raw-text fingerprint>`: the raw-text part (the fingerprint before the
-- canonical form) lets `detection_timeline` compare it with history recorded before.
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

policy_texts as (
    -- Every policy document that a fingerprint below covers.
    select document from raw_iam_policies
    union all
    select document from inline_policies
    union all
    select assume_role_policy_document from roles
),

documents as (
    select distinct document, document::json as doc
    from policy_texts
    where document is not null and json_valid(document)
),

statements as (
    select
        document,
        unnest(case json_type(doc -> '$.Statement')
            when 'ARRAY' then from_json(doc -> '$.Statement', '["json"]')
            when 'OBJECT' then [doc -> '$.Statement']
            else []::json[]
        end) as stmt
    from documents
),

canonical_statements as (
    select
        document,
        to_json({
            'Sid': stmt ->> '$.Sid',
            'Effect': stmt ->> '$.Effect',
            'Action': list_sort(list_distinct(list_transform(
                case json_type(stmt -> '$.Action')
                    when 'ARRAY' then from_json(stmt -> '$.Action', '["varchar"]')
                    when 'VARCHAR' then [stmt ->> '$.Action']
                end, lambda a: lower(a)))),
            'NotAction': list_sort(list_distinct(list_transform(
                case json_type(stmt -> '$.NotAction')
                    when 'ARRAY' then from_json(stmt -> '$.NotAction', '["varchar"]')
                    when 'VARCHAR' then [stmt ->> '$.NotAction']
                end, lambda a: lower(a)))),
            'Resource': list_sort(list_distinct(
                case json_type(stmt -> '$.Resource')
                    when 'ARRAY' then from_json(stmt -> '$.Resource', '["varchar"]')
                    when 'VARCHAR' then [stmt ->> '$.Resource']
                end)),
            'NotResource': list_sort(list_distinct(
                case json_type(stmt -> '$.NotResource')
                    when 'ARRAY' then from_json(stmt -> '$.NotResource', '["varchar"]')
                    when 'VARCHAR' then [stmt ->> '$.NotResource']
                end)),
            'Principal': case json_type(stmt -> '$.Principal')
                when 'OBJECT' then to_json(list_sort(list_transform(
                    map_entries(try_cast(stmt -> '$.Principal' as map(varchar, json))),
                    lambda e: {'type': e.key, 'values': list_sort(list_distinct(list_transform(
                        case json_type(e.value)
                            when 'ARRAY' then from_json(e.value, '["varchar"]')
                            else [e.value ->> '$']
                        end,
                        -- an account's root written as its bare id (AWS stores the ARN)
                        lambda v: regexp_replace(v, '^arn:aws[a-z-]*:iam::([0-9]{12}):root$', '\1')
                    )))}
                )))
                else stmt -> '$.Principal'
            end,
            'NotPrincipal': case json_type(stmt -> '$.NotPrincipal')
                when 'OBJECT' then to_json(list_sort(list_transform(
                    map_entries(try_cast(stmt -> '$.NotPrincipal' as map(varchar, json))),
                    lambda e: {'type': e.key, 'values': list_sort(list_distinct(list_transform(
                        case json_type(e.value)
                            when 'ARRAY' then from_json(e.value, '["varchar"]')
                            else [e.value ->> '$']
                        end,
                        -- an account's root written as its bare id (AWS stores the ARN)
                        lambda v: regexp_replace(v, '^arn:aws[a-z-]*:iam::([0-9]{12}):root$', '\1')
                    )))}
                )))
                else stmt -> '$.NotPrincipal'
            end,
            'Condition': case json_type(stmt -> '$.Condition')
                when 'OBJECT' then to_json(list_sort(list_transform(
                    map_entries(try_cast(stmt -> '$.Condition' as map(varchar, json))),
                    lambda op: {'operator': op.key, 'keys': list_sort(list_transform(
                        map_entries(try_cast(op.value as map(varchar, json))),
                        lambda k: {'key': lower(k.key), 'values': list_sort(list_distinct(
                            case json_type(k.value)
                                when 'ARRAY' then from_json(k.value, '["varchar"]')
                                else [k.value ->> '$']
                            end
                        ))}
                    ))}
                )))
                else stmt -> '$.Condition'
            end
        })::varchar as statement_text
    from statements
),

canonical_documents as (
    -- One fingerprint per meaning: see the header.
    select
        d.document,
        md5(to_json({
            'Version': d.doc ->> '$.Version',
            'Id': d.doc ->> '$.Id',
            'Statement': list(s.statement_text order by s.statement_text)
        })::varchar) as canonical_md5
    from documents as d
    left join canonical_statements as s on s.document = d.document
    group by d.document, d.doc
),

policies as (
    select
        p.policy_arn,
        any_value(p.policy_name) as policy_name,
        max(coalesce(p.default_version_id, '') || ':' || md5(coalesce(p.document, ''))) as version,
        max(
            coalesce(p.default_version_id, '') || ':'
            || coalesce(c.canonical_md5, md5(coalesce(p.document, '')))
        ) as canonical_version
    from raw_iam_policies as p
    left join canonical_documents as c on c.document = p.document
    group by p.policy_arn
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
        'c1:' || coalesce(p.canonical_version, '') || ';' || coalesce(p.version, '')
            as fingerprint,
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
        'c1:' || coalesce(c.canonical_md5, md5(i.document)) || ';' || md5(i.document),
        to_json({'kind': 'inline', 'policy_name': i.policy_name})::varchar
    from inline_policies as i
    inner join principal_types as t on t.arn = i.principal_arn
    left join canonical_documents as c on c.document = i.document
),

trust as (
    select
        r.arn, 'iam_role', r.account_id, 'trust_policy', '',
        'c1:' || coalesce(c.canonical_md5, md5(coalesce(r.assume_role_policy_document, '')))
        || ';' || md5(coalesce(r.assume_role_policy_document, '')),
        to_json({'document': r.assume_role_policy_document})::varchar
    from roles as r
    left join canonical_documents as c on c.document = r.assume_role_policy_document
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
