-- int_set_deny_actions
-- Every catalog action an explicit Deny of a policy set names (its identity policies and its
-- boundary), with the Deny's Resource/NotResource and Condition, as the evaluation models
-- compare them against the grants.
-- grain: policy_set_key, source, policy_key, statement_index, action

with set_statements as (
    select * from int_policy_set_statements
),

expanded as (
    select * from int_statement_actions_expanded
),

final as (
    select
        d.policy_set_key,
        d.source,
        d.policy_key,
        d.statement_index,
        e.action,
        d.has_condition,
        d.condition_keys,
        d.applies_to_all_resources,
        d.resources,
        d.not_resources,
        d.resource_likes
    from set_statements as d
    inner join expanded as e
        on e.policy_key = d.policy_key
        and e.statement_index = d.statement_index
    where d.effect = 'Deny'
)

select * from final
