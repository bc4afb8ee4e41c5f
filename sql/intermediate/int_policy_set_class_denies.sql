-- int_policy_set_class_denies
-- Every action class (int_policy_set_action_classes) that an explicit Deny of a policy set
-- covers: of its identity policies and its boundary (`source` 'identity' / 'boundary'), and of
-- the SCPs of its account when SCPs apply (`source` 'scp:<node_id>', one row per level the SCP
-- is attached at), with the Deny's Resource/NotResource and Condition, as the evaluation models
-- compare them against the grants. `class_key` stands for every catalog action of the class.
-- grain: policy_set_key, source, policy_key, statement_index, class_key
-- partition: principal_bucket

with set_statements as (
    select * from int_policy_set_statements
),

scp_statements as (
    -- the set's SCP statements, their Conditions resolved for it
    select * from int_policy_set_scp_statements
),

class_statements as (
    select * from int_policy_set_class_statements
),

denies as (
    select
        policy_set_key,
        source,
        policy_key,
        statement_index,
        has_condition,
        condition_keys,
        applies_to_all_resources,
        resources,
        not_resources,
        resource_likes
    from set_statements
    where effect = 'Deny'

    union all

    select
        c.policy_set_key,
        c.source,
        c.policy_key,
        c.statement_index,
        c.has_condition,
        c.condition_keys,
        c.applies_to_all_resources,
        c.resources,
        c.not_resources,
        c.resource_likes
    from scp_statements as c
    where c.effect = 'Deny'
),

final as (
    select
        d.policy_set_key,
        d.source,
        d.policy_key,
        d.statement_index,
        cs.class_key,
        d.has_condition,
        d.condition_keys,
        d.applies_to_all_resources,
        d.resources,
        d.not_resources,
        d.resource_likes
    from denies as d
    inner join class_statements as cs
        on cs.policy_set_key = d.policy_set_key
        and cs.policy_key = d.policy_key
        and cs.statement_index = d.statement_index
)

select * from final
