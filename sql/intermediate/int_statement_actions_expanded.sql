-- int_statement_actions_expanded
-- One row per (statement, catalog action) that the statement's Action covers, or — for a
-- NotAction statement — every catalog action its NotAction does not cover, from the patterns
-- expanded once each (int_action_patterns_expanded). A view: `*` and NotAction statements
-- would be a statement × catalog product if stored; the policy evaluation expands only the
-- statements of one principal bucket at a time (int_bucket_statement_actions).
-- grain: policy_key, statement_index, action
-- materialized: view

with patterns as (
    select * from stg_statement_action_patterns
),

expanded as (
    select * from int_action_patterns_expanded
),

catalog as (
    select action from ref_iam_actions
),

statements as (
    select policy_key, statement_index, not_actions is not null as is_not_action
    from stg_policy_statements
),

matched as (
    select p.policy_key, p.statement_index, p.is_not_action, e.action
    from patterns as p
    inner join expanded as e on e.pattern = p.pattern
),

action_rows as (
    select distinct policy_key, statement_index, action
    from matched
    where not is_not_action
),

not_action_rows as (
    select s.policy_key, s.statement_index, c.action
    from statements as s
    cross join catalog as c
    anti join (select * from matched where is_not_action) as m
        on m.policy_key = s.policy_key
        and m.statement_index = s.statement_index
        and m.action = c.action
    where s.is_not_action
),

final as (
    select policy_key, statement_index, action from action_rows
    union all
    select policy_key, statement_index, action from not_action_rows
)

select * from final
