-- int_statement_actions_expanded
-- One row per (statement, catalog action) that the statement's Action covers, or — for a
-- NotAction statement — every catalog action its NotAction does not cover. Exact patterns
-- are hash-joined; wildcard patterns are joined on their service prefix, then globbed (`*` and
-- `?` are IAM's only wildcards; both sides are lower-case, as IAM matches actions
-- case-insensitively). A pattern that names no catalog action matches nothing.
-- grain: policy_key, statement_index, action

with patterns as (
    select * from stg_statement_action_patterns
),

catalog as (
    select action, service from ref_iam_actions
),

statements as (
    select policy_key, statement_index, not_actions is not null as is_not_action
    from stg_policy_statements
),

exact_matches as (
    select p.policy_key, p.statement_index, p.is_not_action, c.action
    from patterns as p
    inner join catalog as c on c.action = p.pattern
    where not p.is_wildcard
),

prefix_matches as (
    select p.policy_key, p.statement_index, p.is_not_action, c.action
    from patterns as p
    inner join catalog as c on c.service = p.pattern_service
    where p.is_wildcard
        and not (p.pattern_service like '%*%' or p.pattern_service like '%?%')
        and c.action glob p.pattern
),

global_matches as (
    -- '*' alone, or a wildcard inside the service prefix ('*:get*', 's3*:list*')
    select p.policy_key, p.statement_index, p.is_not_action, c.action
    from patterns as p
    inner join catalog as c on c.action glob p.pattern
    where p.is_wildcard
        and (p.pattern_service like '%*%' or p.pattern_service like '%?%')
),

matched as (
    select * from exact_matches
    union
    select * from prefix_matches
    union
    select * from global_matches
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
