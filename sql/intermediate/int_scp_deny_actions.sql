-- int_scp_deny_actions
-- Every catalog action an explicit Deny of an SCP names, per account and level: the same for
-- every policy set of the account.
-- grain: account_id, node_id, policy_key, statement_index, action

with scp_statements as (
    select * from int_scp_statements
),

needed as (
    select distinct policy_key, statement_index from scp_statements where effect = 'Deny'
),

needed_statements as (
    select s.policy_key, s.statement_index, s.not_actions is not null as is_not_action
    from stg_policy_statements as s
    semi join needed as n
        on n.policy_key = s.policy_key
        and n.statement_index = s.statement_index
),

matched as (
    -- The statements' patterns, expanded once each (int_action_patterns_expanded).
    select p.policy_key, p.statement_index, p.is_not_action, e.action
    from stg_statement_action_patterns as p
    semi join needed as n
        on n.policy_key = p.policy_key
        and n.statement_index = p.statement_index
    inner join int_action_patterns_expanded as e on e.pattern = p.pattern
),

expanded as (
    -- As int_statement_actions_expanded, for these statements only.
    select distinct policy_key, statement_index, action
    from matched
    where not is_not_action
    union all
    select s.policy_key, s.statement_index, c.action
    from needed_statements as s
    cross join ref_iam_actions as c
    anti join (select * from matched where is_not_action) as m
        on m.policy_key = s.policy_key
        and m.statement_index = s.statement_index
        and m.action = c.action
    where s.is_not_action
),

final as (
    select
        s.account_id,
        s.source,
        s.node_id,
        s.policy_key,
        s.statement_index,
        e.action,
        s.has_condition,
        s.condition_keys,
        s.applies_to_all_resources,
        s.resources,
        s.not_resources,
        s.resource_likes
    from scp_statements as s
    inner join expanded as e
        on e.policy_key = s.policy_key
        and e.statement_index = s.statement_index
    where s.effect = 'Deny'
)

select * from final
