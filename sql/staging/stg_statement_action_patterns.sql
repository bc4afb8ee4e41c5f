-- stg_statement_action_patterns
-- One row per action pattern of a statement (from Action or NotAction), lower-cased, split into
-- its service prefix so exact and wildcard patterns can be matched against the catalog apart.
-- grain: policy_key, statement_index, pattern

with statements as (
    select * from stg_policy_statements
),

patterns as (
    select
        policy_key,
        statement_index,
        unnest(coalesce(actions, not_actions)) as pattern,
        not_actions is not null as is_not_action
    from statements
),

final as (
    select distinct
        policy_key,
        statement_index,
        pattern,
        is_not_action,
        split_part(pattern, ':', 1) as pattern_service,
        pattern like '%*%' or pattern like '%?%' as is_wildcard
    from patterns
)

select * from final
