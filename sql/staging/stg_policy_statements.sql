-- stg_policy_statements
-- One row per statement of every policy document. Action/NotAction/Resource/NotResource
-- accept a string or a list in IAM's grammar; both become lists here. Actions are
-- lower-cased (IAM matches them case-insensitively) and otherwise kept as written: IAM does not
-- trim them, so `"s3:GetObject   "` names no action and matches nothing
-- (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html);
-- resources keep their case (ARNs are
-- matched case-sensitively). `resource_likes` / `not_resource_likes` are the same patterns as
-- LIKE patterns (IAM's only wildcards `*` and `?` become `%` and `_`, the rest escaped), so models
-- match ARNs exactly as IAM does. `condition_keys` are the Condition's keys, lower-cased (IAM
-- matches condition keys case-insensitively). `principal_aws` lists a resource or trust policy's
-- AWS principals (`*` for `"Principal": "*"`), `principal_services` its service principals.
-- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
-- grain: policy_key, statement_index

with documents as (
    select * from stg_policy_documents
),

statement_lists as (
    select
        policy_key,
        policy_kind,
        resource_arn,
        case json_type(document::json -> '$.Statement')
            when 'ARRAY' then from_json(document::json -> '$.Statement', '["json"]')
            when 'OBJECT' then [document::json -> '$.Statement']
        end as statements
    from documents
),

unnested as (
    select
        l.policy_key,
        l.policy_kind,
        l.resource_arn,
        s.statement_index - 1 as statement_index,
        s.stmt
    from statement_lists as l,
        unnest(l.statements) with ordinality as s(stmt, statement_index)
),

parsed as (
    select
        policy_key,
        policy_kind,
        resource_arn,
        statement_index,
        stmt ->> '$.Sid' as sid,
        stmt ->> '$.Effect' as effect,
        case json_type(stmt -> '$.Action')
            when 'ARRAY' then from_json(stmt -> '$.Action', '["varchar"]')
            when 'VARCHAR' then [stmt ->> '$.Action']
        end as action_list,
        case json_type(stmt -> '$.NotAction')
            when 'ARRAY' then from_json(stmt -> '$.NotAction', '["varchar"]')
            when 'VARCHAR' then [stmt ->> '$.NotAction']
        end as not_action_list,
        case json_type(stmt -> '$.Resource')
            when 'ARRAY' then from_json(stmt -> '$.Resource', '["varchar"]')
            when 'VARCHAR' then [stmt ->> '$.Resource']
        end as resources,
        case json_type(stmt -> '$.NotResource')
            when 'ARRAY' then from_json(stmt -> '$.NotResource', '["varchar"]')
            when 'VARCHAR' then [stmt ->> '$.NotResource']
        end as not_resources,
        (stmt -> '$.Condition')::varchar as condition_json,
        (stmt -> '$.Principal')::varchar as principal_json,
        (stmt -> '$.NotPrincipal')::varchar as not_principal_json,
        case json_type(stmt -> '$.Principal')
            when 'VARCHAR' then [stmt ->> '$.Principal']
            when 'OBJECT' then
                case json_type(stmt -> '$.Principal.AWS')
                    when 'ARRAY' then from_json(stmt -> '$.Principal.AWS', '["varchar"]')
                    when 'VARCHAR' then [stmt ->> '$.Principal.AWS']
                end
        end as principal_aws,
        case json_type(stmt -> '$.Principal.Service')
            when 'ARRAY' then from_json(stmt -> '$.Principal.Service', '["varchar"]')
            when 'VARCHAR' then [stmt ->> '$.Principal.Service']
        end as principal_services
    from unnested
),

with_conditions as (
    select
        *,
        case
            -- map entries, never JSON paths: a key written `$.x` or `/x` is that literal key
            when json_type(condition_json::json) = 'OBJECT' then list_sort(list_distinct(flatten(
                list_transform(
                    map_entries(try_cast(condition_json::json as map(varchar, json))),
                    lambda op: list_transform(
                        coalesce(map_keys(try_cast(op.value as map(varchar, json))), []),
                        lambda k: lower(k)
                    )
                )
            )))
        end as condition_key_list
    from parsed
),

final as (
    select
        policy_key,
        policy_kind,
        resource_arn,
        statement_index,
        sid,
        effect,
        list_transform(action_list, lambda a: lower(a)) as actions,
        list_transform(not_action_list, lambda a: lower(a)) as not_actions,
        resources,
        not_resources,
        list_transform(
            resources,
            lambda r: replace(replace(replace(replace(replace(
                r, '\', '\\'), '%', '\%'), '_', '\_'), '*', '%'), '?', '_')
        ) as resource_likes,
        list_transform(
            not_resources,
            lambda r: replace(replace(replace(replace(replace(
                r, '\', '\\'), '%', '\%'), '_', '\_'), '*', '%'), '?', '_')
        ) as not_resource_likes,
        condition_json,
        coalesce(condition_json not in ('{}', 'null'), false) as has_condition,
        coalesce(condition_key_list, []) as condition_keys,
        -- Applies to every resource: Resource "*" (NotResource always leaves some out).
        coalesce(list_contains(resources, '*'), false) and not_resources is null
            as applies_to_all_resources,
        principal_json,
        not_principal_json,
        principal_aws,
        principal_services
    from with_conditions
)

select * from final
