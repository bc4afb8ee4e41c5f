-- int_scp_deny_actions
-- Every catalog action an explicit Deny of an SCP names, per account and level: the same for
-- every policy set of the account.
-- grain: account_id, node_id, policy_key, statement_index, action

with scp_statements as (
    select * from int_scp_statements
),

expanded as (
    select * from int_statement_actions_expanded
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
