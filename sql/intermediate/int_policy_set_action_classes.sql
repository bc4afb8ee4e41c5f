-- int_policy_set_action_classes
-- The action classes of every policy set (see int_policy_set_class_actions): `patterns`, the
-- set's patterns that match the class's actions (none for the rest class: the actions no pattern
-- of the set names other than `*`), and how many catalog actions the class holds. The policy
-- evaluation runs once per class; an organization whose policies say `*`, NotAction or
-- `*:Get*` has a few dozen classes per set instead of one row per catalog action.
-- grain: policy_set_key, class_key
-- partition: principal_bucket

with sets as (
    select * from int_principal_policy_sets
    where is_representative
),

class_actions as (
    select * from int_policy_set_class_actions
),

catalog as (
    select action from ref_iam_actions
),

named_classes as (
    select policy_set_key, class_key, any_value(patterns) as patterns, count(*) as actions
    from class_actions
    group by policy_set_key, class_key
),

final as (
    select policy_set_key, class_key, patterns, actions, false as is_rest_class
    from named_classes

    union all

    select
        s.policy_set_key,
        md5('') as class_key,
        []::varchar[] as patterns,
        (select count(*) from catalog) - coalesce(sum(n.actions), 0) as actions,
        true as is_rest_class
    from sets as s
    left join named_classes as n on n.policy_set_key = s.policy_set_key
    group by s.policy_set_key
    having (select count(*) from catalog) - coalesce(sum(n.actions), 0) > 0
)

select * from final
