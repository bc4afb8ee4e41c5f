-- stg_trust_conditions
-- One row per condition entry (operator, key) of every role trust policy statement. The operator
-- is split into its set qualifier (`ForAnyValue` / `ForAllValues`), its base operator
-- (lower-cased, e.g. `stringlike`) and its `IfExists` suffix; condition keys are lower-cased (IAM
-- matches them case-insensitively) and values always become a list of text (a single value, a
-- boolean or a number is a one-element list). Deny statements' entries are here too:
-- int_role_trust_principals reads perimeter Denies from them.
-- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
-- grain: policy_key, statement_index, operator, condition_key

with statements as (
    select * from stg_policy_statements
    where policy_kind = 'trust'
        and has_condition
        and json_type(condition_json::json) = 'OBJECT'
),

operators as (
    select
        s.policy_key,
        s.resource_arn as role_arn,
        s.statement_index,
        s.condition_json::json as condition,
        o.operator
    from statements as s,
        unnest(json_keys(s.condition_json::json)) as o(operator)
    where json_type(s.condition_json::json -> o.operator) = 'OBJECT'
),

entries as (
    select
        o.policy_key,
        o.role_arn,
        o.statement_index,
        o.operator,
        k.condition_key,
        o.condition -> o.operator -> k.condition_key as value_json
    from operators as o,
        unnest(json_keys(o.condition -> o.operator)) as k(condition_key)
),

final as (
    select
        policy_key,
        role_arn,
        statement_index,
        operator,
        lower(condition_key) as condition_key,
        condition_key as condition_key_as_written,
        lower(regexp_replace(
            regexp_replace(operator, '^(ForAnyValue|ForAllValues):', '', 'i'), 'IfExists$', '', 'i'
        )) as base_operator,
        case
            when regexp_matches(operator, '^ForAnyValue:', 'i') then 'ForAnyValue'
            when regexp_matches(operator, '^ForAllValues:', 'i') then 'ForAllValues'
        end as set_qualifier,
        regexp_matches(operator, 'IfExists$', 'i') as if_exists,
        case json_type(value_json)
            when 'ARRAY' then from_json(value_json, '["varchar"]')
            else [value_json ->> '$']
        end as condition_values
    from entries
)

select * from final
