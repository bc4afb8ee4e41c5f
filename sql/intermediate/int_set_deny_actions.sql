-- int_set_deny_actions
-- Every catalog action an explicit Deny of a policy set names (its identity policies and its
-- boundary), with the Deny's Resource/NotResource and Condition. Derived from the class-level
-- Denies (int_policy_set_class_denies, which the evaluation models use): each Deny row stands for
-- every action of the class it covers (int_policy_set_class_actions; the rest class: every
-- catalog action no pattern of the set names).
-- grain: policy_set_key, source, policy_key, statement_index, action
-- partition: principal_bucket

with class_denies as materialized (
    select * from int_policy_set_class_denies
    where source in ('identity', 'boundary')
),

class_actions as materialized (
    select policy_set_key, action, class_key from int_policy_set_class_actions
),

catalog as (
    select action from ref_iam_actions
),

rest_actions as (
    select s.policy_set_key, c.action, md5('') as class_key
    from (
        select distinct policy_set_key from class_denies where class_key = md5('')
    ) as s
    cross join catalog as c
    anti join class_actions as n
        on n.policy_set_key = s.policy_set_key
        and n.action = c.action
),

final as (
    select
        d.policy_set_key,
        d.source,
        d.policy_key,
        d.statement_index,
        a.action,
        d.has_condition,
        d.condition_keys,
        d.applies_to_all_resources,
        d.resources,
        d.not_resources,
        d.resource_likes
    from class_denies as d
    inner join (
        select * from class_actions
        union all
        select * from rest_actions
    ) as a
        on a.policy_set_key = d.policy_set_key
        and a.class_key = d.class_key
)

select * from final
